"""Government vocabulary: the words people use next to the words the content uses.

A synonyms file has one group per line, comma-separated, `#` for comments:
`id-kaart, idkaart, identiteitskaart, eid`. When a question contains one member of a group (as
consecutive words), the others are searched too. The built-in list ships in `synonyms.txt`; content
owners add their own with `LOKET_SYNONYMS_FILE`.
"""

from __future__ import annotations

from pathlib import Path

from loket.search.analysis import words

BUILT_IN = Path(__file__).parent / "synonyms.txt"


class Synonyms:
    def __init__(self, groups: list[list[str]]) -> None:
        self._groups = [[tuple(words(member)) for member in group] for group in groups]
        self._groups = [[m for m in group if m] for group in self._groups]

    @classmethod
    def load(cls, *paths: Path | None) -> Synonyms:
        groups = []
        for path in paths:
            if path is None:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                members = [member.strip() for member in line.split(",") if member.strip()]
                if len(members) < 2:
                    raise ValueError(f"{path}:{number}: a synonym group needs at least two members")
                groups.append(members)
        return cls(groups)

    def expansions(self, text: str) -> list[str]:
        """The other members of every group that the text mentions."""
        found = words(text)
        extra: list[str] = []
        for group in self._groups:
            if any(_contains(found, member) for member in group):
                extra.extend(" ".join(member) for member in group if not _contains(found, member))
        return extra


def _contains(haystack: list[str], needle: tuple[str, ...]) -> bool:
    size = len(needle)
    return any(tuple(haystack[i : i + size]) == needle for i in range(len(haystack) - size + 1))
