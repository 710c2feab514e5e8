"""The MAGDA GeefDossiers parser against the 25 real-format mock responses, and against bad input."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from lxml import etree

from loket.cases.magda import CaseSourceError, parse_geef_dossiers, read_location
from loket.cases.schemas import Contact, Subject, SubjectType
from loket.harvest import HarvestPolicy
from tests.conftest import SHARED_DATA

FOLDER = SHARED_DATA / "magda_mock_dossiers" / "GeefDossiers"
FILES = sorted(FOLDER.glob("*.xml"))
NOT_A_RESPONSE = "not a GeefDossiers response: "


def _parse(name: str):
    return parse_geef_dossiers((FOLDER / name).read_bytes(), name)


def _elements(path, local_name: str) -> list[etree._Element]:
    """Counted independently of the parser: plain lxml, by local name."""
    return etree.parse(str(path)).xpath(f"//*[local-name()='{local_name}']")


def _child_text(element: etree._Element, *steps: str) -> str:
    query = "/".join(f"*[local-name()='{step}']" for step in steps)
    return " ".join(" ".join(element.xpath(f"{query}//text()")).split())


def _is_mutation_skip(skipped) -> bool:
    return ": DossierMutatie " in skipped.where and ", Subject " not in skipped.where


def test_there_are_25_files():
    assert len(FILES) == 25


def test_every_mutation_becomes_a_draft_or_a_skip():
    totals = Counter()
    for path in FILES:
        drafts, skipped = parse_geef_dossiers(path.read_bytes(), path.name)
        mutations = len(_elements(path, "DossierMutatie"))
        mutation_skips = [s for s in skipped if _is_mutation_skip(s)]
        assert len(drafts) + len(mutation_skips) == mutations, path.name
        assert all(s.where.startswith(f"{path.name}: ") for s in skipped)
        assert not any(s.reason.startswith(NOT_A_RESPONSE) for s in skipped)
        totals.update(mutations=mutations, drafts=len(drafts), skipped=len(mutation_skips))
    assert totals["mutations"] == 75  # as SOURCE.md says
    assert (totals["drafts"], totals["skipped"]) == (72, 3)


def test_skipped_mutations_say_what_they_lack():
    expected = {
        ("66652798645.xml", 1): "lacks a source (Identificatie/Bron)",
        ("87671799713.xml", 1): "lacks a status code (Status/Code)",  # a bare referral (Type Verwijzing)
        ("99700399628.xml", 1): "lacks a status code (Status/Code)",  # the "minimum" case
    }
    found = {}
    for path in FILES:
        for skipped in parse_geef_dossiers(path.read_bytes(), path.name)[1]:
            if _is_mutation_skip(skipped):
                found[(path.name, int(skipped.where.rsplit(" ", 1)[1]))] = skipped.reason
    assert set(found) == set(expected)
    for key, start in expected.items():
        assert found[key].startswith(start)
    assert "Dossiernummer ST_Minimumdossier" in found[("99700399628.xml", 1)]


def test_every_uitzondering_becomes_a_skipped_with_its_source_and_diagnosis():
    total = 0
    for path in FILES:
        skipped = {s.where: s.reason for s in parse_geef_dossiers(path.read_bytes(), path.name)[1]}
        for number, exception in enumerate(_elements(path, "Uitzondering"), start=1):
            total += 1
            reason = skipped[f"{path.name}: Uitzondering {number}"]
            assert _child_text(exception, "Diagnose") in reason
            code = f"{_child_text(exception, 'Oorsprong')} {_child_text(exception, 'Identificatie')}"
            assert f"({code}, {_child_text(exception, 'Type')})" in reason
            sources = [
                _child_text(annotation, "Waarde")
                for annotation in exception.xpath(".//*[local-name()='Annotatie']")
                if _child_text(annotation, "Naam") == "Bron"
            ]
            if sources:
                assert reason.startswith(f"source {', '.join(sources)}: ")
            else:
                assert not reason.startswith("source")
    assert total == 14

    _, skipped = _parse("02663099890.xml")
    assert [s.reason for s in skipped] == [
        "source VAPH: Ongekende foutcode van de bron, contacteer Magda helpdesk (MAGDA 99986, FOUT)",
        "source STL: Fout in toegang naar de bron (MAGDA 60013, FOUT)",
    ]


def test_a_response_with_cases_and_an_uitzondering_gives_both():
    drafts, skipped = _parse("41610199767.xml")
    assert len(drafts) == 4
    assert [s.where for s in skipped] == ["41610199767.xml: Uitzondering 1"]
    assert skipped[0].reason.startswith("source VAPH: ")


def test_one_mutation_field_by_field():
    drafts, skipped = _parse("31612199733.xml")
    assert (len(drafts), skipped) == (24, [])
    case = drafts[0]
    assert (case.source, case.number) == ("STL", "2017_HO_31612199733")
    assert case.name == "Studietoelagen 2017-2018 JEF JEFFERSON"
    assert case.type == "Financieel voordeel"
    assert case.status.code == "DOSSIER_ONVOLLEDIG"
    assert case.status.phase == "Behandeling"
    assert case.status.details == "We hebben bijkomende gegevens nodig."
    assert case.status.action_needed is True
    assert case.status.action == "U moet nog een document bezorgen aan de dienst studietoelagen."
    assert case.status.at == datetime(2018, 7, 5, 12, 53, 46, tzinfo=UTC)
    assert case.modified == datetime(2018, 7, 5, 12, 53, 46, tzinfo=UTC)
    assert case.product == "685"
    assert case.subjects == (Subject(role="Raadpleger", type=SubjectType.PERSON, key="31612199733"),)
    assert case.link == "https://loket-ti-studietoelagen.vlaanderen.be/dossier"
    assert case.contact == Contact(
        service="Afdeling School- en Studietoelagen",
        phone="1700",
        website="http://www.studietoelagen.be",
        address="Koning Albert II-laan 15, 1210 Brussel",
    )
    assert (case.confidential, case.hidden) == (False, False)
    assert (case.period_start, case.period_end) == (date(2018, 7, 5), None)


def test_a_contact_with_every_field():
    case = _parse("31612199733.xml")[0][1]
    assert case.contact == Contact(
        name="VAPH",
        service="Vlaams Agentschap voor Personen met een Handicap",
        email="informatie@vaph.be",
        phone="02/2258411",
        website="http://www.vaph.be",
        address="Koning Albert II-laan 37, 1030 Brussel",
    )
    assert case.status.action_needed is False and case.status.action == ""


def test_times_without_offset_are_brussels_time_and_all_are_utc():
    winter = _parse("21712399756.xml")[0][0]  # 2018-02-01T09:00:00, status 2018-01-01T09:00:00
    assert winter.modified == datetime(2018, 2, 1, 8, 0, tzinfo=UTC)
    assert winter.status.at == datetime(2018, 1, 1, 8, 0, tzinfo=UTC)
    zulu = _parse("41630199781.xml")[0][0]  # 2017-01-08T09:00:00.123Z
    assert zulu.modified == datetime(2017, 1, 8, 9, 0, 0, 123000, tzinfo=UTC)
    for path in FILES:
        for case in parse_geef_dossiers(path.read_bytes(), path.name)[0]:
            for moment in (case.modified, case.status.at):
                assert moment is None or moment.utcoffset().total_seconds() == 0


def test_several_details_are_joined_and_several_subjects_kept():
    case = _parse("62680599848.xml")[0][0]
    assert case.status.details == "Wij hebben uw aanvraag ontvangen Details 2"
    case = _parse("86671799690.xml")[0][0]
    assert [s.key for s in case.subjects] == ["87671799614", "86671799690"]


def test_an_empty_referral_link_is_none():
    case = _parse("99700399628.xml")
    assert case[0] == []  # skipped for its missing status; the empty link must not be the reason
    assert "Doorverwijzing" not in case[1][0].reason


def test_notfound_gives_no_cases_and_one_explained_skip():
    drafts, skipped = _parse("notfound.xml")
    assert drafts == []
    assert [(s.where, s.reason) for s in skipped] == [
        ("notfound.xml: Uitzondering 1", "Geen gegevens gevonden voor de vraag (RR 30001, FOUT)")
    ]


def test_namespaced_elements_read_the_same():
    data = (FOLDER / "31612199733.xml").read_bytes()
    namespaced = data.replace(b"<web:GeefDossiersResponse ", b'<web:GeefDossiersResponse xmlns="urn:x" ', 1)
    assert etree.QName(etree.fromstring(namespaced)[0]).namespace == "urn:x"
    assert parse_geef_dossiers(namespaced, "n.xml")[0] == _parse("31612199733.xml")[0]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<GeefDossiersResponse><Repliek><Antwoorden><Antwoord><Uitzonderingen><Uitzondering>
<Diagnose>&lol9;</Diagnose></Uitzondering></Uitzonderingen></Antwoord></Antwoorden></Repliek>
</GeefDossiersResponse>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<GeefDossiersResponse><Uitzonderingen><Uitzondering><Diagnose>&secret;</Diagnose>
</Uitzondering></Uitzonderingen></GeefDossiersResponse>"""


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "not well-formed XML"),
        (b"\x00\xff\xfegarbage<<", "not well-formed XML"),
        (b'{"Dossiers": []}', "not well-formed XML"),
        (b"<GeefDossiersResponse><Repliek>", "not well-formed XML"),
        (b"<GeefPersoonResponse/>", "the root element is <GeefPersoonResponse>"),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
            b"<faultstring>Server busy</faultstring></s:Fault></s:Body></s:Envelope>",
            "SOAP fault: Server busy",
        ),
        # libxml2 (2.11+) stops this one itself ("Maximum entity amplification factor exceeded") even
        # though nothing is expanded; otherwise the DTD is refused after parsing
        (BILLION_LAUGHS, ("not well-formed XML (Maximum entity amplification", "documents with a DTD")),
        (BILLION_LAUGHS.replace(b"&lol9;", b"&lol2;"), "documents with a DTD (DOCTYPE) are refused"),
        (EXTERNAL_ENTITY, "documents with a DTD (DOCTYPE) are refused"),
    ],
    ids=[
        "empty",
        "garbage",
        "json",
        "truncated",
        "other-response",
        "soap-fault",
        "billion-laughs",
        "small-entity",
        "xxe",
    ],
)
def test_what_is_not_a_response_is_refused_as_one_skip(data, why):
    drafts, skipped = parse_geef_dossiers(data, "bad.xml")
    assert drafts == []
    assert len(skipped) == 1
    assert skipped[0].where == "bad.xml"
    whys = why if isinstance(why, tuple) else (why,)
    assert skipped[0].reason.startswith(tuple(NOT_A_RESPONSE + each for each in whys))
    assert len(skipped[0].reason) < 400  # nothing expanded, nothing read from disk
    assert "root:" not in skipped[0].reason


def test_a_response_inside_a_soap_envelope_is_read():
    data = (FOLDER / "notfound.xml").read_bytes()
    envelope = (
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        + data
        + b"</soapenv:Body></soapenv:Envelope>"
    )
    assert parse_geef_dossiers(envelope, "notfound.xml") == _parse("notfound.xml")


def _mutation(subjects: str = "", status: str = "", extra: str = "") -> bytes:
    subjects = (
        subjects or "<Subject><Rol>Aanvrager</Rol><Type>PERS</Type><Sleutel>31612199733</Sleutel></Subject>"
    )
    status = status or "<Code>InBehandeling</Code><DatumModificatie>2024-07-01T10:00:00</DatumModificatie>"
    return f"""<GeefDossiersResponse><Repliek><Antwoorden><Antwoord><Inhoud><Dossiers><Dossier>
    <DossierMutaties><DossierMutatie>
      <Identificatie><Bron>TEST</Bron><Dossiernummer>D-1</Dossiernummer></Identificatie>
      <Naam>Testdossier</Naam><Type>DossierStatus</Type>
      <Status>{status}</Status>
      <Subjecten>{subjects}</Subjecten>
      {extra}
    </DossierMutatie></DossierMutaties></Dossier></Dossiers></Inhoud></Antwoord></Antwoorden></Repliek>
    </GeefDossiersResponse>""".encode()


def test_a_company_subject_and_formatted_keys():
    subjects = (
        "<Subject><Rol>Aanvrager</Rol><Type>OND</Type><Sleutel>0123.456.749</Sleutel></Subject>"
        "<Subject><Rol>Raadpleger</Rol><Type>pers</Type><Sleutel>85.07.30-033.28</Sleutel></Subject>"
    )
    drafts, skipped = parse_geef_dossiers(_mutation(subjects), "t.xml")
    assert skipped == []
    assert drafts[0].subjects == (
        Subject("Aanvrager", SubjectType.COMPANY, "0123456749"),
        Subject("Raadpleger", SubjectType.PERSON, "85073003328"),
    )


def test_an_unknown_subject_type_skips_the_mutation():
    subjects = (
        "<Subject><Rol>Aanvrager</Rol><Type>PERS</Type><Sleutel>31612199733</Sleutel></Subject>"
        "<Subject><Rol>Aanvrager</Rol><Type>VZW</Type><Sleutel>0123456789</Sleutel></Subject>"
    )
    drafts, skipped = parse_geef_dossiers(_mutation(subjects), "t.xml")
    assert drafts == []
    assert [s.where for s in skipped] == ["t.xml: DossierMutatie 1"]
    assert skipped[0].reason.startswith("subject 2 has an unknown Type 'VZW'")


def test_a_subject_without_a_usable_key_is_left_out_or_skips_the_mutation():
    good = "<Subject><Rol>Aanvrager</Rol><Type>PERS</Type><Sleutel>31612199733</Sleutel></Subject>"
    bad = "<Subject><Rol>Aanvrager</Rol><Type>PERS</Type><Sleutel>3161219973X</Sleutel></Subject>"
    wrong_check = bad.replace("3161219973X", "31612199734")
    drafts, skipped = parse_geef_dossiers(_mutation(good + bad), "t.xml")
    assert [s.key for s in drafts[0].subjects] == ["31612199733"]
    assert [s.where for s in skipped] == ["t.xml: DossierMutatie 1, Subject 2"]
    assert skipped[0].reason.startswith("subject left out: unusable key '3161219973X'")

    drafts, skipped = parse_geef_dossiers(_mutation(bad + wrong_check), "t.xml")
    assert drafts == []
    assert [s.where for s in skipped] == ["t.xml: DossierMutatie 1"]
    assert skipped[0].reason.startswith("has no subject with a usable key")


def test_malformed_dates_become_none_and_are_no_reason_to_skip():
    status = "<Code>Ingediend</Code><DatumModificatie>gisteren</DatumModificatie>"
    extra = (
        "<DatumModificatie>2024-13-45T99:00:00</DatumModificatie>"
        "<Periode><Begin><Datum>1 januari</Datum></Begin>"
        "<Einde><Datum>2024-12-31+01:00</Datum></Einde></Periode>"
    )
    drafts, skipped = parse_geef_dossiers(_mutation(status=status, extra=extra), "t.xml")
    assert skipped == []
    case = drafts[0]
    assert (case.status.at, case.modified, case.period_start) == (None, None, None)
    assert case.period_end == date(2024, 12, 31)


def test_flags_links_and_summer_time():
    extra = (
        "<Eigenschappen><Vertrouwelijk>true</Vertrouwelijk><IsNietRaadpleegbaar> 1 </IsNietRaadpleegbaar>"
        "</Eigenschappen><Doorverwijzing>javascript:alert(1)</Doorverwijzing>"
    )
    case = parse_geef_dossiers(_mutation(extra=extra), "t.xml")[0][0]
    assert (case.confidential, case.hidden) == (True, True)
    assert case.link is None
    assert case.status.at == datetime(2024, 7, 1, 8, 0, tzinfo=UTC)  # CEST is UTC+2


def test_read_location_reads_a_folder_in_order_and_a_file(tmp_path):
    names = [name for name, _ in read_location(str(FOLDER))]
    assert names == [path.name for path in FILES]
    [(name, data)] = read_location(str(FOLDER / "notfound.xml"))
    assert name == "notfound.xml" and data == (FOLDER / "notfound.xml").read_bytes()
    assert list(read_location(str(tmp_path))) == []
    with pytest.raises(CaseSourceError, match="no such file or folder"):
        list(read_location(str(tmp_path / "missing")))


def test_read_location_over_http_only_where_the_harvest_may_fetch():
    """A real local server: 200, 503, a closed port, and the default policy's refusal of loopback."""
    body = (FOLDER / "notfound.xml").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            status = 200 if self.path == "/ok" else 503
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    local = HarvestPolicy(hosts=("127.0.0.1",))
    try:
        assert list(read_location(f"{base}/ok", local)) == [(f"{base}/ok", body)]
        with pytest.raises(CaseSourceError, match="HTTP 503"):
            list(read_location(f"{base}/down", local))
        with pytest.raises(CaseSourceError, match=r"refused: 127\.0\.0\.1: private or loopback"):
            list(read_location(f"{base}/ok"))
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(CaseSourceError, match="ConnectError"):
        list(read_location(base + "/gone", local))
