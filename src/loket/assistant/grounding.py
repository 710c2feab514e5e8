"""Is every sentence of an answer supported by its sources? A lexical check that needs no model.

A sentence is supported when most of its content words (stemmed, stop words left out) occur in the
cited sources and every number in it does: amounts, dates and deadlines are where an invented answer
does harm. Quoting the sources, as the extractive composer does, passes by construction; a model that
adds what the sources do not say fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loket.search.analysis import primary_language, terms

SUPPORTED_SHARE = 0.7
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý0-9‘'\"(])|\n+")


@dataclass(frozen=True)
class SentenceSupport:
    sentence: str
    share: float
    missing_numbers: tuple[str, ...]

    @property
    def supported(self) -> bool:
        return self.share >= SUPPORTED_SHARE and not self.missing_numbers


@dataclass(frozen=True)
class Grounding:
    sentences: tuple[SentenceSupport, ...]

    @property
    def grounded(self) -> bool:
        return bool(self.sentences) and all(s.supported for s in self.sentences)

    @property
    def unsupported(self) -> int:
        return sum(not s.supported for s in self.sentences)


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if len(part.strip()) > 1]


def check(answer: str, sources: list[str], language: str) -> Grounding:
    language = primary_language(language)
    source_text = " ".join(sources)
    source_terms = set(terms(source_text, language))
    source_numbers = number_values(source_text)
    checked = []
    for sentence in sentences(answer):
        own = set(terms(sentence, language))
        share = len(own & source_terms) / len(own) if own else 1.0
        missing = tuple(n for n in _NUMBER.findall(sentence) if _plain(n) not in source_numbers)
        checked.append(SentenceSupport(sentence, round(share, 2), missing))
    return Grounding(tuple(checked))


def number_values(text: str) -> set[str]:
    """The numbers in `text`, written one way."""
    return {_plain(number) for number in _NUMBER.findall(text)}


def _plain(number: str) -> str:
    """'€ 1.250,00', '1,250.00' and '1250' are the same amount."""
    return re.sub(r"[.,]", "", re.sub(r"[.,]00$", "", number))
