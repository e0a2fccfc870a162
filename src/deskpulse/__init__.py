"""deskpulse: help desk analytics from the mail a support team already has."""

__version__ = "0.1.0"
