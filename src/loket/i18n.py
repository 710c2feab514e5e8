"""Interface languages, and every fixed text in gettext catalogues (Babel), Dutch first.

The catalogues are `locales/{nl,fr,en,de}/LC_MESSAGES/{messages,answers}.po` beside this module, with
English message ids (`answers.pot` and `messages.pot` are their templates). They are read from the `.po`
files at first use and compiled in memory: there are no `.mo` files to keep in step and no build step.
`make messages` extracts the texts and updates the catalogues. Dutch is the default and the fallback:
`message()` says a text in Dutch for a language loket does not speak, and a French or German text not
translated yet is Dutch too (then the English id).

Two domains, because the texts are of two kinds:
- `messages`, the pages' own text: the web block's templates and `plain()` calls. It lives and changes
  with the pages.
- `answers`, the fixed texts of answers and API errors: each block keeps its own as constants in its
  `texts.py`, marked with `N_`, and says them with `message()`. They are stored with the answers and
  are what the evaluation recognises as the assistant's own words (not text an instruction put there),
  so they are extracted from the blocks, not the pages, and change only with the blocks that say them.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request

LANGUAGES = ("nl", "fr", "en", "de")
DEFAULT = "nl"
SOURCE = "en"  # the language of the message ids
LOCALES = Path(__file__).parent / "locales"


def N_(text: str) -> str:
    """Marks a fixed text for extraction into the `answers` domain; `message()` translates it."""
    return text


def negotiate(language: str | None, default: str = DEFAULT) -> str:
    """The interface language closest to `language` (a tag like `fr-BE`), else the default."""
    return _closest([language] if language else []) or default


def _closest(tags: list[str]) -> str | None:
    """Babel's match of language tags, most preferred first, with the interface languages."""
    return negotiate_locale([tag.lower() for tag in tags], LANGUAGES, sep="-")


def from_accept_language(header: str | None) -> str | None:
    """The interface language the browser prefers most (by q-value, matched by Babel); None if none fits."""
    weighted = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, parameters = (piece.strip() for piece in part.partition(";"))
        name, _, value = parameters.partition("=")
        try:
            weight = float(value) if name.strip() == "q" else 1.0
        except ValueError:
            weight = 0.0
        if tag and tag != "*" and weight > 0:
            weighted.append((-weight, position, tag))
    return _closest([tag for _, _, tag in sorted(weighted)])


def choose(requested: str | None, accept_language: str | None) -> str:
    """The URL's `lang` (set by the language switch) first, then the browser's preference, then Dutch."""
    return _closest([requested] if requested else []) or from_accept_language(accept_language) or DEFAULT


def request_language(request: Request) -> str:
    """The interface language of a request, for its page, its error texts and its cookies' pages."""
    return choose(request.query_params.get("lang"), request.headers.get("accept-language"))


@cache
def catalogue(language: str, domain: str = "messages") -> Catalog:
    """One language's `.po` file of a domain, as Babel reads it."""
    with (LOCALES / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as file:
        return read_po(file, locale=language)


@cache
def translations(language: str, domain: str = "messages") -> Translations:
    """One language's catalogue of a domain, compiled in memory; what it lacks comes from Dutch."""
    compiled = io.BytesIO()
    write_mo(compiled, catalogue(language, domain))
    compiled.seek(0)
    found = Translations(compiled, domain=domain)
    if language not in (DEFAULT, SOURCE):
        found.add_fallback(translations(DEFAULT, domain))
    return found


def plain(language: str, text: str, **values: object) -> str:
    """A text of the pages (domain `messages`) as plain text, for headers, JSON and JavaScript."""
    translated = translations(language).gettext(text)
    return translated % values if values else translated


def message(text: str, language: str, /, **values: str) -> str:
    """A block's fixed `text` (domain `answers`) in `language`, else Dutch, with its values filled in;
    positional-only, so `language=` can be one of the values."""
    translated = translations(language if language in LANGUAGES else DEFAULT, "answers").gettext(text)
    return translated % values if values else translated


def every_text(domain: str = "answers") -> set[str]:
    """Every text of a domain in every language, the English ids included, placeholders and all."""
    return {
        text
        for language in LANGUAGES
        for entry in catalogue(language, domain)
        if entry.id
        for text in (entry.id, entry.string)
        if text and isinstance(text, str)
    }


def language_name(code: str, in_language: str) -> str:
    """'nl' as the reader of `in_language` calls it; the code itself for a language loket does not speak."""
    if code not in LANGUAGES:
        return code
    return Locale(code).get_language_name(in_language if in_language in LANGUAGES else DEFAULT)
