"""The archive format on its own: what `extract` refuses, and that a refused archive writes
nothing outside the scratch folder it was given."""

import io
import json
import tarfile

import pytest

from inventory.ops.backups import archive, keys
from tests.inventory.ops.archives import read_members

pytestmark = pytest.mark.usefixtures("english")

MANIFEST = {
    "tables": {},
    "migrations": {},
    "database": "sqlite",
    "created_at": "2026-12-01T02:30:00+00:00",
}


@pytest.fixture
def good(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "db.sqlite3").write_bytes(b"the database")
    (source / "photo.jpg").write_bytes(b"a photo")
    path = tmp_path / "good.tar.gz"
    archive.write(
        path,
        manifest=MANIFEST,
        files={"db.sqlite3": source / "db.sqlite3", "media/photo.jpg": source / "photo.jpg"},
    )
    return path


def rebuilt(good, dest, change):
    """The good archive's members, changed by `change(members)`, in a new tar.gz."""
    members = read_members(good)
    change(members)
    with tarfile.open(dest, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def test_a_good_archive_extracts_every_listed_file(good, tmp_path):
    into = tmp_path / "scratch"
    into.mkdir()

    manifest, paths = archive.extract(good, into)

    assert set(paths) == {"db.sqlite3", "media/photo.jpg"}
    assert paths["media/photo.jpg"].read_bytes() == b"a photo"
    assert manifest["database"] == "sqlite"


def test_an_archive_with_a_listed_member_missing_is_refused(good, tmp_path):
    bad = rebuilt(good, tmp_path / "bad.tar.gz", lambda members: members.pop("media/photo.jpg"))

    with pytest.raises(archive.ArchiveError, match=r"media/photo\.jpg: missing"):
        archive.extract(bad, tmp_path)


def test_an_archive_with_a_member_the_manifest_does_not_list_is_refused(good, tmp_path):
    def add(members):
        members["media/planted.sh"] = b"rm -rf /"

    bad = rebuilt(good, tmp_path / "bad.tar.gz", add)

    with pytest.raises(archive.ArchiveError, match=r"media/planted\.sh: not listed"):
        archive.extract(bad, tmp_path)


@pytest.mark.parametrize("name", ["../escaped.txt", "media/../../escaped.txt", "{tmp}/escaped.txt"])
def test_an_archive_with_a_member_outside_its_folder_is_refused_and_nothing_is_written(
    good, tmp_path, name
):
    def add(members):
        members[name.format(tmp=tmp_path)] = b"written where it should not be"

    bad = rebuilt(good, tmp_path / "bad.tar.gz", add)
    into = tmp_path / "a" / "scratch"
    into.mkdir(parents=True)

    with pytest.raises(archive.ArchiveError, match="Unexpected entry"):
        archive.extract(bad, into)

    assert sorted(p.name for p in tmp_path.rglob("escaped.txt")) == []


def test_an_archive_with_a_link_is_refused(good, tmp_path):
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        link = tarfile.TarInfo("media/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)

    assert refusal(bad, tmp_path) == "Unexpected entry 'media/passwd' in the archive: refusing it."
    assert list((tmp_path / "scratch").iterdir()) == []


def with_manifest(good, dest, body: bytes | None):
    """The good archive with its manifest replaced by `body` (signed here), or taken out."""

    def change(members):
        if body is None:
            del members[archive.MANIFEST], members[archive.SIGNATURE]
        else:
            members[archive.MANIFEST] = body
            members[archive.SIGNATURE] = archive.signature_for(body, keys.signing_key())

    return rebuilt(good, dest, change)


def refusal(path, tmp_path) -> str:
    into = tmp_path / "scratch"
    into.mkdir(exist_ok=True)
    with pytest.raises(archive.ArchiveError) as refused:
        archive.extract(path, into)
    return str(refused.value)


def good_manifest(good) -> dict:
    return json.loads(read_members(good)[archive.MANIFEST])


def test_an_archive_without_a_manifest_is_not_taken_for_a_backup(good, tmp_path):
    bad = with_manifest(good, tmp_path / "bad.tar.gz", None)

    assert refusal(bad, tmp_path) == "bad.tar.gz has no manifest.json: it is not a Toolcrib backup."


def test_an_archive_whose_manifest_is_not_json_is_refused(good, tmp_path):
    bad = with_manifest(good, tmp_path / "bad.tar.gz", b"{not json")

    assert refusal(bad, tmp_path) == "bad.tar.gz: its manifest.json is not valid JSON."


@pytest.mark.parametrize(("manifest", "shown"), [("format 2", "2"), ([], "?")])
def test_an_archive_in_a_format_this_version_does_not_read_is_refused(
    good, tmp_path, manifest, shown
):
    if manifest == "format 2":
        manifest = {**good_manifest(good), "format": 2}
    bad = with_manifest(good, tmp_path / "bad.tar.gz", json.dumps(manifest).encode())

    assert refusal(bad, tmp_path) == (
        f"bad.tar.gz was written in a format this version does not read ({shown})."
    )


@pytest.mark.parametrize("key", ["files", "tables", "migrations", "database", "created_at"])
def test_an_archive_whose_manifest_lacks_a_part_is_refused(good, tmp_path, key):
    manifest = good_manifest(good)
    del manifest[key]
    bad = with_manifest(good, tmp_path / "bad.tar.gz", json.dumps(manifest).encode())

    assert refusal(bad, tmp_path) == f"bad.tar.gz: its manifest.json has no '{key}'."


def test_an_unsigned_archive_is_refused_saying_why_and_what_to_do(good, tmp_path):
    bad = rebuilt(good, tmp_path / "bad.tar.gz", lambda members: members.pop(archive.SIGNATURE))

    assert refusal(bad, tmp_path) == (
        "bad.tar.gz is not signed (it was written before backups were signed, or the signature "
        "was removed). Nothing was restored. To restore a predecessor's archives, give this "
        "server the same BACKUP_SIGNING_KEY (or SECRET_KEY); if you know where this archive "
        "came from, --trust-unsigned restores it anyway."
    )


def test_an_archive_with_an_unreadable_signature_does_not_match_it(good, tmp_path):
    def garble(members):
        members[archive.SIGNATURE] = b"not a signature"

    bad = rebuilt(good, tmp_path / "bad.tar.gz", garble)

    assert refusal(bad, tmp_path).startswith(
        "bad.tar.gz does not match its signature: it was changed after it was written. "
    )


def test_an_archive_signed_with_another_key_is_refused_naming_both_keys(good, tmp_path):
    other_key = b"another installation's key"

    def resign(members):
        members[archive.SIGNATURE] = archive.signature_for(members[archive.MANIFEST], other_key)

    bad = rebuilt(good, tmp_path / "bad.tar.gz", resign)

    theirs, ours = keys.key_id(other_key), keys.key_id(keys.signing_key())
    assert refusal(bad, tmp_path).startswith(
        f"bad.tar.gz was signed with another key (key id {theirs}; this installation's is "
        f"{ours}): it comes from another installation, or this one's SECRET_KEY or "
        "BACKUP_SIGNING_KEY has changed since. Nothing was restored. "
    )


def test_files_in_nested_folders_are_extracted_into_them(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "photo.jpg").write_bytes(b"a photo")
    path = tmp_path / "nested.tar.gz"
    archive.write(
        path, manifest=MANIFEST, files={"media/items/2026/photo.jpg": source / "photo.jpg"}
    )
    into = tmp_path / "scratch"
    into.mkdir()

    _manifest, paths = archive.extract(path, into)

    assert (into / "media/items/2026/photo.jpg").read_bytes() == b"a photo"
    assert paths == {"media/items/2026/photo.jpg": into / "media/items/2026/photo.jpg"}


def test_a_missing_archive_is_named_with_its_path(tmp_path):
    missing = tmp_path / "nope.tar.gz"

    assert refusal(missing, tmp_path) == f"{missing}: no such file. Check the path."


def test_every_damage_found_is_listed_in_one_refusal(good, tmp_path):
    def damage(members):
        members.pop("media/photo.jpg")
        members["db.sqlite3"] = b"another database"
        members["media/planted.sh"] = b"rm -rf /"

    bad = rebuilt(good, tmp_path / "bad.tar.gz", damage)

    assert refusal(bad, tmp_path) == (
        "bad.tar.gz has been changed or damaged since it was written: media/photo.jpg: missing; "
        "media/planted.sh: not listed in the manifest; db.sqlite3: checksum differs. Nothing "
        "was restored; use another archive."
    )


SEALING_KEY = "the-encryption-key-kept-apart-from-the-backups-0123456789"


@pytest.fixture
def sealed_archive(tmp_path):
    source = tmp_path / "db.sqlite3"
    source.write_bytes(b"the database")
    path = tmp_path / "sealed.tar.gz"
    files = {"db.sqlite3": source}
    archive.write(path, manifest=MANIFEST, files=files, encryption_key=SEALING_KEY.encode())
    return path


def test_an_archive_sealed_with_another_key_is_refused_naming_the_setting(
    sealed_archive, tmp_path, settings
):
    settings.BACKUP_ENCRYPTION_KEY = "some-other-key-" + "0" * 40

    assert refusal(sealed_archive, tmp_path) == (
        "sealed.tar.gz is encrypted with another key (or was changed after it was encrypted): "
        "it does not decrypt with BACKUP_ENCRYPTION_KEY. Set BACKUP_ENCRYPTION_KEY to the key "
        "it was written with."
    )


def test_a_cut_sealed_archive_is_refused_as_incomplete(sealed_archive, tmp_path, settings):
    settings.BACKUP_ENCRYPTION_KEY = SEALING_KEY
    sealed_archive.write_bytes(sealed_archive.read_bytes()[:-40])

    assert refusal(sealed_archive, tmp_path) == (
        "sealed.tar.gz is encrypted but incomplete. Use another archive, or copy this one again "
        "from where it was kept."
    )
