"""Which language a question is in, offline: Lingua, with a stop-word vote for short questions.

Lingua is restricted to the languages people in Belgium and the Netherlands most often write in, in
its low-accuracy mode (trigrams only: about 25 MB and under a millisecond a question; the full mode
takes 400 MB and is no better on questions). On a few words trigrams can mislead ("I lost my id card"
reads as German); the function words of a question ("I", "my") then decide among the languages
whose stop-word lists we have.
"""

from __future__ import annotations

from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from loket.i18n import LANGUAGES, negotiate
from loket.search.analysis import stop_words, words

DETECTED = (
    Language.DUTCH,
    Language.FRENCH,
    Language.ENGLISH,
    Language.GERMAN,
    Language.TURKISH,
    Language.POLISH,
    Language.SPANISH,
    Language.ITALIAN,
    Language.PORTUGUESE,
    Language.ROMANIAN,
    Language.ARABIC,
    Language.RUSSIAN,
    Language.UKRAINIAN,
)
SURE = 0.9  # Lingua alone decides above this
# Below this Lingua's guess is not used: "hallo" or "ok" could be half a dozen languages.
CONFIDENT = 0.6


@cache
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*DETECTED).with_low_accuracy_mode().build()


def detect(text: str) -> tuple[str | None, float]:
    """The ISO 639-1 code of the question's language and how sure Lingua is, or None when unsure."""
    values = _detector().compute_language_confidence_values(text)
    best, confidence = (
        (values[0].language.iso_code_639_1.name.lower(), values[0].value) if values else (None, 0.0)
    )
    if confidence >= SURE:
        return best, confidence
    if voted := _stop_word_vote(text):
        return voted, confidence if voted == best else 0.0
    return (best, confidence) if confidence >= CONFIDENT else (None, confidence)


def _stop_word_vote(text: str) -> str | None:
    """The interface language with clearly the most function words in `text`, if one has."""
    tokens = words(text)
    counts = sorted(((sum(t in stop_words(lang) for t in tokens), lang) for lang in LANGUAGES), reverse=True)
    (top, language), (runner_up, _) = counts[0], counts[1]
    return language if top > runner_up else None


def interface_language(detected: str | None, requested: str | None) -> str:
    """The language of fixed texts: the question's own when the interface speaks it, else the one asked
    for, else English for a question in another language we recognised, else Dutch."""
    if detected in LANGUAGES:
        return detected
    if requested and negotiate(requested, default="") in LANGUAGES:
        return negotiate(requested)
    return "en" if detected else "nl"
