"""USAGov's benefit finder as a second rule set on the same engine.

The data set (GSA-TTS/usagov-benefits-eligibility, public domain) is read where it lies, never
copied: every benefit in `content/benefits/*.md` becomes a rule, its formula written here from the
benefit's eligibility criteria (`criteriaKey`, `acceptableValues`), each criterion in
`content/criteria.csv` becomes a fact, and the English texts come from `locales/en`.

A criterion is read as the finder reads it (its `store/criteria.js`): a boolean one is met by true; a
select or radio one by any of its acceptable values; a date one by all of its conditions at once
("<2years": less than two years ago, ">60years": more than sixty years ago, "<01-01-1978": before
that day) and never by a day still to come. A benefit is for whoever meets all its criteria. A missing
fact is tried at an acceptable and a non-acceptable value; a missing date leaves the outcome open.
"""

import csv
import hashlib
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import frontmatter
import numpy
from openfisca_core.entities import build_entity
from openfisca_core.periods import DAY, DateUnit, Instant
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from loket.proactive.engine import Fact, Probe, Rule, RuleSet, fact_variable, variable_name

FACT_KINDS = {"boolean": "bool", "radio": "text", "select": "text", "date": "date", "location": "text"}
LIFE_EVENT = "gov.usa.{}"  # the CloudEvents type of a life event of the finder
DURATION = re.compile(r"(\d+)(year|month|day)s")
SINCE = date(1900, 1, 1)  # the data set dates no benefit; a real year keeps date arithmetic working

Person = build_entity(key="person", plural="persons", label="An applicant", is_person=True)
Check = Callable[[numpy.ndarray, Instant], numpy.ndarray]  # a criterion, over all subjects on a day


def usa(folder: Path) -> RuleSet:
    """The finder's benefits as rules, from the data set's folder (the one holding SOURCE.md)."""
    facts, choices = _criteria(folder)
    system = TaxBenefitSystem([Person])
    system.add_variables(*(fact_variable(fact, Person) for fact in facts.values()))
    rules, probes = [], {}
    for path in sorted((folder / "content/benefits").glob("*.md")):
        benefit = frontmatter.load(path)
        words = json.loads((folder / f"locales/en/benefits/{path.stem}.json").read_text(encoding="utf-8"))
        checks = []
        for criterion in benefit["eligibility"]:
            key, kind = criterion["criteriaKey"], facts[criterion["criteriaKey"]].kind
            acceptable = [words.get(value, value) for value in criterion["acceptableValues"]]
            checks.append((key, _date_check(acceptable) if kind == "date" else _one_of(acceptable)))
            refused = [value for value in choices[key] if value not in acceptable]
            if kind == "bool":
                probes[path.stem, key] = Probe(True, False)
            elif refused:
                probes[path.stem, key] = Probe(acceptable[0], refused[0])
        system.add_variable(_rule_variable(path.stem, checks))
        events = tuple(LIFE_EVENT.format(event.replace("_", "-")) for event in benefit["lifeEvents"])
        rules.append(
            Rule(
                id=path.stem,
                version=hashlib.sha256(path.read_bytes()).hexdigest()[:12],
                service=path.stem,
                subject="person",
                title={"en": words[benefit["title"]]},
                explanation={"en": words[benefit["summary"]]},
                life_events=events,
                legal_source=words[benefit["source"]["link"]],
                valid_from=SINCE,
                valid_until=None,
                automatic=False,
                inputs=tuple(key for key, _ in checks),
            )
        )
    return RuleSet(system, facts, rules, probes, fallback="en")


def _criteria(folder: Path) -> tuple[dict[str, Fact], dict[str, list[str]]]:
    """Each criterion as a fact, and the choices of those that offer some (radio, select)."""
    texts = json.loads((folder / "locales/en/criteria.json").read_text(encoding="utf-8"))
    with (folder / "content/criteria.csv").open(encoding="utf-8", newline="") as file:
        rows = [row for row in csv.DictReader(file) if row["type"]]  # the others head a group
    facts, choices = {}, {}
    for row in rows:
        key, type_ = row["criteriaKey"], row["type"]
        offered = type_ in ("radio", "select")  # a boolean's "values" is TRUE
        choices[key] = [texts[value] for value in row["values"].split(";") if value] if offered else []
        facts[key] = _fact(key, type_, texts[row["criteria.criteriaKey.label"]], choices[key])
    return facts, choices


def _fact(key: str, type_: str, label: str, choices: list[str]) -> Fact:
    """A criterion as a fact: its label asked as a question (with its choices), and said with a value."""
    question = label if label.endswith("?") else f"{label.rstrip(' :.')}?"
    if choices:
        question += f" ({' / '.join(choices)})"
    said = label.rstrip(" :.?").replace("{", "{{").replace("}", "}}")
    return Fact(key, FACT_KINDS[type_], {"en": question}, {"en": f"{said}: {{value}}."})


def _rule_variable(benefit: str, checks: list[tuple[str, Check]]) -> type[Variable]:
    """The benefit's formula: every criterion met."""

    def formula(person, period):
        met = numpy.ones(person.count, bool)
        for key, check in checks:
            met &= check(person(variable_name(key), period), period.start)
        return met

    attributes = {"value_type": bool, "entity": Person, "definition_period": DAY, "formula": formula}
    return type(variable_name(benefit), (Variable,), attributes)


def _one_of(acceptable: list) -> Check:
    return lambda values, day: numpy.isin(values, acceptable)


def _date_check(conditions: list[str]) -> Check:
    """All conditions of a date criterion, and no day after the evaluation day."""
    checks = [_date_condition(condition) for condition in conditions]

    def check(dates: numpy.ndarray, day: Instant) -> numpy.ndarray:
        met = dates <= numpy.datetime64(str(day))
        for condition in checks:
            met &= condition(dates, day)
        return met

    return check


def _date_condition(condition: str) -> Check:
    """One condition: `<2years` is after the day two years back, `>60years` before the day sixty
    years back (for a duration the comparison turns around), `<01-01-1978` before that day."""
    compare = {"<": numpy.less, ">": numpy.greater, "=": numpy.equal}[condition[0]]
    duration = DURATION.fullmatch(condition[1:].lower())
    if duration:
        amount, unit = int(duration[1]), DateUnit(duration[2])
        return lambda dates, day: compare(numpy.datetime64(str(day.offset(-amount, unit))), dates)
    bound = numpy.datetime64(datetime.strptime(condition[1:], "%m-%d-%Y").date())
    return lambda dates, day: compare(dates, bound)
