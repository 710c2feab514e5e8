"""The demo catalogue that `make run` loads: ours, complete, and useful on a fresh machine."""

from collections import Counter

import pytest

from loket.catalog.service import DEMO_CATALOGUE, DEMO_SOURCE


@pytest.fixture
def demo(services):
    report = services.catalog.load_demo_if_empty()
    assert report is not None and report.ok, report and report.problems
    services.search.sync()  # what the job a catalogue change queues does
    return services


def test_loads_once_and_whole(demo):
    items = demo.catalog.active_items()
    assert len(items) == len(list(DEMO_CATALOGUE.glob("*.md")))
    services = {item.source_id for item in items}
    assert 20 <= len(services) <= 40
    languages = Counter(item.language for item in items)
    assert languages["nl"] == len(services), "every service is described in Dutch"
    assert languages["fr"] >= 3 and languages["en"] >= 3
    assert all(item.source == DEMO_SOURCE and item.audiences and item.authority for item in items)
    assert all(item.url == f"/diensten/{item.id}" for item in items)
    assert demo.catalog.load_demo_if_empty() is None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Mijn identiteitskaart is gestolen, wat moet ik doen?", "eid-verloren-gestolen"),
        ("Hoe vraag ik een bewonersparkeerkaart aan?", "bewonersparkeerkaart"),
        ("Hoe krijg ik een parkeerkaart voor mijn straat?", "bewonersparkeerkaart"),
        ("Ik wil een vzw oprichten", "vzw-oprichten"),
        ("Welke premie krijg ik als ik mijn huis renoveer?", "mijn-verbouwpremie"),
    ],
)
def test_answers_common_questions_from_the_demo(demo, question, expected):
    answer = demo.assistant.ask(question, "nl")
    assert answer.status == "answered"
    cited = {
        item.source_id
        for item in demo.catalog.active_items()
        for citation in answer.citations
        if citation.url.startswith(item.url + "#")
    }
    assert expected in cited
