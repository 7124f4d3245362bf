"""AI vendor-risk engine: inventory import, configuration libraries, scoring, reports."""

__version__ = "0.1.0"
