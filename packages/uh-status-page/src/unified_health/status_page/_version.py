"""The version of uh-status-page; the only place the number is written."""

__version__ = "0.1.0"
