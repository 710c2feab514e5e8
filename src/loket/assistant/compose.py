"""Composers turn retrieved sections into an answer. The extractive one is the default and the fallback.

It quotes: the item's summary, then the sentences of the matched section that share most words with the
question, whole and in their order. It cannot say what the source does not say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from loket.assistant.grounding import sentences
from loket.search.analysis import primary_language, terms
from loket.search.schemas import SearchHit

MAX_SENTENCES = 3
MAX_CITATIONS = 2
# A hit in the question's own language is preferred over a slightly better one in another language.
SAME_LANGUAGE_MARGIN = 0.05


@dataclass
class Composition:
    text: str
    cited: list[SearchHit]  # the sources the text is taken from, first the main one
    by: str = "extractive"  # the composer's name
    declined: bool = False  # the composer found that the sources do not answer the question
    details: dict = field(default_factory=dict)


class Composer(Protocol):
    name: str

    def compose(self, question: str, hits: list[SearchHit], language: str | None) -> Composition:
        """An answer to `question` from `hits` (confident ones only), in `language` where possible."""


def answer_order(hits: list[SearchHit], language: str | None) -> list[SearchHit]:
    """The hits to answer from, the main one first: the best, or the best in the question's language
    when that is nearly as good."""
    if not hits:
        return []
    best = hits[0]
    own = [h for h in hits if language and primary_language(h.item.language) == language]
    if own and own[0].score >= best.score - SAME_LANGUAGE_MARGIN:
        best = own[0]
    return [best] + [h for h in hits if h is not best]


class ExtractiveComposer:
    name = "extractive"

    def compose(self, question: str, hits: list[SearchHit], language: str | None) -> Composition:
        ordered = answer_order(hits, language)
        best = ordered[0]
        return Composition(" ".join(best_sentences(question, best)), ordered[:MAX_CITATIONS])


def best_sentences(question: str, hit: SearchHit) -> list[str]:
    language = primary_language(hit.item.language)
    wanted = set(terms(question, language))
    summary = sentences(hit.item.summary)[:2]
    candidates = [s for s in sentences(hit.section.text) if s not in summary]
    overlap = [len(wanted & set(terms(sentence, language))) for sentence in candidates]
    room = MAX_SENTENCES - len(summary)
    ranked = sorted(range(len(candidates)), key=lambda i: (-overlap[i], i))
    chosen = [i for i in ranked[:room] if overlap[i] > 0]
    return summary + [candidates[i] for i in sorted(chosen)] or candidates[:2]


def source_text(hit: SearchHit) -> str:
    """What a citation of `hit` vouches for: the item's summary and the matched section."""
    return f"{hit.item.title}. {hit.item.summary}\n{hit.section.heading}\n{hit.section.text}"
