from django import template

from kiosk.rules import duration_text

register = template.Library()


@register.filter
def duration(delta) -> str:
    """A loan's time out, the way people say it: 12 min, 3 h 5 min, 4 days."""
    return duration_text(delta) if delta is not None else ""
