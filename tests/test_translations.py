"""Every string a person reads exists in Japanese, and the compiled catalogue is up to date.

The strings are extracted from the code as it is now (makemessages on a copy of the tree, so
the committed catalogue is never touched) and merged with the committed translations; any
string left empty or fuzzy is listed. To fix: `make translations`, translate what is empty in
locale/ja/LC_MESSAGES/django.po, and `make translations` again to compile it.
"""

import ast
import gettext
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "ja" / "LC_MESSAGES"
# Not part of the server's text: tests, the Django-free kiosk agent, deployment files, state.
NOT_TRANSLATED = {"tests", "agent", "deploy", "requirements", "var", "locale"}


def parse_po(path: Path) -> list[dict]:
    """The entries of a .po file as {"flags", "msgctxt", "msgid", "msgid_plural", "msgstr",
    "msgstr[0]"...}, strings unescaped; the header entry is left out."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, key = {"flags": set()}, None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[key] += ast.literal_eval(line)
            else:
                key, _, value = line.partition(" ")
                entry[key] = ast.literal_eval(value)
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def untranslated(entries: list[dict]) -> list[str]:
    problems = []
    for entry in entries:
        translations = [value for key, value in entry.items() if key.startswith("msgstr")]
        if "fuzzy" in entry["flags"] or not all(translations):
            context = f"[{entry['msgctxt']}] " if "msgctxt" in entry else ""
            problems.append(context + entry["msgid"])
    return problems


@pytest.fixture
def extracted(tmp_path, monkeypatch):
    """The committed catalogue merged with the strings in the code today, in a copy."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for path in Path(settings.BASE_DIR).iterdir():
        if path.name.startswith(".") or path.name in NOT_TRANSLATED:
            continue
        if path.is_dir():
            shutil.copytree(path, tree / path.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, tree / path.name)
    shutil.copytree(CATALOGUE.parent.parent, tree / "locale")
    monkeypatch.chdir(tree)
    with override_settings(LOCALE_PATHS=[tree / "locale"]):
        call_command("makemessages", locale=["ja"], no_location=True, verbosity=0)
    return tree / "locale" / "ja" / "LC_MESSAGES" / "django.po"


def test_every_string_in_the_code_has_a_japanese_translation(extracted):
    missing = untranslated(parse_po(extracted))
    assert not missing, (
        f"{len(missing)} string(s) have no Japanese translation. Run `make translations`, "
        "translate them in locale/ja/LC_MESSAGES/django.po and run it again:\n" + "\n".join(missing)
    )


def test_the_committed_catalogue_has_no_untranslated_or_fuzzy_entries():
    assert untranslated(parse_po(CATALOGUE / "django.po")) == []


def test_the_compiled_catalogue_matches_the_translations(tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check-format", "-o", fresh, CATALOGUE / "django.po"],
        check=True,
        capture_output=True,
    )
    with (CATALOGUE / "django.mo").open("rb") as committed, fresh.open("rb") as compiled:
        assert gettext.GNUTranslations(committed)._catalog == (
            gettext.GNUTranslations(compiled)._catalog
        ), "locale/ja/LC_MESSAGES/django.mo is stale: run `make translations` and commit it"


def test_the_parser_sees_an_empty_translation_and_a_fuzzy_one(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: ja\\n"\n\n'
        'msgid "Done"\nmsgstr "終了"\n\n'
        'msgid "New"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Close"\nmsgstr "閉じる"\n\n'
        'msgid "%(n)s tool"\nmsgid_plural "%(n)s tools"\nmsgstr[0] ""\n',
        encoding="utf-8",
    )
    assert untranslated(parse_po(po)) == ["New", "Close", "%(n)s tool"]
