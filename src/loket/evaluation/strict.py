"""The evaluation's own grounding check: stricter than, and independent of, the one that filters answers.

The pipeline's check (`loket.assistant.grounding`) lets a sentence through when most of its words and
all of its numbers occur somewhere in the cited sources. An extractive answer passes it by
construction, so it cannot tell whether the answers are grounded; this one judges what the citizen is
shown against the passage it cites, sentence by sentence:

- An extractive answer quotes. Every sentence must be a verbatim span of a cited section (spaces
  aside): nothing added, nothing joined from two places into one.
- Any other answer (an LLM's) may rephrase, but every sentence must agree with the passage sentence
  that supports it best (most shared words): every number in it is in that sentence, its polarity is
  that sentence's (one says "not", "no", "never" and the other does not: a flipped meaning), and every
  name it uses (a capitalised word inside the sentence, an abbreviation) occurs in the cited passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from loket.assistant.grounding import number_values, sentences
from loket.search.analysis import primary_language, terms

# The words that turn a statement around ("ne" of "ne … pas" is left out: "pas" counts once).
NEGATIONS = {
    "nl": {"niet", "geen", "nooit", "niets", "niks", "niemand", "nergens", "noch", "zonder"},
    "en": {"not", "no", "never", "none", "nothing", "nobody", "nowhere", "nor", "without", "cannot"},
    "fr": {"pas", "jamais", "rien", "aucun", "aucune", "nul", "nulle", "sans", "ni"},
    "de": {"nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "nichts"}
    | {"niemand", "ohne"},
}
_WORD = re.compile(r"[\wÀ-ÿ'’-]+")
_LIST_ITEM = re.compile(r"(?<=\S) (?=- )")  # where a list item ("- …") follows on one line
_CONTRACTED_NOT = re.compile(r"n['’]t\b", re.IGNORECASE)


@dataclass(frozen=True)
class StrictSentence:
    sentence: str
    problems: tuple[str, ...]  # "not quoted", "number 75", "polarity", "name Utrecht"

    @property
    def grounded(self) -> bool:
        return not self.problems


def strict_check(answer: str, cited: list[str], language: str, quoted: bool) -> list[StrictSentence]:
    """Each sentence of `answer` with what is wrong with it; `quoted`: the answer claims to quote."""
    language = primary_language(language)
    return [
        StrictSentence(
            sentence, _quote_problems(sentence, cited) if quoted else _agreement(sentence, cited, language)
        )
        for sentence in sentences(answer)
    ]


def _quote_problems(sentence: str, cited: list[str]) -> tuple[str, ...]:
    """Each quoted piece must be in a cited section: a sentence, or a list item the answer runs on
    after it ("… landen: - Albanië" quotes "landen:" and the item "- Albanië")."""
    texts = [_spaced(text) for text in cited]
    pieces = [piece for piece in _LIST_ITEM.split(_spaced(sentence)) if piece]
    return () if all(any(piece in text for text in texts) for piece in pieces) else ("not quoted",)


def _agreement(sentence: str, cited: list[str], language: str) -> tuple[str, ...]:
    passage = _passage("\n".join(cited), language)
    if not passage.sentences:
        return ("no passage",)
    own = set(terms(sentence, language))
    best = max(passage.sentences, key=lambda candidate: len(own & candidate.terms))
    problems = [f"number {value}" for value in number_values(sentence) - best.numbers]
    if negated(sentence, language) != best.negated:
        problems.append("polarity")
    problems += [f"name {name}" for name in names(sentence) if name not in passage.words]
    return tuple(problems)


@dataclass(frozen=True)
class _Sentence:
    terms: frozenset[str]
    numbers: frozenset[str]
    negated: bool


@dataclass(frozen=True)
class _Passage:
    sentences: tuple[_Sentence, ...]
    words: frozenset[str]


@lru_cache(maxsize=64)
def _passage(text: str, language: str) -> _Passage:
    """A cited passage read once: an evaluation checks many sentences against the same few pages."""
    return _Passage(
        tuple(
            _Sentence(
                frozenset(terms(part, language)), frozenset(number_values(part)), negated(part, language)
            )
            for part in sentences(text)
        ),
        frozenset(_WORD.findall(text)),
    )


def _read(sentence: str, language: str) -> _Sentence:
    return _Sentence(
        frozenset(terms(sentence, language)), frozenset(number_values(sentence)), negated(sentence, language)
    )


def negated(sentence: str, language: str) -> bool:
    """Whether the sentence says no: an odd number of negations (two cancel out: "niet zonder")."""
    words = _WORD.findall(_CONTRACTED_NOT.sub(" not", sentence).lower())
    return sum(word in NEGATIONS.get(language, set()) for word in words) % 2 == 1


def names(sentence: str) -> list[str]:
    """The names a sentence uses: capitalised words after its first, and abbreviations (BRP, DigiD)."""
    words = _WORD.findall(sentence)
    return [
        word
        for position, word in enumerate(words)
        if (position > 0 and word[:1].isupper()) or (len(word) > 1 and sum(c.isupper() for c in word) > 1)
    ]


def _spaced(text: str) -> str:
    return " ".join(text.split())
