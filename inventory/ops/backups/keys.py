"""The keys that make an archive this installation's own: one signs the manifest, the other
(optional) encrypts the whole archive.

The signing key defaults to one derived from SECRET_KEY with a fixed label, never SECRET_KEY
itself: a leaked archive signature then says nothing about the key that signs cookies, and a
server given the same SECRET_KEY (or the same BACKUP_SIGNING_KEY) verifies its predecessor's
archives.
"""

import hashlib
import hmac
import os

from django.conf import settings
from django.utils.translation import gettext as _

_SIGNING_LABEL = b"toolcrib backup manifest signing key v1"
_KEY_ID_LABEL = b"toolcrib backup key id v1"


class MissingKey(Exception):
    """No usable key; the message says which setting to set."""


def signing_key() -> bytes:
    configured = settings.BACKUP_SIGNING_KEY
    if configured:
        return configured.encode()
    if not settings.DEBUG and not os.environ.get("SECRET_KEY", "").strip():
        # Without SECRET_KEY the settings make up a throwaway key per process: an archive signed
        # with it could never be verified again, not even by this server.
        raise MissingKey(
            _(
                "No key to sign or verify backups with: SECRET_KEY is not set in this "
                "environment. Run the command with the server's environment file (SECRET_KEY, "
                "or BACKUP_SIGNING_KEY) loaded."
            )
        )
    return hmac.new(settings.SECRET_KEY.encode(), _SIGNING_LABEL, hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    """A short public name for a key, so a refusal can say 'signed by another key' and the
    operator can tell which of the keys kept aside is the right one."""
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def sign(body: bytes, key: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def verifies(body: bytes, signature: str, key: bytes) -> bool:
    return hmac.compare_digest(sign(body, key), str(signature))


def encryption_key() -> bytes | None:
    configured = settings.BACKUP_ENCRYPTION_KEY
    return configured.encode() if configured else None
