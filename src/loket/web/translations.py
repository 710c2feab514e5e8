"""What templates need of the translations: a gettext that escapes its values, the language switch's
names and the writing direction. The catalogues themselves are plumbing: `loket.i18n`."""

from __future__ import annotations

from functools import cache

from babel import Locale, UnknownLocaleError
from markupsafe import Markup

from loket.i18n import translations

# Each language's name in itself, for the language switch.
NATIVE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English", "de": "Deutsch"}


def gettext(language: str):
    """A gettext for templates: like Jinja's new-style one, values are escaped, translations trusted."""
    catalogue = translations(language)

    def translate(text: str, **values: object) -> Markup:
        return Markup(catalogue.gettext(text)) % values

    return translate


@cache
def direction(language: str) -> str:
    """`rtl` for right-to-left languages, so content in Arabic or Hebrew lays out right."""
    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return "ltr"
    return "rtl" if locale.character_order == "right-to-left" else "ltr"
