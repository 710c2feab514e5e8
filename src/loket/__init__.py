"""loket: one digital assistant for a government, built from reusable blocks."""

__version__ = "0.1.0"
