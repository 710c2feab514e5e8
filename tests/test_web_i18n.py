"""The gettext catalogues: every text in the code is translated in every language, with the same
placeholders, in both domains (the pages' `messages`, the blocks' fixed `answers`); the browser's
language preference is honoured; answers' own texts take their values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from loket.assistant.texts import OTHER_LANGUAGE
from loket.i18n import LANGUAGES, LOCALES, choose, from_accept_language, language_name, message, plain
from loket.web.render import dir_attribute
from loket.web.translations import direction

SRC = Path(__file__).resolve().parents[1] / "src" / "loket"
WEB = SRC / "web"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
DOMAINS = ("messages", "answers")


def _texts_in_the_code(domain: str) -> set[str | tuple[str, ...]]:
    """What `make messages` extracts: for `messages`, gettext calls in the templates and `plain()` in the
    web block's Python and the form reader it shares (loket/forms.py); for `answers`, the texts every
    block marks with `N_` in its `texts.py`."""
    if domain == "answers":
        found = extract_from_dir(SRC, method_map=[("**.py", "python")], keywords={"N_": None})
        return {text for _, _, text, _, _ in found}
    jinja = {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}
    found = extract_from_dir(
        WEB,
        method_map=[("**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.js", "jinja2")],
        options_map={"templates/**.html": jinja, "templates/**.js": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "plain": (2,)},
    )
    shared = extract_from_file("python", SRC / "forms.py", keywords={"plain": (2,)})  # as babel.cfg says
    return {text for _, _, text, _, _ in found} | {text for _, text, _, _ in shared}


@pytest.fixture(scope="module")
def in_the_code() -> dict[str, set]:
    texts = {domain: _texts_in_the_code(domain) for domain in DOMAINS}
    assert len(texts["messages"]) > 100, "extraction found the texts"
    assert len(texts["answers"]) > 30, "extraction found the fixed texts"
    return texts


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated_with_the_same_placeholders(in_the_code, language, domain):
    with (LOCALES / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as file:
        catalogue = read_po(file, locale=language)
    translated = {m.id: m.string for m in catalogue if m.id}
    missing = {text for text in in_the_code[domain] if text not in translated}
    assert not missing, f"run `make messages` and translate: {missing}"
    assert not set(translated) - in_the_code[domain], "texts no longer used: run `make messages`"
    for text, translation in translated.items():
        ids = text if isinstance(text, tuple) else (text,)
        strings = translation if isinstance(translation, tuple) else (translation,)
        for string in strings:
            assert string.strip(), f"{language}: {ids[0]!r} has no translation"
            assert set(PLACEHOLDER.findall(string)) == set(PLACEHOLDER.findall(ids[-1])), (language, ids)
    assert not any(m.fuzzy for m in catalogue if m.id), "fuzzy translations are not shown"


def test_translations_are_looked_up_per_language():
    assert plain("nl", "Ask") == "Vraag"
    assert plain("fr", "Ask") == "Demander"
    assert plain("de", "Ask") == "Fragen"
    assert plain("en", "Ask") == "Ask"
    emergency = plain("fr", "In an emergency, call %(number)s.", number="112")
    assert emergency == "En cas d'urgence, appelez le 112."


def test_accept_language_is_read_with_its_weights():
    assert from_accept_language("fr-BE,fr;q=0.9,nl;q=0.8") == "fr"
    assert from_accept_language("tr-TR, de;q=0.3, en;q=0.7") == "en"
    assert from_accept_language("en;q=0, de") == "de"
    assert from_accept_language("*, fr;q=0.1") == "fr"
    assert from_accept_language("ja, tr") is None
    assert from_accept_language("en;q=abc, nl;q=0.5") == "nl"
    assert from_accept_language("") is None
    assert choose("DE-at", "fr") == "de"
    assert choose("xx", "fr") == "fr"
    assert choose(None, None) == "nl"


def test_right_to_left_languages_are_known():
    assert direction("ar") == "rtl" and direction("he") == "rtl" and direction("fa-IR") == "rtl"
    assert direction("nl") == "ltr" and direction("not a language") == "ltr"


def test_answer_texts_take_a_language_name_as_a_value():
    """`message(text, language, language=...)`: the notice that content is in another language."""
    assert message(OTHER_LANGUAGE, "en", language="Dutch") == "This information is only available in Dutch."


def test_answer_texts_fall_back_to_dutch_and_name_languages_as_their_reader_does():
    dutch = "Deze informatie bestaat alleen in het Frans."
    assert message(OTHER_LANGUAGE, "nl", language=language_name("fr", "nl")) == dutch
    assert message(OTHER_LANGUAGE, "xx", language=language_name("fr", "xx")) == dutch
    assert language_name("de", "fr") == "allemand" and language_name("nl", "de") == "Niederländisch"
    assert language_name("es", "nl") == "es"


def test_direction_is_marked_only_where_it_changes():
    assert dir_attribute("nl") == ""
    assert dir_attribute("ar") == ' dir="rtl"'
    assert dir_attribute("nl", within="rtl") == ' dir="ltr"'
