"""The backup archive: one .tar.gz holding manifest.json, its signature, the database and the
media files; optionally the whole of it encrypted (sealed.py).

The manifest lists the SHA-256 of every other file; reading an archive extracts it into a
scratch folder and checks every checksum and that no file is missing or extra, so a truncated
copy or a changed byte is refused before anything else happens. The checksums catch damage, not
forgery (anyone can recompute them): manifest.sig, an HMAC-SHA256 of the manifest's exact bytes
with this installation's key (keys.py), proves the archive was written here, or by a server
given the same key.
"""

import contextlib
import hashlib
import io
import json
import os
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from django.utils.translation import gettext as _

from inventory.ops.backups import keys, sealed

FORMAT = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SUFFIX = ".tar.gz"
_CHUNK = 1024 * 1024


class ArchiveError(Exception):
    """An archive that cannot be trusted; the message says why and what to do."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _quiet(message: str) -> None:
    pass


def write(
    dest: Path,
    *,
    manifest: dict,
    files: dict[str, Path],
    signing_key: bytes | None = None,
    encryption_key: bytes | None = None,
) -> int:
    """Write the archive under a temporary name, fsync it and rename it into place, so a crash or
    a full disk never leaves a half-written file under a real archive name. Returns its size.
    Keys default to this installation's (settings BACKUP_SIGNING_KEY, BACKUP_ENCRYPTION_KEY)."""
    signing_key = signing_key or keys.signing_key()
    if encryption_key is None:
        encryption_key = keys.encryption_key()
    manifest = {**manifest, "format": FORMAT, "files": {n: sha256_of(p) for n, p in files.items()}}
    body = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    signature = signature_for(body, signing_key)
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        # Owner-only: the archive holds password hashes and every employee's records.
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as raw:
            out = sealed.Writer(raw, encryption_key) if encryption_key else raw
            # Level 1: the database dump dominates and barely shrinks further; a Pi's CPU is slow.
            with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as tar:
                for name, data in ((MANIFEST, body), (SIGNATURE, signature)):
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    info.mode = 0o600
                    tar.addfile(info, io.BytesIO(data))
                for name, path in files.items():
                    tar.add(path, arcname=name, recursive=False)
            if encryption_key:
                out.finish()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    _fsync_dir(dest.parent)
    return dest.stat().st_size


def signature_for(body: bytes, key: bytes) -> bytes:
    return json.dumps(
        {"algorithm": "HMAC-SHA256", "key_id": keys.key_id(key), "mac": keys.sign(body, key)},
        indent=2,
    ).encode()


def extract(
    archive: Path,
    into: Path,
    *,
    trust_unsigned: bool = False,
    warn: Callable[[str], None] = _quiet,
) -> tuple[dict, dict[str, Path]]:
    """Unpack into `into` and verify it. Returns (manifest, {name: extracted path}).

    An archive whose signature does not verify with this installation's key is refused unless
    `trust_unsigned`, and then `warn` is told why it is not trusted."""
    found: dict[str, str] = {}
    paths: dict[str, Path] = {}
    special: dict[str, bytes] = {}
    try:
        with _opened(archive) as (tar, unsealing):
            for member in tar:
                name = _safe_name(member)
                source = tar.extractfile(member)
                if name in (MANIFEST, SIGNATURE):
                    special[name] = source.read()
                    continue
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with open(target, "wb") as out:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                found[name], paths[name] = digest.hexdigest(), target
            if unsealing is not None:
                unsealing.drain()
    except sealed.WrongKey:
        raise ArchiveError(
            _(
                "%(archive)s is encrypted with another key (or was changed after it was "
                "encrypted): it does not decrypt with BACKUP_ENCRYPTION_KEY. Set "
                "BACKUP_ENCRYPTION_KEY to the key it was written with."
            )
            % {"archive": archive.name}
        ) from None
    except sealed.Truncated:
        raise ArchiveError(
            _(
                "%(archive)s is encrypted but incomplete. Use another archive, or copy this one "
                "again from where it was kept."
            )
            % {"archive": archive.name}
        ) from None
    except FileNotFoundError:
        raise ArchiveError(
            _("%(archive)s: no such file. Check the path.") % {"archive": archive}
        ) from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise ArchiveError(
            _(
                "%(archive)s is damaged or incomplete (%(error)s). Use another archive, or copy "
                "this one again from where it was kept."
            )
            % {"archive": archive.name, "error": error}
        ) from None
    manifest_bytes = special.get(MANIFEST)
    if manifest_bytes is not None:
        _check_signature(archive, manifest_bytes, special.get(SIGNATURE), trust_unsigned, warn)
    manifest = _parse_manifest(archive, manifest_bytes)
    expected = manifest["files"]
    problems = [_("%(file)s: missing") % {"file": n} for n in sorted(set(expected) - set(found))]
    problems += [
        _("%(file)s: not listed in the manifest") % {"file": n}
        for n in sorted(set(found) - set(expected))
    ]
    changed = [n for n in sorted(set(expected) & set(found)) if found[n] != expected[n]]
    problems += [_("%(file)s: checksum differs") % {"file": n} for n in changed]
    if problems:
        raise ArchiveError(
            _(
                "%(archive)s has been changed or damaged since it was written: %(problems)s. "
                "Nothing was restored; use another archive."
            )
            % {"archive": archive.name, "problems": "; ".join(problems)}
        )
    return manifest, paths


@contextlib.contextmanager
def _opened(archive: Path):
    """(tar, the decrypting reader or None): an encrypted archive is read as a stream."""
    if not sealed.is_sealed(archive):
        with tarfile.open(archive, mode="r:gz") as tar:
            yield tar, None
        return
    key = keys.encryption_key()
    if not key:
        raise ArchiveError(
            _(
                "%(archive)s is encrypted and BACKUP_ENCRYPTION_KEY is not set: set it to the "
                "key the archive was written with."
            )
            % {"archive": archive.name}
        )
    with open(archive, "rb") as raw:
        unsealing = sealed.Reader(raw, key)
        with tarfile.open(fileobj=unsealing, mode="r|gz") as tar:
            yield tar, unsealing


def _check_signature(archive, body: bytes, signature: bytes | None, trust_unsigned, warn) -> None:
    key = keys.signing_key()
    if signature is None:
        problem = _(
            "%(archive)s is not signed (it was written before backups were signed, or the "
            "signature was removed)."
        ) % {"archive": archive.name}
    else:
        try:
            claimed = json.loads(signature)
            if keys.verifies(body, claimed["mac"], key):
                return
            other = claimed.get("key_id") != keys.key_id(key)
        except (ValueError, TypeError, KeyError):
            other = False
        if other:
            problem = _(
                "%(archive)s was signed with another key (key id %(theirs)s; this "
                "installation's is %(ours)s): it comes from another installation, or this one's "
                "SECRET_KEY or BACKUP_SIGNING_KEY has changed since."
            ) % {"archive": archive.name, "theirs": claimed.get("key_id"), "ours": keys.key_id(key)}
        else:
            problem = _(
                "%(archive)s does not match its signature: it was changed after it was written."
            ) % {"archive": archive.name}
    if not trust_unsigned:
        raise ArchiveError(
            problem
            + " "
            + _(
                "Nothing was restored. To restore a predecessor's archives, give this server the "
                "same BACKUP_SIGNING_KEY (or SECRET_KEY); if you know where this archive came "
                "from, --trust-unsigned restores it anyway."
            )
        )
    warn(
        _("WARNING: %(problem)s Trusting it anyway because of --trust-unsigned.")
        % {"problem": problem}
    )


def _parse_manifest(archive: Path, body: bytes | None) -> dict:
    if body is None:
        raise ArchiveError(
            _("%(archive)s has no %(manifest)s: it is not a Toolcrib backup.")
            % {"archive": archive.name, "manifest": MANIFEST}
        )
    try:
        manifest = json.loads(body)
    except ValueError:
        raise ArchiveError(
            _("%(archive)s: its %(manifest)s is not valid JSON.")
            % {"archive": archive.name, "manifest": MANIFEST}
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(
            _("%(archive)s was written in a format this version does not read (%(format)s).")
            % {
                "archive": archive.name,
                "format": manifest.get("format") if isinstance(manifest, dict) else "?",
            }
        )
    for key in ("files", "tables", "migrations", "database", "created_at"):
        if key not in manifest:
            raise ArchiveError(
                _("%(archive)s: its %(manifest)s has no %(key)r.")
                % {"archive": archive.name, "manifest": MANIFEST, "key": key}
            )
    return manifest


def _safe_name(member: tarfile.TarInfo) -> str:
    path = PurePosixPath(member.name)
    if not member.isfile() or path.is_absolute() or ".." in path.parts:
        raise ArchiveError(
            _("Unexpected entry %(name)r in the archive: refusing it.") % {"name": member.name}
        )
    return str(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
