"""The demo rules as OpenFisca formulas, and the ages they share. A rule is a variable named after its
rule id (`rules.yaml`), true when the subject is probably entitled on the day it is computed for;
every amount, ceiling and age comes from the dated parameters. The facts are the engine's input
variables, declared in `rules.yaml`."""

import numpy
from openfisca_core.periods import DAY, Instant
from openfisca_core.variables import Variable

from loket.proactive.flanders.entities import Company, Person


def _months_since(dates: numpy.ndarray, day: Instant) -> numpy.ndarray:
    """Whole months from each date to `day`, negative for a date after it (2 Jan to 1 Feb: 0)."""
    month = dates.astype("datetime64[M]")
    day_of_month = (dates - month).astype(int) + 1
    elapsed = (day.year - 1970) * 12 + day.month - 1 - month.astype(int)
    return elapsed - (day.day < day_of_month)


class age(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    label = "Age in whole years"

    def formula(person, period):
        return _months_since(person("birth_date", period), period.start) // 12


class youngest_child_age_months(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    label = "Age of the youngest child in whole months (negative before the birth)"

    def formula(person, period):
        return _months_since(person("youngest_child_birth_date", period), period.start)


class starting_enterprise(Variable):
    value_type = bool
    entity = Company
    definition_period = DAY
    label = "The enterprise started, and not longer ago than the starter period"

    def formula(company, period, parameters):
        months = _months_since(company("enterprise_started_on", period), period.start)
        return (months >= 0) & (months < parameters(period).enterprise.starter_period_months)


class groeipakket_startbedrag(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Start amount: a child born within the application window, in Flanders"

    def formula(person, period, parameters):
        months = person("youngest_child_age_months", period)
        window = parameters(period).groeipakket.startbedrag_window_years * 12
        return (months >= 0) & (months < window) & person("lives_in_flanders", period)


class groeipakket_basisbedrag(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Basic amount: a child under the age of majority, in Flanders"

    def formula(person, period, parameters):
        months = person("youngest_child_age_months", period)
        majority = parameters(period).general.age_of_majority_years * 12
        return (months >= 0) & (months < majority) & person("lives_in_flanders", period)


class groeipakket_kinderopvangtoeslag(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Childcare supplement: a child too young for nursery school, in childcare at a free price"

    def formula(person, period, parameters):
        months = person("youngest_child_age_months", period)
        too_young = months < parameters(period).groeipakket.kleuterschool_entry_age_months
        in_childcare = person("child_in_childcare", period)
        return (months >= 0) & too_young & in_childcare & person("lives_in_flanders", period)


class groeipakket_schooltoeslag(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "School allowance: a child of school age under the age of majority, income under the ceiling"

    def formula(person, period, parameters):
        months = person("youngest_child_age_months", period)
        p = parameters(period)
        school_age = (months >= p.groeipakket.kleuterschool_entry_age_months) & (
            months < p.general.age_of_majority_years * 12
        )
        income = person("household_income", period) <= p.groeipakket.schooltoeslag_income_ceiling
        return school_age & income & person("lives_in_flanders", period)


class kids_id(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Kids-ID: a child under the age limit"

    def formula(person, period, parameters):
        months = person("youngest_child_age_months", period)
        return (months >= 0) & (months < parameters(period).kids_id.age_limit_years * 12)


class rijbewijs_aanvragen(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Driving licence B: old enough"

    def formula(person, period, parameters):
        return person("age", period) >= parameters(period).rijbewijs.minimum_age_years


class studietoelage_hoger_onderwijs(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Study grant: a student in higher education, household income under the ceiling"

    def formula(person, period, parameters):
        ceiling = parameters(period).studietoelage.income_ceiling
        return person("studies_higher_education", period) & (person("household_income", period) <= ceiling)


class bewonersparkeerkaart(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Residents' parking card: an address in a residents' zone, and a car"

    def formula(person, period, parameters):
        zones = parameters(period).parking.resident_zone_postal_codes
        return numpy.isin(person("postal_code", period), zones) & person("has_car", period)


class vlaamse_huurpremie(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Rent allowance: a tenant in Flanders who owns no home, income under the ceiling"

    def formula(person, period, parameters):
        ceiling = parameters(period).wonen.huurpremie_income_ceiling
        tenant = person("rents_home", period) & ~person("owns_home", period)
        income = person("household_income", period) <= ceiling
        return tenant & income & person("lives_in_flanders", period)


class sociale_woning_inschrijven(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Social housing: an adult in Flanders who owns no home, income under the ceiling"

    def formula(person, period, parameters):
        p = parameters(period)
        adult = person("age", period) >= p.general.age_of_majority_years
        income = person("household_income", period) <= p.wonen.sociale_woning_income_ceiling
        return adult & ~person("owns_home", period) & income & person("lives_in_flanders", period)


class zorgbudget_ouderen_zorgnood(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Care budget for older people: old enough, in need of care, in Flanders, income under the ceiling"

    def formula(person, period, parameters):
        p = parameters(period).zorgbudget
        old_enough = person("age", period) >= p.minimum_age_years
        income = person("household_income", period) <= p.income_ceiling
        return old_enough & person("needs_care", period) & income & person("lives_in_flanders", period)


class uitpas_kansentarief(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "UiTPAS at the reduced rate: unemployed, household income under the ceiling"

    def formula(person, period, parameters):
        unemployed = person("unemployed_since", period) <= numpy.datetime64(str(period.start))
        ceiling = parameters(period).uitpas.kansentarief_income_ceiling
        return unemployed & (person("household_income", period) <= ceiling)


class btw_nummer_activeren(Variable):
    value_type = bool
    entity = Company
    definition_period = DAY
    label = "Activate the VAT number: a newly started enterprise"

    def formula(company, period):
        return company("starting_enterprise", period)


class kbo_uittreksel(Variable):
    value_type = bool
    entity = Company
    definition_period = DAY
    label = "CBE extract: a newly started enterprise proves its details"

    def formula(company, period):
        return company("starting_enterprise", period)
