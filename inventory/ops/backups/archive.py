"""The backup archive: one .tar.gz holding manifest.json, the database and the media files.

The manifest lists the SHA-256 of every other file; reading an archive extracts it into a
scratch folder and checks every checksum and that no file is missing or extra, so a truncated
copy or a changed byte is refused before anything else happens.
"""

import hashlib
import io
import json
import os
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from django.utils.translation import gettext as _

FORMAT = 1
MANIFEST = "manifest.json"
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


def write(dest: Path, *, manifest: dict, files: dict[str, Path]) -> int:
    """Write the archive under a temporary name, fsync it and rename it into place, so a crash or
    a full disk never leaves a half-written file under a real archive name. Returns its size."""
    manifest = {**manifest, "format": FORMAT, "files": {n: sha256_of(p) for n, p in files.items()}}
    body = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        # Owner-only: the archive holds password hashes and every employee's records.
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as raw:
            # Level 1: the database dump dominates and barely shrinks further; a Pi's CPU is slow.
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=1) as tar:
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(body)
                info.mode = 0o600
                tar.addfile(info, io.BytesIO(body))
                for name, path in files.items():
                    tar.add(path, arcname=name, recursive=False)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    _fsync_dir(dest.parent)
    return dest.stat().st_size


def extract(archive: Path, into: Path) -> tuple[dict, dict[str, Path]]:
    """Unpack into `into` and verify it. Returns (manifest, {name: extracted path})."""
    found: dict[str, str] = {}
    paths: dict[str, Path] = {}
    manifest_bytes = None
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                name = _safe_name(member)
                source = tar.extractfile(member)
                if name == MANIFEST:
                    manifest_bytes = source.read()
                    continue
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with open(target, "wb") as out:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                found[name], paths[name] = digest.hexdigest(), target
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
