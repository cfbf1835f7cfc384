"""The German catalog is complete and current: every msgid is translated (no empty or fuzzy
entry), every placeholder survives translation, and the catalog holds exactly the strings the
code and templates mark today (extracted again with babel.cfg, as `make translations` does)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from app.infra import i18n

ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")
LANGUAGES = [language for language in i18n.SUPPORTED if language != i18n.DEFAULT]


def catalog(language: str) -> Catalog:
    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as po:
        return read_po(po, locale=language)


def extracted(tmp_path: Path) -> set[str | tuple[str, ...]]:
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
                    "babel.cfg", "-k", "N_", "-k", "ngettext:1,2", "-k", "pgettext:1c,2",
                    "--no-location", "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    with pot.open("rb") as template:
        return {message.id for message in read_po(template) if message.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    messages = [message for message in catalog(language) if message.id]
    assert messages
    untranslated = [message.id for message in messages
                    if not all(message.string if isinstance(message.string, tuple)
                               else [message.string])]
    fuzzy = [message.id for message in messages if message.fuzzy]
    assert untranslated == [] and fuzzy == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language: str) -> None:
    for message in catalog(language):
        if not message.id:
            continue
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == sorted(
                PLACEHOLDER.findall(source)), (source, string)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalog_matches_the_marked_strings(language: str, tmp_path: Path) -> None:
    """A string marked but missing from the catalog would show in English; one in the catalog
    but no longer marked is dead weight. `make translations` brings them together again."""
    current = {message.id for message in catalog(language) if message.id}
    marked = extracted(tmp_path)
    assert sorted(map(str, marked - current)) == [], "run `make translations` and translate"
    assert sorted(map(str, current - marked)) == [], "run `make translations`"
