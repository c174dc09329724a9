"""Sessions and API tokens are credentials, not records: no archive carries them, a restore
leaves the server's current ones alone, and expired ones are cleared every night."""

import datetime

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from inventory.ops import tasks
from inventory.ops.backups import private
from inventory.ops.models import PeriodicRun
from tests.inventory.ops.archives import make_backup, manifest_of, read_members

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def folders(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def a_session(**data) -> str:
    store = SessionStore()
    store.update(data)
    store.create()
    return store.session_key


def a_blacklisted_refresh_token(user) -> str:
    token = RefreshToken.for_user(user)
    token.blacklist()
    return str(token["jti"])


def test_sessions_and_tokens_are_not_in_the_archive(crib, capsys, admin_user):
    key = a_session(secret="only-in-the-live-database")
    jti = a_blacklisted_refresh_token(admin_user)

    archive = make_backup(capsys)

    manifest = manifest_of(archive)
    for table in ("django_session", "token_blacklist_outstandingtoken"):
        assert manifest["tables"][table]["rows"] == 0
    database = read_members(archive)[manifest["database"]["file"]]
    assert key.encode() not in database
    assert jti.encode() not in database
    assert Session.objects.filter(session_key=key).exists()  # the live ones are untouched


def test_a_restore_keeps_the_current_sessions_and_tokens(crib, capsys, admin_user):
    before_backup = a_session(step="before the backup")
    archive = make_backup(capsys)
    after_backup = a_session(step="after the backup")
    jti = a_blacklisted_refresh_token(admin_user)

    call_command("restore", str(archive), "--no-input")

    assert set(Session.objects.values_list("session_key", flat=True)) >= {
        before_backup,
        after_backup,
    }
    assert BlacklistedToken.objects.filter(token__jti=jti).exists()  # a revoked token stays so
    assert "Restored" in capsys.readouterr().out


def test_the_nightly_job_clears_expired_sessions_and_tokens_and_keeps_live_ones(admin_user):
    live, expired = a_session(n=1), a_session(n=2)
    Session.objects.filter(session_key=expired).update(
        expire_date=timezone.now() - datetime.timedelta(minutes=1)
    )
    fresh_jti = a_blacklisted_refresh_token(admin_user)
    old_jti = a_blacklisted_refresh_token(admin_user)
    OutstandingToken.objects.filter(jti=old_jti).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    tasks.clear_expired_credentials.call_local()

    assert list(Session.objects.values_list("session_key", flat=True)) == [live]
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [fresh_jti]
    assert list(BlacklistedToken.objects.values_list("token__jti", flat=True)) == [fresh_jti]
    assert PeriodicRun.objects.get(job="clear_expired_credentials").succeeded


def test_after_restoring_an_older_archive_its_sessions_go_and_its_revoked_tokens_stay_revoked(
    admin_user,
):
    """Archives from before this change still carried sessions and tokens."""
    current_session = a_session(n="current")
    current_jti = a_blacklisted_refresh_token(admin_user)
    kept = private.current_rows()
    # What restoring such an archive leaves in the tables: its own rows, under the same ids.
    Session.objects.all().delete()
    OutstandingToken.objects.all().delete()
    a_session(n="archived")
    (same_id,) = [row["id"] for row in kept["token_blacklist_outstandingtoken"]]
    archived = OutstandingToken.objects.create(
        id=same_id,
        jti="archived-jti",
        token="archived.token.text",
        user=admin_user,
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    BlacklistedToken.objects.create(token=archived)
    archived_jti = archived.jti

    private.put_back(kept)

    assert list(Session.objects.values_list("session_key", flat=True)) == [current_session]
    assert set(BlacklistedToken.objects.values_list("token__jti", flat=True)) == {
        current_jti,
        archived_jti,
    }
    assert OutstandingToken.objects.get(jti=current_jti).user == admin_user
