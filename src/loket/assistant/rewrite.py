"""Follow-ups made standalone: "en voor mijn kind?" after a passport question searches for both.

The extractive default uses rules: a message that opens like a continuation ("en", "and", "et ...",
"what about") or is short and points back ("hoeveel kost dat?") is searched together with the
conversation's previous standalone question. The embeddings and BM25 both do well on the joined text.
"""

from __future__ import annotations

import re

_CONTINUATION = re.compile(
    r"^\W*(?:en|and|et|und|ook|also|aussi|auch|maar|but|mais|aber|wat als|what if|what about|how about"
    r"|and if|en als|et si|und wenn|hoe zit het met|qu'en est-il|et pour|und für|en voor|and for|idem"
    r"|same for|pareil pour|dasselbe für|zelfde voor)\b",
    re.IGNORECASE,
)
_POINTS_BACK = re.compile(
    r"\b(?:dat|dit|die|deze|daarvoor|ervoor|daar|erover|hem|haar|het|it|that|this|those|them|there"
    r"|ça|cela|ceci|celui|celle|y|en|das|dies|dafür|dort|darüber|es|ihn|sie)\b",
    re.IGNORECASE,
)
SHORT = 6  # words: longer messages that point back usually carry their own topic


def is_follow_up(question: str) -> bool:
    words = question.split()
    return bool(_CONTINUATION.match(question)) or (
        len(words) <= SHORT and bool(_POINTS_BACK.search(question))
    )


def standalone(question: str, history: list[str]) -> str:
    """The question as retrieval should see it; unchanged when it stands on its own."""
    if not history or not is_follow_up(question):
        return question
    return f"{history[-1]} {question}"
