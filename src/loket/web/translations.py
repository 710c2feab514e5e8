"""The pages' own text in gettext catalogues (Babel), and which language a request gets.

The `.po` files are read directly at start-up: there are no compiled `.mo` files to keep in step and
no build step. Message ids are English; Dutch is the default language. The fixed texts of answers stay
in `loket.i18n.MESSAGES`, beside the assistant that stores them.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup

from loket.i18n import LANGUAGES

LOCALES = Path(__file__).parent / "locales"
DEFAULT = "nl"
# Each language's name in itself, for the language switch.
NATIVE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English", "de": "Deutsch"}


@cache
def translations(language: str) -> Translations:
    """The catalogue of one interface language, compiled in memory from its `.po` file."""
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalogue = read_po(file, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def gettext(language: str):
    """A gettext for templates: like Jinja's new-style one, values are escaped, translations trusted."""
    catalogue = translations(language)

    def translate(text: str, **values: object) -> Markup:
        return Markup(catalogue.gettext(text)) % values

    return translate


def plain(language: str, text: str, **values: object) -> str:
    """The translation of `text` as plain text, for headers, JSON and JavaScript."""
    translated = translations(language).gettext(text)
    return translated % values if values else translated


def from_accept_language(header: str | None) -> str | None:
    """The interface language the browser prefers most, honouring q-values; None when none fits."""
    choices = []
    for position, part in enumerate((header or "").split(",")):
        tag, *parameters = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and tag != "*" and weight > 0:
            choices.append((-weight, position, tag.split("-", 1)[0].lower()))
    return next((tag for _, _, tag in sorted(choices) if tag in LANGUAGES), None)


def choose(requested: str | None, accept_language: str | None) -> str:
    """The URL's `lang` (set by the language switch) first, then the browser's preference, then Dutch."""
    primary = (requested or "").split("-", 1)[0].lower()
    if primary in LANGUAGES:
        return primary
    return from_accept_language(accept_language) or DEFAULT


@cache
def direction(language: str) -> str:
    """`rtl` for right-to-left languages, so content in Arabic or Hebrew lays out right."""
    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return "ltr"
    return "rtl" if locale.character_order == "right-to-left" else "ltr"
