"""Whom the rules are about: a person, or a company (with its founders as members)."""

from openfisca_core.entities import build_entity

Person = build_entity(
    key="person",
    plural="persons",
    label="A person: a citizen, a parent, a student",
    is_person=True,
)

Company = build_entity(
    key="company",
    plural="companies",
    label="An enterprise registered in the Crossroads Bank for Enterprises",
    roles=[{"key": "founder", "plural": "founders", "label": "Founder"}],
)

entities = [Person, Company]
