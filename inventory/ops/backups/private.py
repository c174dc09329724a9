"""Tables an archive never carries: login sessions and API tokens.

They are credentials, not records: an archive copied to a USB stick or a NAS must not let its
reader take over a live session, and a restore must not bring back sessions that were logged out
since. So a backup keeps their structure but none of their rows, and a restore keeps what the
server has now (`current_rows` before, `put_back` after).
"""

from django.apps import apps
from django.db import connection, transaction


def models() -> list:
    """Parents before children."""
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


def current_rows() -> dict[str, list[dict]]:
    """{table: rows} of the live database, before a restore replaces it (a new server being
    restored may have no tables yet)."""
    present = set(connection.introspection.table_names())
    return {
        model._meta.db_table: list(model.objects.values())
        for model in models()
        if model._meta.db_table in present
    }


def put_back(kept: dict[str, list[dict]]) -> None:
    """After a restore: the sessions are the ones from before it (an older archive still
    carried its own: they go, or a logout since would be undone). Tokens from before it are
    added to whatever the archive held, matched by their jti, and a blacklist entry is never
    removed: dropping one would make a revoked refresh token valid again."""
    by_table = {model._meta.db_table: model for model in models()}
    with transaction.atomic():
        session = by_table.get("django_session")
        if session is not None:
            session.objects.all().delete()
            session.objects.bulk_create(
                [session(**row) for row in kept.get("django_session", [])], batch_size=500
            )
        outstanding = by_table.get("token_blacklist_outstandingtoken")
        if outstanding is not None:
            _put_back_tokens(
                outstanding,
                by_table["token_blacklist_blacklistedtoken"],
                kept.get("token_blacklist_outstandingtoken", []),
                kept.get("token_blacklist_blacklistedtoken", []),
            )


def _put_back_tokens(outstanding, blacklisted, tokens: list[dict], entries: list[dict]) -> None:
    user = outstanding._meta.get_field("user").related_model
    users = set(user._default_manager.values_list("pk", flat=True))
    there = set(outstanding.objects.values_list("jti", flat=True))
    # New ids: the archive's rows may already use the old ones for other tokens.
    outstanding.objects.bulk_create(
        [
            outstanding(
                **{
                    **row,
                    "id": None,
                    "user_id": row["user_id"] if row["user_id"] in users else None,
                }
            )
            for row in tokens
            if row["jti"] not in there
        ],
        batch_size=500,
    )
    jti_of = {row["id"]: row["jti"] for row in tokens}
    id_of = dict(outstanding.objects.filter(jti__in=jti_of.values()).values_list("jti", "id"))
    listed = set(blacklisted.objects.values_list("token_id", flat=True))
    blacklisted.objects.bulk_create(
        [
            blacklisted(**{**row, "id": None, "token_id": id_of[jti_of[row["token_id"]]]})
            for row in entries
            if id_of[jti_of[row["token_id"]]] not in listed
        ],
        batch_size=500,
    )
