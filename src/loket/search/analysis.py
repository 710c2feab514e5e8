"""Words to index terms: lower case, accents kept, stop words dropped, Snowball stems per language."""

from __future__ import annotations

import re
from functools import cache

import snowballstemmer
from stop_words import StopWordError, get_stop_words

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STEMMERS = {
    "nl": "dutch",
    "fr": "french",
    "en": "english",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "tr": "turkish",
    "pl": "polish",
}


def primary_language(tag: str) -> str:
    return tag.split("-", 1)[0].lower()


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def terms(text: str, language: str) -> list[str]:
    language = primary_language(language)
    stop = _stop_words(language)
    return stem([word for word in words(text) if word not in stop], language)


def query_terms(text: str, languages: list[str]) -> list[str]:
    """A query's terms for content in several languages: a word that is a stop word in any of them
    carries no meaning, and each remaining word is stemmed the way each language's content was."""
    stop = frozenset().union(*(_stop_words(primary_language(lang)) for lang in languages))
    kept = [word for word in words(text) if word not in stop]
    return sorted({term for lang in languages for term in stem(kept, lang)})


def stem(tokens: list[str], language: str) -> list[str]:
    stemmer = _stemmer(primary_language(language))
    return stemmer.stemWords(tokens) if stemmer else tokens


@cache
def _stop_words(language: str) -> frozenset[str]:
    try:
        return frozenset(get_stop_words(language))
    except StopWordError:
        return frozenset()


@cache
def _stemmer(language: str):
    name = _STEMMERS.get(language)
    return snowballstemmer.stemmer(name) if name and name in snowballstemmer.algorithms() else None
