"""Soft Landing: a Telegram assistant for newcomers (FI, SE, EE, LV)."""

__version__ = "0.1.0"
