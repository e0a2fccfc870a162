"""Mail: parsing, threading, quoted-text and automation detection."""
