"""The rules-as-code engine of the proactive block: the demo rules' YAML situations, what `evaluate`
concludes (missing facts included), the texts of "why am I seeing this", and the USAGov importer."""

import csv
import dataclasses
import json
import random
import time
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import frontmatter
import pytest
import yaml
from openfisca_core.simulations import Simulation
from openfisca_core.tools.test_runner import run_tests

from loket.i18n import LANGUAGES
from loket.proactive.engine import OUTCOMES, RuleSet, flanders, variable_name
from loket.proactive.flanders import TESTS
from loket.proactive.usa import LIFE_EVENT, usa

ON = date(2026, 9, 1)
LIFE_EVENTS = (
    "loket.birth.registered",
    "loket.address.changed",
    "loket.person.turned-18",
    "loket.partner.deceased",
    "loket.enterprise.started",
    "loket.unemployment.started",
)
CATALOGUE = Path(__file__).parents[1] / "src/loket/catalog/demo"
USA = Path(__file__).parents[2] / "shared" / "data" / "usa_benefits_eligibility"

TENANT = {"rents_home": True, "owns_home": False, "household_income": 26000, "lives_in_flanders": True}
NEWBORN = {"youngest_child_birth_date": date(2026, 5, 1), "lives_in_flanders": True}


def _one(rules: RuleSet, rule_id: str, facts: dict, on: date = ON):
    (outcome,) = rules.evaluate([facts], on, [rules.rules[rule_id]])[0]
    return outcome


# The demo rules' YAML situations, through OpenFisca's own runner


def test_every_yaml_situation_passes():
    assert run_tests(flanders().system, [str(TESTS)]) == 0


def test_a_wrong_expectation_fails(tmp_path):
    situations = yaml.safe_load((TESTS / "housing.yaml").read_text(encoding="utf-8"))
    wrong = situations[1]
    wrong["output"] = {name: not value for name, value in wrong["output"].items()}
    (tmp_path / "wrong.yaml").write_text(yaml.safe_dump([wrong]), encoding="utf-8")
    assert run_tests(flanders().system, [str(tmp_path)]) != 0


def test_every_rule_has_yaml_situations():
    tested = set()
    for path in TESTS.glob("*.yaml"):
        for situation in yaml.safe_load(path.read_text(encoding="utf-8")):
            tested |= set(situation["output"])
    assert {variable_name(rule_id) for rule_id in flanders().rules} <= tested


# The demo rules' metadata


def test_the_demo_rules_lead_to_catalogue_items_for_every_life_event():
    rules = flanders().rules.values()
    assert len({rule.service for rule in rules}) >= 10
    assert all((CATALOGUE / f"{rule.service}.nl.md").exists() for rule in rules)
    assert {event for rule in rules for event in rule.life_events} == set(LIFE_EVENTS)
    companies = {rule.id for rule in flanders().for_event("loket.enterprise.started", "company")}
    assert companies == {"btw-nummer-activeren", "kbo-uittreksel"}
    assert flanders().for_event("loket.enterprise.started") == []


def test_every_rule_and_fact_speaks_four_languages():
    rules = flanders()
    for rule in rules.rules.values():
        assert rule.legal_source.startswith("https://") and rule.version
        assert all(rule.title[language] and rule.explanation[language] for language in LANGUAGES)
    for fact in rules.facts.values():
        assert all(fact.question[language] and "{value}" in fact.reason[language] for language in LANGUAGES)


# What evaluate concludes


def test_eligible_granted_and_not_eligible():
    rules = flanders()
    applied = _one(rules, "groeipakket-startbedrag", NEWBORN)
    assert (applied.outcome, applied.missing, applied.on) == ("eligible", (), ON)
    assert applied.used == NEWBORN
    assert _one(rules, "groeipakket-basisbedrag", NEWBORN).outcome == "granted"
    elsewhere = _one(rules, "groeipakket-basisbedrag", NEWBORN | {"lives_in_flanders": False})
    assert elsewhere.outcome == "not_eligible"


def test_a_missing_fact_the_outcome_turns_on_is_asked_never_taken_as_false():
    rules = flanders()
    childcare = _one(rules, "groeipakket-kinderopvangtoeslag", NEWBORN)
    assert (childcare.outcome, childcare.missing) == ("need_info", ("child_in_childcare",))
    assert "child_in_childcare" not in childcare.used
    unknown = _one(rules, "vlaamse-huurpremie", {"household_income": 12000, "lives_in_flanders": True})
    assert (unknown.outcome, unknown.missing) == ("need_info", ("rents_home", "owns_home"))


def test_a_missing_fact_the_outcome_does_not_turn_on_is_not_asked():
    rich = _one(flanders(), "vlaamse-huurpremie", {"household_income": 90000, "lives_in_flanders": True})
    assert (rich.outcome, rich.missing) == ("not_eligible", ())


def test_a_missing_date_leaves_the_outcome_open():
    kids_id = _one(flanders(), "kids-id", {"lives_in_flanders": True})
    assert (kids_id.outcome, kids_id.missing) == ("need_info", ("youngest_child_birth_date",))


def test_a_parameter_change_applies_from_its_date():
    rules = flanders()
    before = _one(rules, "vlaamse-huurpremie", TENANT, date(2025, 12, 31))
    after = _one(rules, "vlaamse-huurpremie", TENANT, date(2026, 1, 1))
    assert (before.outcome, before.on, after.outcome, after.on) == (
        "not_eligible",
        date(2025, 12, 31),
        "eligible",
        date(2026, 1, 1),
    )


def test_a_rule_outside_its_validity_is_not_evaluated():
    rules = flanders()
    parking = rules.rules["bewonersparkeerkaart"]  # valid from 2025 to the end of 2030
    facts = {"postal_code": "2000", "has_car": True}
    assert [o.outcome for o in rules.evaluate([facts], date(2030, 12, 31), [parking])[0]] == ["eligible"]
    assert rules.evaluate([facts], date(2031, 1, 1), [parking]) == [[]]
    assert rules.evaluate([facts], date(2024, 12, 31), [parking]) == [[]]
    ended = dataclasses.replace(rules.rules["groeipakket-startbedrag"], valid_until=date(2026, 8, 31))
    assert rules.evaluate([NEWBORN], ON, [ended]) == [[]]
    in_force = {o.rule.id for o in rules.evaluate([NEWBORN], date(2018, 12, 31))[0]}
    assert "groeipakket-startbedrag" not in in_force and "kids-id" in in_force


def test_a_rule_is_given_only_the_facts_it_declares(monkeypatch):
    rules = flanders()
    everything = {
        "birth_date": date(1950, 1, 1),
        "youngest_child_birth_date": date(2026, 1, 1),
        "lives_in_flanders": True,
        "postal_code": "9000",
        "partner_deceased_on": date(2026, 8, 1),
        "unemployed_since": date(2026, 6, 1),
        "enterprise_started_on": date(2026, 7, 1),
        "household_income": 20000,
        "child_in_childcare": True,
        "studies_higher_education": False,
        "rents_home": True,
        "owns_home": False,
        "has_car": True,
        "needs_care": True,
    }
    assert set(everything) == set(rules.facts)
    given = []
    set_input = Simulation.set_input

    def spy(simulation, variable, period, value):
        given.append(variable)
        return set_input(simulation, variable, period, value)

    monkeypatch.setattr(Simulation, "set_input", spy)
    for rule in rules.rules.values():
        given.clear()
        (outcome,) = rules.evaluate([everything], ON, [rule])[0]
        assert set(given) == {variable_name(name) for name in rule.inputs}
        assert set(outcome.used) == set(rule.inputs)


def test_a_rule_that_reads_an_undeclared_fact_is_refused():
    rules = flanders()
    rent = rules.rules["vlaamse-huurpremie"]
    for inputs in (("rents_home", "household_income", "lives_in_flanders"), (*rent.inputs, "has_car")):
        with pytest.raises(ValueError, match="reads"):
            RuleSet(rules.system, rules.facts, [dataclasses.replace(rent, inputs=inputs)], rules.probes)


def test_ten_thousand_subjects_in_one_go():
    rules = flanders()
    draw = random.Random(20)
    subjects = [
        {
            "birth_date": date(1940, 1, 1) + timedelta(days=draw.randrange(30000)),
            "youngest_child_birth_date": date(2005, 1, 1) + timedelta(days=draw.randrange(8000)),
            "lives_in_flanders": draw.random() < 0.8,
            "household_income": draw.randrange(60000),
        }
        for _ in range(10000)
    ]
    started = time.perf_counter()
    outcomes = rules.evaluate(subjects, ON)
    assert time.perf_counter() - started < 5
    assert len(outcomes) == 10000 and all(len(row) == len(rules.rules) for row in outcomes)
    assert {o.outcome for row in outcomes for o in row} == set(OUTCOMES)


# Why am I seeing this: reasons and questions


def test_reasons_name_every_fact_used_in_four_languages():
    rules = flanders()
    facts = {"birth_date": date(2000, 1, 3), "household_income": 30000, "owns_home": False}
    outcome = _one(rules, "sociale-woning-inschrijven", facts | {"lives_in_flanders": True}, date(2026, 1, 1))
    assert outcome.outcome == "eligible"
    assert rules.reasons(outcome, "nl") == [
        "U bent geboren op 3 januari 2000.",
        "Het inkomen van uw gezin is € 30.000 per jaar.",
        "Eigenaar van een woning of bouwgrond: nee.",
        "Wonen in Vlaanderen: ja.",
        "U hebt waarschijnlijk recht op: Inschrijven voor een sociale huurwoning. "
        "U moet het wel zelf aanvragen.",
    ]
    dates = {"fr": "3 janvier 2000", "en": "January 3, 2000", "de": "3. Januar 2000"}
    for language, said in dates.items():
        reasons = rules.reasons(outcome, language)
        assert len(reasons) == len(outcome.used) + 1 and said in reasons[0]
        assert reasons[-1].count(outcome.rule.title[language]) == 1
    assert rules.reasons(outcome, "es") == rules.reasons(outcome, "nl")


def test_reasons_say_what_follows_for_every_outcome():
    rules = flanders()
    granted = _one(rules, "groeipakket-basisbedrag", NEWBORN)
    open_ = _one(rules, "groeipakket-kinderopvangtoeslag", NEWBORN)
    refused = _one(rules, "kids-id", {"youngest_child_birth_date": date(2000, 1, 1)})
    assert rules.reasons(granted, "en")[-1] == (
        "You probably get this automatically: Groeipakket basic amount. You do not need to do anything."
    )
    assert rules.reasons(open_, "fr")[-1].startswith("Nous n'en savons pas encore assez")
    assert (
        rules.reasons(refused, "de")[-1]
        == "Sie haben wahrscheinlich keinen Anspruch auf: Kids-ID beantragen."
    )


def test_questions_ask_for_the_missing_facts_in_four_languages():
    rules = flanders()
    outcome = _one(rules, "vlaamse-huurpremie", {"household_income": 12000})
    assert outcome.missing == ("rents_home", "owns_home", "lives_in_flanders")
    assert rules.questions(outcome, "nl") == [
        "Huurt u de woning waar u woont?",
        "Hebt u een woning of bouwgrond in eigendom, in België of in het buitenland?",
        "Woont u in Vlaanderen?",
    ]
    asked = {language: rules.questions(outcome, language) for language in LANGUAGES}
    assert len({tuple(questions) for questions in asked.values()}) == 4
    assert asked["de"][0] == "Mieten Sie die Wohnung, in der Sie wohnen?"
    assert rules.questions(_one(rules, "groeipakket-startbedrag", NEWBORN), "en") == []


# USAGov's benefits, imported


@pytest.fixture(scope="module")
def usagov() -> RuleSet:
    return usa(USA)


@cache
def _benefits() -> list[tuple[str, set[str], list[tuple[str, str, list, list[str]]]]]:
    """Each benefit as the data set says it: id, life events, and its criteria (key, type, acceptable
    values and the criterion's choices, both in words)."""
    labels = json.loads((USA / "locales/en/criteria.json").read_text(encoding="utf-8"))
    with (USA / "content/criteria.csv").open(encoding="utf-8", newline="") as file:
        rows = {row["criteriaKey"]: row for row in csv.DictReader(file)}
    benefits = []
    for path in sorted((USA / "content/benefits").glob("*.md")):
        benefit = frontmatter.load(path)
        words = json.loads((USA / f"locales/en/benefits/{path.stem}.json").read_text(encoding="utf-8"))
        criteria = []
        for criterion in benefit["eligibility"]:
            row = rows[criterion["criteriaKey"]]
            choices = (
                [labels[v] for v in row["values"].split(";") if v]
                if row["type"] in ("radio", "select")
                else []
            )
            acceptable = [words.get(value, value) for value in criterion["acceptableValues"]]
            criteria.append((criterion["criteriaKey"], row["type"], acceptable, choices))
        benefits.append((path.stem, {event.replace("_", "-") for event in benefit["lifeEvents"]}, criteria))
    return benefits


def _a_day_within(conditions: list[str], on: date) -> date:
    """A date meeting all of a date criterion's conditions ("<2years", ">60years", "<01-01-1978")."""
    earliest, latest = date(1900, 1, 1), on
    for condition in conditions:
        operator, bound = condition[0], condition[1:]
        if bound.endswith("years"):
            day, before = on.replace(year=on.year - int(bound[:-5])), operator == ">"
        else:
            day, before = datetime.strptime(bound, "%m-%d-%Y").date(), operator == "<"
        if before:
            latest = min(latest, day - timedelta(days=1))
        else:
            earliest = max(earliest, day + timedelta(days=1))
    return earliest + (latest - earliest) / 2


def _meeting_all(criteria) -> dict:
    """A situation meeting every criterion: true, a date within, or the first acceptable choice."""
    situation = {}
    for key, type_, acceptable, _ in criteria:
        if type_ == "boolean":
            situation[key] = True
        else:
            situation[key] = _a_day_within(acceptable, ON) if type_ == "date" else acceptable[0]
    return situation


def test_every_benefit_is_imported(usagov):
    files = sorted(path.stem for path in (USA / "content/benefits").glob("*.md"))
    assert files and sorted(usagov.rules) == files
    for rule in usagov.rules.values():
        assert rule.legal_source.startswith("http") and rule.title["en"] and rule.explanation["en"]
        assert rule.life_events and all(event.startswith(LIFE_EVENT.format("")) for event in rule.life_events)


@pytest.mark.parametrize("life_event", sorted({event for _, events, _ in _benefits() for event in events}))
def test_situations_built_from_the_criteria(usagov, life_event):
    for benefit, _, criteria in [b for b in _benefits() if life_event in b[1]]:
        rule = usagov.rules[benefit]
        assert LIFE_EVENT.format(life_event) in rule.life_events
        assert rule.inputs == tuple(key for key, *_ in criteria)
        meeting = _meeting_all(criteria)
        violating = dict(meeting)
        for key, type_, acceptable, choices in criteria:  # false, a day to come, a choice not accepted
            refused = {"boolean": [False], "date": [ON + timedelta(days=1)]}.get(type_)
            refused = refused or [choice for choice in choices if choice not in acceptable]
            if refused:
                violating[key] = refused[0]
                break
        asked = criteria[0][0]
        lacking = {key: value for key, value in meeting.items() if key != asked}
        met, violated, lacked = (row[0] for row in usagov.evaluate([meeting, violating, lacking], ON, [rule]))
        assert met.outcome == "eligible", benefit
        assert violated.outcome == "not_eligible", benefit
        assert (lacked.outcome, lacked.missing) == ("need_info", (asked,)), benefit


def test_a_missing_date_of_a_benefit_leaves_it_open(usagov):
    rule = usagov.rules["ssa-lump-sum-death-benefit"]
    facts = {
        "deceased_paid_into_SS": True,
        "applicant_relationship": "spouse",
        "applicant_citizen_status": True,
    }
    outcome = usagov.evaluate([facts], ON, [rule])[0][0]
    assert (outcome.outcome, outcome.missing) == ("need_info", ("deceased_date_of_death",))
    assert usagov.questions(outcome, "en") == ["The deceased died on the following date?"]
    long_ago = {"applicant_citizen_status": True, "deceased_date_of_death": date(2020, 1, 1)}
    died_long_ago = usagov.evaluate([facts | long_ago], ON, [rule])[0][0]
    assert died_long_ago.outcome == "not_eligible"


def test_benefit_texts_are_english_whatever_the_language(usagov):
    rule = usagov.rules["ssa-lump-sum-death-benefit"]
    facts = {"deceased_paid_into_SS": True, "deceased_date_of_death": date(2026, 1, 5)}
    outcome = usagov.evaluate([facts], ON, [rule])[0][0]
    assert usagov.reasons(outcome, "nl") == [
        "The deceased worked and paid Social Security taxes on their earnings: yes.",
        "The deceased died on the following date: January 5, 2026.",
        "We do not know enough yet to say whether you are entitled to: Lump-Sum Death Benefit.",
    ]
    assert usagov.questions(outcome, "nl")[0].startswith("Your (the applicant's) relationship to the person")
