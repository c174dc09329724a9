"""The tool crib server: the domain (core, employees, items, loans), master data and operations.

The kiosk app sits beside it; config composes both."""

__version__ = "1.0.0"
