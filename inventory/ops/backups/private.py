"""Tables an archive never carries: login sessions and API tokens.

They are credentials, not records: an archive copied to a USB stick or a NAS must not let its
reader take over a live session, and a restore must not bring back sessions that were logged out
or refresh tokens that were revoked. So a backup keeps their structure but none of their rows,
and a restore keeps the rows the server has now (restore.py).
"""

from django.apps import apps


def models() -> list:
    """Parents before children: the order to insert in (delete in reverse)."""
    found = []
    if apps.is_installed("django.contrib.sessions"):
        found.append(apps.get_model("sessions", "Session"))
    if apps.is_installed("rest_framework_simplejwt.token_blacklist"):
        found += [
            apps.get_model("token_blacklist", "OutstandingToken"),
            apps.get_model("token_blacklist", "BlacklistedToken"),
        ]
    return found


def tables() -> list[str]:
    return [model._meta.db_table for model in models()]
