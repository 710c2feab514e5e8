"""Rules as code: which services someone is probably entitled to after a life event, and why.

A rule set is an OpenFisca tax-benefit system, facts being input variables and each rule a boolean
variable with a formula and dated parameters, plus what loket needs around it: the rule's legal source,
validity, the life events that trigger it, the facts its legal basis lets it read, and plain-language
texts. A rule is given those facts only, and a rule set whose formula reads anything else is refused.

A fact nobody told is never taken as false or zero. Each rule runs once with every missing fact at a
value favourable to eligibility and once at an unfavourable one (`Probe`): the same outcome both times
is the outcome; different outcomes mean "need info", asking for the missing facts the outcome turns on.
A missing fact without such values (a date) leaves the outcome open as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import NamedTuple

import numpy
from babel.dates import format_date
from babel.numbers import format_decimal
from openfisca_core import periods
from openfisca_core.entities import Entity
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from loket.i18n import DEFAULT

Value = bool | int | float | str | date
OUTCOMES = ("eligible", "granted", "need_info", "not_eligible")
_VALUE_TYPES = {"bool": bool, "number": float, "date": date, "text": str}  # fact kind -> OpenFisca
_DTYPES = {"bool": bool, "number": float, "date": "datetime64[D]", "text": object}
# What stands in for a value nobody gave; never decisive, as such a subject is probed or left open.
_PLACEHOLDERS = {"bool": False, "number": 0.0, "date": date(1970, 1, 1), "text": ""}

_YES_NO = {"nl": ("nee", "ja"), "fr": ("non", "oui"), "en": ("no", "yes"), "de": ("nein", "ja")}
_CONCLUSIONS = {
    "eligible": {
        "nl": "U hebt waarschijnlijk recht op: {title}. U moet het wel zelf aanvragen.",
        "fr": "Vous avez probablement droit à : {title}. Vous devez toutefois en faire la demande.",
        "en": "You are probably entitled to: {title}. You do have to apply for it.",
        "de": "Sie haben wahrscheinlich Anspruch auf: {title}. Sie müssen es aber selbst beantragen.",
    },
    "granted": {
        "nl": "U krijgt waarschijnlijk automatisch: {title}. U hoeft niets te doen.",
        "fr": "Vous recevez probablement automatiquement : {title}. Vous n'avez rien à faire.",
        "en": "You probably get this automatically: {title}. You do not need to do anything.",
        "de": "Sie erhalten wahrscheinlich automatisch: {title}. Sie müssen nichts tun.",
    },
    "need_info": {
        "nl": "We weten nog niet genoeg om te zeggen of u recht hebt op: {title}.",
        "fr": "Nous n'en savons pas encore assez pour dire si vous avez droit à : {title}.",
        "en": "We do not know enough yet to say whether you are entitled to: {title}.",
        "de": "Wir wissen noch nicht genug, um zu sagen, ob Sie Anspruch haben auf: {title}.",
    },
    "not_eligible": {
        "nl": "U hebt waarschijnlijk geen recht op: {title}.",
        "fr": "Vous n'avez probablement pas droit à : {title}.",
        "en": "You are probably not entitled to: {title}.",
        "de": "Sie haben wahrscheinlich keinen Anspruch auf: {title}.",
    },
}


@dataclass(frozen=True)
class Fact:
    name: str  # e.g. "birth_date"
    kind: str  # "bool" | "number" | "date" | "text"
    question: Mapping[str, str]  # language -> plain-language question asked when it is missing
    reason: Mapping[str, str]  # language -> sentence naming the value, with "{value}"


@dataclass(frozen=True)
class Rule:
    id: str  # e.g. "groeipakket-startbedrag"
    version: str  # e.g. "2026.1"
    service: str  # catalogue item id it leads to
    subject: str  # "person" | "company"
    title: Mapping[str, str]  # language -> short title
    explanation: Mapping[str, str]  # language -> the rule in plain language, for anyone
    life_events: tuple[str, ...]  # CloudEvents types that trigger it
    legal_source: str  # URL of the legal text
    valid_from: date
    valid_until: date | None
    automatic: bool  # True: "granted" instead of "eligible" (it happens without an application)
    inputs: tuple[str, ...]  # the facts its legal basis allows it to read; nothing else is given to it

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    outcome: str  # one of OUTCOMES
    used: Mapping[str, Value]  # the known facts among rule.inputs that were given to the rule
    missing: tuple[str, ...]  # for need_info: the missing facts the outcome depends on (else ())
    on: date  # evaluation date = parameter date


class Probe(NamedTuple):
    """The values a missing fact takes to see whether the outcome depends on it."""

    favourable: Value
    unfavourable: Value


def variable_name(name: str) -> str:
    """The OpenFisca variable of a fact or rule: ids may have dashes, Python names may not."""
    return name.replace("-", "_")


def fact_variable(fact: Fact, entity: Entity) -> type[Variable]:
    """The input variable of a fact: what is known of the subject on the evaluation day."""
    attributes = {"value_type": _VALUE_TYPES[fact.kind], "entity": entity, "definition_period": periods.DAY}
    return type(variable_name(fact.name), (Variable,), attributes)


class RuleSet:
    """Rules on one OpenFisca system; `evaluate` runs them, `reasons` and `questions` say the outcome."""

    def __init__(
        self,
        system: TaxBenefitSystem,
        facts: Mapping[str, Fact],
        rules: Iterable[Rule],
        probes: Mapping[tuple[str, str], Probe],
        fallback: str = DEFAULT,
    ) -> None:
        """`probes` by (rule id, fact); `fallback` is the language of texts missing in another one."""
        self.system = system
        self.facts = facts
        self.rules = {rule.id: rule for rule in rules}
        self.probes = probes
        self.fallback = fallback
        for rule in self.rules.values():
            self._check(rule)

    def for_event(self, event_type: str, subject: str = "person") -> list[Rule]:
        return [r for r in self.rules.values() if event_type in r.life_events and r.subject == subject]

    def evaluate(
        self, subjects: Sequence[Mapping[str, Value]], on: date, rules: Iterable[Rule] | None = None
    ) -> list[list[Outcome]]:
        """One list of outcomes per subject (same order), one outcome per rule in force on `on` (all
        rules of the set when `rules` is None). One OpenFisca simulation per rule over all subjects."""
        if not subjects:
            return []
        chosen = self.rules.values() if rules is None else rules
        by_rule = [self._evaluate(rule, subjects, on) for rule in chosen if rule.in_force(on)]
        return [[outcomes[i] for outcomes in by_rule] for i in range(len(subjects))]

    def reasons(self, outcome: Outcome, language: str) -> list[str]:
        """One sentence per fact used, with its value said the language's way, then what follows; all
        in the fallback language when the rule has no texts in `language`."""
        language = language if language in outcome.rule.title else self.fallback
        sentences = []
        for name, value in outcome.used.items():
            fact = self.facts[name]
            sentences.append(
                self._say(fact.reason, language).format(value=_format(value, fact.kind, language))
            )
        conclusion = self._say(_CONCLUSIONS[outcome.outcome], language)
        return [*sentences, conclusion.format(title=self._say(outcome.rule.title, language))]

    def questions(self, outcome: Outcome, language: str) -> list[str]:
        return [self._say(self.facts[name].question, language) for name in outcome.missing]

    def _say(self, texts: Mapping[str, str], language: str) -> str:
        return texts[language if language in texts else self.fallback]

    def _evaluate(self, rule: Rule, subjects: Sequence[Mapping[str, Value]], on: date) -> list[Outcome]:
        """Runs the rule over every subject at once, in scenarios side by side: all missing facts
        favourable, all unfavourable, and for each probed fact that one alone unfavourable (to see
        which missing facts the outcome turns on)."""
        given = {name: [subject.get(name) for subject in subjects] for name in rule.inputs}
        missing = {name: numpy.array([value is None for value in values]) for name, values in given.items()}
        probed = [name for name in rule.inputs if (rule.id, name) in self.probes]
        scenarios = [set(), set(probed), *({name} for name in probed)]  # the facts tried unfavourable
        result = self._run(rule, given, missing, scenarios, len(subjects), on).reshape(len(scenarios), -1)
        favourable = result[0]
        unprobed = numpy.zeros(len(subjects), bool)
        for name in set(rule.inputs) - set(probed):
            unprobed |= missing[name]
        open_ = (unprobed | (favourable != result[1])).tolist()
        flipped = {name: result[2 + i] != favourable for i, name in enumerate(probed)}
        decisive = {name: (missing[name] & flips).tolist() for name, flips in flipped.items()}
        missing_rows = {name: flags.tolist() for name, flags in missing.items()}
        unprobed, favourable = unprobed.tolist(), favourable.tolist()
        yes = "granted" if rule.automatic else "eligible"
        outcomes = []
        for i, subject in enumerate(subjects):
            unknown = tuple(name for name in rule.inputs if missing_rows[name][i])
            used = {name: subject[name] for name in rule.inputs if name not in unknown}
            if open_[i]:
                turns_on = () if unprobed[i] else tuple(name for name in probed if decisive[name][i])
                outcomes.append(Outcome(rule, "need_info", used, turns_on or unknown, on))
            else:
                outcomes.append(Outcome(rule, yes if favourable[i] else "not_eligible", used, (), on))
        return outcomes

    def _run(self, rule: Rule, given: dict, missing: dict, scenarios: list[set[str]], count: int, on: date):
        """One simulation of the `count` subjects once per scenario, given the rule's facts only."""
        day = periods.period(on.isoformat())
        simulation = SimulationBuilder().build_default_simulation(self.system, len(scenarios) * count)
        for name, values in given.items():
            kind = self.facts[name].kind
            placeholder = _PLACEHOLDERS[kind]
            known = numpy.array([placeholder if value is None else value for value in values], _DTYPES[kind])
            probe = self.probes.get((rule.id, name), Probe(placeholder, placeholder))
            tried = [probe.unfavourable if name in worse else probe.favourable for worse in scenarios]
            column = [numpy.where(missing[name], numpy.array(value, _DTYPES[kind]), known) for value in tried]
            simulation.set_input(variable_name(name), day, numpy.concatenate(column))
        return simulation.calculate(variable_name(rule.id), day)

    def _check(self, rule: Rule) -> None:
        """Refuses a rule whose formula reads other facts than its inputs, or for another subject: a
        traced run on its first day must read exactly the facts it declares."""
        variable = self.system.get_variable(variable_name(rule.id))
        if variable is None or variable.entity.key != rule.subject or not variable.formulas:
            raise ValueError(f"rule {rule.id}: no formula of a {rule.subject} named {variable_name(rule.id)}")
        simulation = SimulationBuilder().build_default_simulation(self.system, 1)
        simulation.trace = True
        simulation.calculate(variable.name, periods.period(rule.valid_from.isoformat()))
        read = {
            node.name
            for node in simulation.tracer.browse_trace()
            if not self.system.get_variable(node.name).formulas
        }
        declared = {variable_name(name) for name in rule.inputs}
        if read != declared:
            raise ValueError(
                f"rule {rule.id} reads {sorted(read)} but declares {sorted(declared)}: declare what its "
                "legal basis lets it read, and read only that"
            )


@cache
def flanders() -> RuleSet:
    """The demo rule set (Flemish-style services; `loket.proactive.flanders`)."""
    from loket.proactive.flanders import rule_set  # the package is built on this module

    return rule_set()


def _format(value: Value, kind: str, language: str) -> str:
    """A value as the language writes it: '3 december 2026', 'ja', '25.000'."""
    if kind == "date":
        return format_date(value, format="long", locale=language)
    if kind == "bool":
        return _YES_NO[language][bool(value)]
    if kind == "number":
        return format_decimal(value, locale=language)
    return str(value)
