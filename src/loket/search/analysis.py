"""Words to index terms: lower case, stop words dropped, compounds split, Snowball stems per language.

Dutch and German glue words together ("bewonersparkeerkaart"): a word is also indexed as the known
words it is made of, so "parkeerkaart" finds it. "Known" means seen in the indexed content.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
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
_COMPOUNDING = {"nl", "de"}
_LINKS = ("s", "e", "en", "n")  # Dutch and German linking sounds: bewoner-s-kaart, kind-er-en-bijslag
MIN_PART = 4


def primary_language(tag: str) -> str:
    return tag.split("-", 1)[0].lower()


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class Analyzer:
    """Turns text into terms; knows the vocabulary of the indexed content to split compounds."""

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        self.vocabulary = {word for word in vocabulary if len(word) >= MIN_PART}

    def terms(self, text: str, language: str) -> list[str]:
        language = primary_language(language)
        stop = stop_words(language)
        return self._analysed([word for word in words(text) if word not in stop], language)

    def query_terms(self, text: str, languages: Iterable[str]) -> list[str]:
        """A query's terms for content in several languages: a word that is a stop word in any of them
        carries no meaning, and each remaining word is analysed the way each language's content was."""
        languages = sorted({primary_language(lang) for lang in languages})
        stop = frozenset().union(*(stop_words(lang) for lang in languages))
        kept = [word for word in words(text) if word not in stop]
        return sorted({term for language in languages for term in self._analysed(kept, language)})

    def _analysed(self, kept: list[str], language: str) -> list[str]:
        if language in _COMPOUNDING:
            kept = [part for word in kept for part in (word, *self.parts(word))]
        return stem(kept, language)

    def parts(self, word: str, depth: int = 2) -> list[str]:
        """The known words a compound is made of, longest head first: one split, then the tail again."""
        if depth == 0 or len(word) < 2 * MIN_PART:
            return []
        for cut in range(len(word) - MIN_PART, MIN_PART - 1, -1):
            head, tail = word[:cut], word[cut:]
            if tail not in self.vocabulary:
                continue
            for link in ("", *_LINKS):
                base = head[: len(head) - len(link)]
                if head.endswith(link) and len(base) >= MIN_PART and base in self.vocabulary:
                    return [base, tail, *self.parts(tail, depth - 1)]
        return []


@cache
def stop_words(language: str) -> frozenset[str]:
    try:
        return frozenset(get_stop_words(language))
    except StopWordError:
        return frozenset()


def stem(tokens: list[str], language: str) -> list[str]:
    stemmer = _stemmer(primary_language(language))
    return stemmer.stemWords(tokens) if stemmer else tokens


class _PerThread(threading.local):
    """Stemmers, one per thread and language: a stemmer object keeps the word it works on in its own
    fields (PyStemmer's, if installed, a cache too), so request threads must not share one: a shared
    Dutch stemmer failed with IndexError under concurrent load (issue 16). A new stemmer per call would
    be safe too and cheap (2 µs, beside 150 µs to stem one word), but would lose PyStemmer's cache."""

    def __init__(self) -> None:
        self.stemmers: dict[str, object] = {}


_PER_THREAD = _PerThread()


def _stemmer(language: str):
    name = _STEMMERS.get(language)
    stemmers = _PER_THREAD.stemmers
    if name and name not in stemmers:
        stemmers[name] = snowballstemmer.stemmer(name) if name in snowballstemmer.algorithms() else None
    return stemmers.get(name)


def terms(text: str, language: str) -> list[str]:
    """Terms without compound splitting, for comparing short texts outside the index."""
    return _PLAIN.terms(text, language)


_PLAIN = Analyzer()
