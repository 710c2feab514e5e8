"""The answerability judge against a real instruction model: Qwen2.5-Coder-1.5B-Instruct on llama.cpp's
server, with log-probabilities (issue 17).

Search always finds a nearest page, even when the catalogue has nothing on the subject; the judge asks
the model whether that page is about what the question asks, and the pipeline answers `unanswerable`
below the threshold chosen on the tuning questions (`benchmarks/judge.py`). The pages are the real
Rijksoverheid VAC pages; the cases are clear-cut ones, so that a failure means the plumbing or the
prompt broke, not that the model hesitated. The model is small and its probabilities are soft: it
gives "Hoe vraag ik DigiD aan?" 0.55 for a page on a deceased person's ashes, so these tests claim an
order and clear cases, and its figures (benchmarks/judge.py) say how far it gets on real questions.
One model on one thread: about 3 s a judgement on the CI machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loket.assistant.llm import ChatClient, LLMJudge
from loket.assistant.pipeline import Turn
from loket.assistant.schemas import Status
from loket.assistant.stages import JudgeAnswerability
from loket.config import ANSWER_JUDGE_THRESHOLD, Settings
from loket.search.schemas import SearchHit
from loket.services import Services
from tests.llm import JUDGE_ALIAS, stage_turn

# The catalogue is only read here: the database plays no part, so SQLite alone.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TIMEOUT = 600.0  # a busy machine makes a judgement slow, not wrong
PASSPORT_APPLY = "Hoe kan ik een paspoort of identiteitskaart aanvragen?"
PASSPORT_FEES = "Wat kost een paspoort of identiteitskaart?"
WIND_TURBINES = "Welke regels gelden er voor windmolens vlak bij een woonwijk?"
DIGID_APPLY = "Hoe vraag ik DigiD aan?"
# Questions on a subject next to the passport pages (the model gave them 0.05 and 0.10).
OFF_THE_SUBJECT = [
    "Hoe krijg ik een identiteitskaart voor mijn hond?",
    "Hoe vraag ik een paspoort aan voor mijn paard?",
]


@pytest.fixture
def settings(database_url, tmp_path, judge_server) -> Settings:
    """This module's loket asks the judge (the conftest's `services` use these settings)."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        llm_base_url=judge_server.base_url,
        llm_model=JUDGE_ALIAS,
        llm_timeout=TIMEOUT,
        answer_judge="llm",
        _env_file=None,
    )


@pytest.fixture
def judge(judge_server) -> Iterator[LLMJudge]:
    client = ChatClient(judge_server.base_url, JUDGE_ALIAS, timeout=TIMEOUT, retries=0)
    yield LLMJudge(client)
    judge_server.alive_or_fail()
    client.close()


def _page(services, title: str) -> SearchHit:
    item = next(item for item in services.catalog.active_items() if item.title == title)
    return SearchHit(item, item.sections[0], 1.0)


def _judged(judge: LLMJudge, question: str, hit: SearchHit) -> tuple[Turn, str, dict]:
    turn = stage_turn(question, [hit])
    outcome, details = JudgeAnswerability(judge, ANSWER_JUDGE_THRESHOLD).run(turn)
    return turn, outcome, details


def test_the_page_on_the_subject_is_likelier_than_one_off_it(bzk_loaded, judge):
    on_subject = judge.on_topic("Wat kost een nieuw paspoort?", _page(bzk_loaded, PASSPORT_FEES))
    off_subject = judge.on_topic("Wat kost een nieuw paspoort?", _page(bzk_loaded, WIND_TURBINES))
    assert 0.0 <= off_subject < on_subject <= 1.0, (on_subject, off_subject)


def test_an_answer_from_a_page_off_the_subject_becomes_unanswerable(bzk_loaded, judge):
    turn, outcome, details = _judged(judge, OFF_THE_SUBJECT[0], _page(bzk_loaded, PASSPORT_APPLY))
    assert outcome == "best page is off the subject", details
    assert turn.stopped and turn.answer.status is Status.UNANSWERABLE
    assert details["on_topic"] < details["threshold"] == ANSWER_JUDGE_THRESHOLD


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("Hoe vraag ik een paspoort aan voor mijn kind?", PASSPORT_APPLY),
        ("Hoe krijg ik een DigiD?", DIGID_APPLY),
    ],
)
def test_an_answer_from_the_page_on_the_subject_goes_on(bzk_loaded, judge, question, title):
    turn, outcome, details = _judged(judge, question, _page(bzk_loaded, title))
    assert outcome == "on the subject", details
    assert not turn.stopped and turn.answer.status is Status.ANSWERED
    assert details["on_topic"] >= ANSWER_JUDGE_THRESHOLD


@pytest.mark.parametrize("question", OFF_THE_SUBJECT)
def test_the_pipeline_with_the_judge_says_unanswerable_where_a_neighbouring_page_would_answer(
    bzk_loaded, settings, question
):
    """Without a judge the passport page answers these (its score passes the confidence bar); with the
    judge the same question is `unanswerable`, decided by the judge."""
    plain = Services.build(settings.model_copy(update={"llm_base_url": None, "answer_judge": ""}))
    try:
        assert plain.assistant.ask(question).status is Status.ANSWERED
    finally:
        plain.db.dispose()
    answer = bzk_loaded.assistant.ask(question)
    assert answer.status is Status.UNANSWERABLE, (answer.answer, [c.url for c in answer.citations])
    (*_, message) = bzk_loaded.assistant.conversation(answer.conversation_id).messages
    assert message.trace[-1]["stage"] == "judge", message.trace[-1]
    assert message.trace[-1]["details"]["on_topic"] < ANSWER_JUDGE_THRESHOLD
