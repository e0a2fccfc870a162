"""Errors meant for the person running deskpulse: the CLI prints them as one line, not a traceback."""


class UserError(ValueError):
    """Something the user can fix: a config value, a path, a metric name, a store from another version."""
