"""Crisis questions get the emergency or suicide prevention number, in the person's language."""

import json
from pathlib import Path

import pytest

from loket.assistant.crisis import Crisis, detect
from loket.config import Settings
from loket.evaluation.questions import TUNING
from loket.services import Services

EVAL = Path(__file__).resolve().parents[1] / "eval"

CRISES = [
    ("ik wil gewoon niet meer leven, het hoeft voor mij niet meer", Crisis.SUICIDE),
    ("Ik denk erover om zelfmoord te plegen", Crisis.SUICIDE),
    ("je veux mettre fin à mes jours", Crisis.SUICIDE),
    ("some days I think I should kill myself", Crisis.SUICIDE),
    ("Ich will nicht mehr leben", Crisis.SUICIDE),
    ("mijn huis staat in brand!", Crisis.EMERGENCY),
    ("er ligt iemand bewusteloos op straat en hij ademt niet", Crisis.EMERGENCY),
    ("il y a un incendie dans mon immeuble", Crisis.EMERGENCY),
    ("someone is having a heart attack", Crisis.EMERGENCY),
]


@pytest.mark.parametrize(("question", "kind"), CRISES)
def test_crises_are_recognised(question, kind):
    assert detect(question) == kind


def test_questions_about_services_with_crisis_words_are_not_crises():
    assert detect("hoeveel kost een brandverzekering?") is None
    assert detect("heb ik een brandveiligheidsattest nodig voor mijn café") is None


def test_tuning_questions_are_crises_exactly_when_they_expect_signposting():
    """On the tuning part only: the held-out part measures the rule, it does not set it."""
    records = [
        record
        for path in EVAL.glob("*.jsonl")
        for record in map(json.loads, path.read_text(encoding="utf-8").splitlines())
        if record["part"] == TUNING
    ]
    assert len(records) > 250
    crises = [r["question"] for r in records if r.get("status") == "signposted"]
    assert crises
    assert [q for q in crises if not detect(q)] == []
    assert [r["question"] for r in records if r.get("status") != "signposted" and detect(r["question"])] == []


def test_the_answer_gives_the_deployments_numbers(settings):
    services = Services.build(settings.model_copy(update={"suicide_line": "113", "emergency_number": "112"}))
    answer = services.assistant.ask("Eerlijk gezegd wil ik niet meer leven", "nl")
    assert answer.status == "signposted"
    assert "113" in answer.answer and "112" in answer.answer and "1813" not in answer.answer
    assert answer.citations == []
    emergency = services.assistant.ask("There is a fire in my flat", "en")
    assert emergency.status == "signposted" and "Call 112 now" in emergency.answer
    services.db.dispose()


def test_defaults_are_flemish():
    settings = Settings(_env_file=None)
    assert (settings.emergency_number, settings.suicide_line) == ("112", "1813")
