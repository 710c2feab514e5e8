"""The demo's rules as code: a small OpenFisca country package of Flemish-style services.

DEMO RULES, NOT THE LAW. They follow the catalogue pages' "Voor wie?" sections in broad strokes and
leave out most conditions; the amounts, ceilings, ages and the dates on which they change
(`parameters/`) are illustrative. Their legal sources are real: the legal text, or where there is no
single one (a municipal regulation, a care fund's rules) the official page about it.

The package is laid out as OpenFisca's country template: `entities.py`, the formulas in
`variables.py`, dated parameters in `parameters/`, YAML situation tests in `tests/`. What loket adds
(legal source, validity, life events, the facts a rule may read, texts in four languages) is in
`rules.yaml`; the facts become the system's input variables.
"""

from pathlib import Path
from typing import Any

import yaml
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from loket.proactive.engine import Fact, Probe, Rule, RuleSet, fact_variable
from loket.proactive.flanders import variables
from loket.proactive.flanders.entities import entities

HERE = Path(__file__).parent
PARAMETERS = HERE / "parameters"
RULES = HERE / "rules.yaml"
TESTS = HERE / "tests"


def rule_set() -> RuleSet:
    """The demo rules on their own tax-benefit system (built anew: `engine.flanders()` keeps one)."""
    spec = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    facts = {name: _fact(name, item) for name, item in spec["facts"].items()}
    system = TaxBenefitSystem(entities)
    system.load_parameters(str(PARAMETERS))
    by_key = {entity.key: entity for entity in entities}
    for name, item in spec["facts"].items():
        system.add_variable(fact_variable(facts[name], by_key[item.get("subject", "person")]))
    system.add_variables(*(v for v in Variable.__subclasses__() if v.__module__ == variables.__name__))
    rules, probes = [], {}
    for rule_id, item in spec["rules"].items():
        inputs = []
        for entry in item["inputs"]:
            name, own = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
            inputs.append(name)
            values = own or spec["facts"][name]
            if "favourable" in values:
                probes[rule_id, name] = Probe(values["favourable"], values["unfavourable"])
        rules.append(_rule(rule_id, item, tuple(inputs)))
    return RuleSet(system, facts, rules, probes)


def _fact(name: str, item: dict[str, Any]) -> Fact:
    return Fact(name, item["kind"], item["question"], item["reason"])


def _rule(rule_id: str, item: dict[str, Any], inputs: tuple[str, ...]) -> Rule:
    return Rule(
        id=rule_id,
        version=item["version"],
        service=item["service"],
        subject=item.get("subject", "person"),
        title=item["title"],
        explanation=item["explanation"],
        life_events=tuple(item["life_events"]),
        legal_source=item["legal_source"],
        valid_from=item["valid_from"],
        valid_until=item.get("valid_until"),
        automatic=item["automatic"],
        inputs=inputs,
    )
