"""The Telegram-independent core: a message and a profile in, replies out."""
