"""The version of uh-billing; the only place the number is written."""

__version__ = "0.1.0"
