"""The version of uh-knowledge-base; the only place the number is written."""

__version__ = "0.1.0"
