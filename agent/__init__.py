"""The kiosk agent: PC/SC reader -> SQLite outbox -> HTTPS POST to the server. Imports no Django."""

__version__ = "0.1.0"
