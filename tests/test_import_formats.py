"""Every importer on the real shared files, read without a database: what a draft holds, and what goes wrong.

The expected values are read from the files themselves, so the tests say "the importer keeps what the
source says", not "the importer returns what it returned when the test was written".
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from loket.catalog.importers import read
from loket.catalog.importers.text import html_to_sections, html_to_text, markdown_to_sections
from loket.catalog.schemas import Audience, ItemDraft, Problem
from tests.conftest import GOVUK, IPDC_SAMPLES, VAC

VAC_CSV = VAC / "rijksoverheid_vacs_bzk.csv"
VAC_FOLDER = VAC / "cache_vacs_bzk"


def drafts_and_problems(location: Path | str, fmt: str = "auto") -> tuple[list[ItemDraft], list[Problem]]:
    records = list(read(str(location), fmt))
    drafts = [r for r in records if isinstance(r, ItemDraft)]
    problems = [r for r in records if isinstance(r, Problem)]
    assert len(drafts) + len(problems) == len(records)
    return drafts, problems


def vac_json_files() -> list[Path]:
    files = sorted(VAC_FOLDER.glob("*.json"))
    assert len(files) == 175
    return files


def first_record_with_paragraph_titles() -> tuple[Path, dict]:
    """A real record whose every paragraph has a title and text, so its sections are exactly predictable."""
    for file in vac_json_files():
        record = json.loads(file.read_text(encoding="utf-8"))
        content = record.get("content") or []
        if len(content) >= 2 and all(
            part.get("paragraphtitle")
            and html_to_text(part.get("paragraph") or "")
            and not re.match(r"\s*<h[1-6]", part["paragraph"])
            for part in content
        ):
            return file, record
    raise AssertionError("no VAC record with titled paragraphs")


# --- Rijksoverheid VAC -------------------------------------------------------------------------------


def test_vac_csv_and_json_folder_give_the_same_175_drafts():
    from_csv, csv_problems = drafts_and_problems(VAC_CSV)
    from_json, json_problems = drafts_and_problems(VAC_FOLDER)
    assert csv_problems == [] and json_problems == []
    assert len(from_csv) == 175
    assert len(from_json) == 175

    by_id_csv = {d.source_id: d for d in from_csv}
    by_id_json = {d.source_id: d for d in from_json}
    assert len(by_id_csv) == 175
    assert by_id_csv.keys() == by_id_json.keys()
    for source_id, draft in by_id_csv.items():
        assert draft == by_id_json[source_id], source_id
        assert draft.content_hash == by_id_json[source_id].content_hash, source_id


def test_vac_csv_row_keeps_id_canonical_url_and_language():
    with VAC_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 175
    drafts, _ = drafts_and_problems(VAC_CSV)
    by_id = {d.source_id: d for d in drafts}

    row = rows[0]
    draft = by_id[row["id"]]
    assert draft.source == "rijksoverheid"
    assert draft.url == row["canonical"]
    assert draft.url.startswith("https://www.rijksoverheid.nl/")
    assert draft.title == row["question"].strip()
    assert row["language"].lower().startswith("nl")
    assert draft.language == "nl"
    # every row, not just the first, keeps its own id and canonical URL
    assert {r["id"]: r["canonical"] for r in rows} == {d.source_id: d.url for d in drafts}
    assert {d.language for d in drafts} == {"nl"}


def test_vac_json_record_fields_and_sections_from_paragraph_titles():
    file, record = first_record_with_paragraph_titles()
    (draft,) = [r for r in read(str(file))]
    assert isinstance(draft, ItemDraft)
    assert draft.source == "rijksoverheid"
    assert draft.source_id == record["id"] == file.stem
    assert draft.url == record["canonical"]
    assert draft.language == record["language"].split("-")[0].lower() == "nl"
    assert draft.title == record["question"].strip()
    assert draft.licence == record["license"]
    assert draft.themes == tuple(record["themes"])
    assert draft.authority == ", ".join(record["authorities"])
    assert draft.modified is not None and draft.modified.isoformat()[:19] == record["lastmodified"][:19]

    titles = [" ".join(part["paragraphtitle"].split()) for part in record["content"]]
    headings = [section.heading for section in draft.sections]
    expected_first = ["Antwoord"] if html_to_text(record.get("introduction") or "") else []
    assert headings == expected_first + titles
    # the text of a paragraph lands in the section named after its title
    for part, section in zip(record["content"], draft.sections[len(expected_first) :], strict=True):
        first_words = " ".join(html_to_text(part["paragraph"]).split()[:6])
        assert first_words in " ".join(section.text.split())


def test_vac_every_titled_paragraph_becomes_a_section_and_anchors_are_unique():
    drafts, _ = drafts_and_problems(VAC_FOLDER)
    by_id = {d.source_id: d for d in drafts}
    titled = 0
    for file in vac_json_files():
        record = json.loads(file.read_text(encoding="utf-8"))
        draft = by_id[record["id"]]
        headings = {section.heading for section in draft.sections}
        for part in record.get("content") or []:
            paragraph = part.get("paragraph") or ""
            # a title over an empty paragraph, or directly over a sub-heading, has no text of its own
            if (
                part.get("paragraphtitle")
                and html_to_text(paragraph)
                and not re.match(r"\s*<h[1-6]", paragraph)
            ):
                titled += 1
                assert " ".join(part["paragraphtitle"].split()) in headings, (
                    file.name,
                    part["paragraphtitle"],
                )
        anchors = [section.anchor for section in draft.sections]
        assert anchors, file.name
        assert len(set(anchors)) == len(anchors), file.name
        assert all(section.text.strip() for section in draft.sections), file.name
    assert titled > 175  # most records have several titled paragraphs


# --- GOV.UK ------------------------------------------------------------------------------------------


def govuk_pages() -> list[dict]:
    pages = [json.loads(line) for line in GOVUK.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(pages) == 157
    return pages


def test_govuk_gives_157_drafts_with_urls_and_real_locales():
    drafts, problems = drafts_and_problems(GOVUK)
    assert problems == []
    assert len(drafts) == 157
    by_url = {d.url: d for d in drafts}
    pages = govuk_pages()
    assert by_url.keys() == {page["url"] for page in pages}
    for page in pages:
        draft = by_url[page["url"]]
        assert draft.url.startswith("https://www.gov.uk/")
        assert draft.source == "govuk"
        assert draft.language == page["locale"]
        assert draft.title == page["title"].strip()
        assert draft.sections, page["url"]
        assert len({s.anchor for s in draft.sections}) == len(draft.sections), page["url"]
    assert {d.language for d in drafts} == {page["locale"] for page in pages} == {"en", "cy"}


def test_govuk_guide_sections_are_named_after_its_parts():
    guides = [page for page in govuk_pages() if page.get("parts")]
    assert guides
    by_url = {d.url: d for d in drafts_and_problems(GOVUK)[0]}
    named_parts = 0
    for guide in guides:
        part_titles = [part["title"] for part in guide["parts"]]
        headings = [section.heading for section in by_url[guide["url"]].sections]
        assert headings, guide["url"]

        def part_of(heading: str, titles=part_titles) -> str | None:
            return next((t for t in titles if heading == t or heading.startswith(t + ": ")), None)

        # every section belongs to a part, in the order of the parts
        owners = [part_of(heading) for heading in headings]
        assert None not in owners, (guide["url"], headings)
        assert sorted(owners, key=part_titles.index) == owners
        # a part with text of its own has a section carrying just its name
        for part in guide["parts"]:
            own = html_to_sections(part.get("body") or "", part["title"])
            if own and own[0].heading == part["title"]:
                assert part["title"] in headings, (guide["url"], part["title"])
                named_parts += 1
    assert named_parts > len(guides)


def test_govuk_markdown_body_headings_become_sections():
    pages = [page for page in govuk_pages() if not page.get("parts")]
    by_url = {d.url: d for d in drafts_and_problems(GOVUK)[0]}
    checked = 0
    for page in pages:
        headings = [section.heading for section in by_url[page["url"]].sections]
        # `## Heading` followed by text (not straight by a sub-heading, which leaves it empty)
        for heading in re.findall(r"(?m)^## +([^\n]+?)\n+(?!#)\S", page["body_markdown"]):
            plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip()
            assert plain in headings, (page["url"], plain)
            checked += 1
    assert checked > 100


# --- Markdown ----------------------------------------------------------------------------------------

FRONT_MATTER_PAGE = """\
---
id: bewonerskaart-parkeren
language: nl
title: Bewonerskaart parkeren aanvragen
summary: Met een bewonerskaart parkeert u in uw eigen zone zonder te betalen.
url: https://www.voorbeeldstad.be/parkeren/bewonerskaart
audiences: [citizen, business]
themes: [Mobiliteit, Parkeren]
authority: Stad Voorbeeldstad
keywords: parkeerkaart, bewonersparkeren
modified: 2024-05-01
valid_until: 2031-12-31
licence: CC-BY-4.0
source: voorbeeldstad
---
# Bewonerskaart

Woont u in een betalende parkeerzone? Dan kunt u een bewonerskaart aanvragen.

## Voorwaarden

- U bent ingeschreven op een adres in de zone.
- De wagen staat op uw naam.

## Kosten

De eerste kaart is gratis. Een tweede kaart kost 100 euro per jaar.
"""


def test_markdown_front_matter_maps_every_field(tmp_path):
    file = tmp_path / "parkeren.md"
    file.write_text(FRONT_MATTER_PAGE, encoding="utf-8")
    drafts, problems = drafts_and_problems(file)
    assert problems == []
    (draft,) = drafts
    assert draft.source_id == "bewonerskaart-parkeren"
    assert draft.language == "nl"
    assert draft.title == "Bewonerskaart parkeren aanvragen"
    assert draft.summary == "Met een bewonerskaart parkeert u in uw eigen zone zonder te betalen."
    assert draft.url == "https://www.voorbeeldstad.be/parkeren/bewonerskaart"
    assert draft.audiences == (Audience.CITIZEN, Audience.BUSINESS)
    assert draft.themes == ("Mobiliteit", "Parkeren")
    assert draft.authority == "Stad Voorbeeldstad"
    assert draft.keywords == ("parkeerkaart", "bewonersparkeren")
    assert (draft.modified.year, draft.modified.month, draft.modified.day) == (2024, 5, 1)
    assert draft.modified.tzinfo is not None
    assert (draft.valid_until.year, draft.valid_until.month, draft.valid_until.day) == (2031, 12, 31)
    assert draft.licence == "CC-BY-4.0"
    assert draft.source == "voorbeeldstad"
    headings = [s.heading for s in draft.sections]
    assert headings == ["Bewonerskaart parkeren aanvragen", "Voorwaarden", "Kosten"]
    assert "Dan kunt u een bewonerskaart aanvragen." in draft.sections[0].text
    assert "- De wagen staat op uw naam." in draft.sections[1].text.splitlines()


def test_markdown_language_variant_from_file_name(tmp_path):
    file = tmp_path / "groeipakket.fr.md"
    file.write_text(
        "# Le Groeipakket\n\nLe Groeipakket est l'allocation familiale flamande pour chaque enfant.\n",
        encoding="utf-8",
    )
    (draft,) = drafts_and_problems(file)[0]
    assert draft.language == "fr"
    assert draft.source_id == "groeipakket"
    assert draft.source == "local"
    assert draft.title == "Le Groeipakket"
    assert "allocation familiale" in draft.sections[0].text


def test_markdown_unknown_audience_is_a_problem(tmp_path):
    file = tmp_path / "vergunning.md"
    file.write_text(
        "---\ntitle: Omgevingsvergunning\naudiences: [citizen, aliens]\n---\nU hebt een vergunning nodig.\n",
        encoding="utf-8",
    )
    drafts, problems = drafts_and_problems(file)
    assert drafts == []
    (problem,) = problems
    assert problem.where == str(file)
    assert "unknown audience" in problem.message
    assert "aliens" in problem.message


def test_markdown_without_title_is_a_problem(tmp_path):
    file = tmp_path / "zonder-titel.md"
    file.write_text("---\nlanguage: nl\n---\nAlleen wat tekst, zonder kop of titel.\n", encoding="utf-8")
    drafts, problems = drafts_and_problems(file)
    assert drafts == []
    (problem,) = problems
    assert problem.where == str(file)
    assert "no title" in problem.message


# --- HTML --------------------------------------------------------------------------------------------

MUNICIPAL_PAGE = """\
<!DOCTYPE html>
<html lang="nl-BE">
<head>
  <meta charset="utf-8">
  <title>Afvalophaling aan huis | Stad Voorbeeldstad</title>
  <link rel="canonical" href="https://www.voorbeeldstad.be/wonen/afval/ophaling-aan-huis">
  <meta name="description" content="Wanneer en hoe de stad uw afval aan huis ophaalt.">
</head>
<body>
  <header>
    <a class="logo" href="/">Stad Voorbeeldstad</a>
    <p>Welkom op de website van Stad Voorbeeldstad</p>
    <form role="search"><input name="q" placeholder="Zoeken op de website"></form>
  </header>
  <nav aria-label="Hoofdmenu">
    <ul>
      <li><a href="/">Startpagina</a></li>
      <li><a href="/wonen">Wonen en verhuizen</a></li>
      <li><a href="/vrije-tijd">Sport en vrije tijd</a></li>
      <li><a href="/contact">Contacteer de stadsdiensten</a></li>
    </ul>
  </nav>
  <main>
    <article>
      <h1>Afvalophaling aan huis</h1>
      <p>De stad haalt restafval, pmd en papier en karton aan huis op volgens de ophaalkalender van uw straat.
         U vindt uw ophaaldagen in de afvalkalender die u elk jaar in december in de bus krijgt.</p>
      <h2>Wanneer zet u uw afval buiten?</h2>
      <p>Zet uw afval buiten op de ophaaldag voor 6 uur 's morgens, of de avond voordien na 20 uur.</p>
      <ul>
        <li>Restafval: elke week op dinsdag</li>
        <li>Pmd: om de twee weken op donderdag</li>
        <li>Papier en karton: elke vier weken op vrijdag</li>
      </ul>
      <h2>Wat kost het?</h2>
      <p>Een restafvalzak van 60 liter kost 2,50 euro. U koopt de zakken in de supermarkt of aan het onthaal
         van het administratief centrum.</p>
    </article>
  </main>
  <footer>
    <p>Stad Voorbeeldstad, Marktplein 1, 9999 Voorbeeldstad. Ondernemingsnummer 0207.000.000.</p>
    <ul><li><a href="/privacy">Privacyverklaring</a></li><li><a href="/cookies">Cookiebeleid</a></li></ul>
  </footer>
</body>
</html>
"""


def test_html_page_keeps_the_article_and_drops_navigation(tmp_path):
    file = tmp_path / "afvalophaling.html"
    file.write_text(MUNICIPAL_PAGE, encoding="utf-8")
    drafts, problems = drafts_and_problems(file)
    assert problems == []
    (draft,) = drafts
    assert draft.url == "https://www.voorbeeldstad.be/wonen/afval/ophaling-aan-huis"
    assert draft.language == "nl-BE"
    assert draft.title == "Afvalophaling aan huis"
    assert draft.source_id == "afvalophaling"
    assert draft.summary == "Wanneer en hoe de stad uw afval aan huis ophaalt."

    everything = "\n".join(f"{s.heading}\n{s.text}" for s in draft.sections)
    flat = " ".join(everything.split())
    for article_text in (
        "De stad haalt restafval, pmd en papier en karton aan huis op",
        "Zet uw afval buiten op de ophaaldag voor 6 uur",
        "Pmd: om de twee weken op donderdag",
        "Een restafvalzak van 60 liter kost 2,50 euro.",
    ):
        assert article_text in flat
    assert "Wat kost het?" in [s.heading for s in draft.sections]
    for chrome in (
        "Welkom op de website",
        "Wonen en verhuizen",
        "Sport en vrije tijd",
        "Contacteer de stadsdiensten",
        "Marktplein 1",
        "Privacyverklaring",
        "Cookiebeleid",
        "Ondernemingsnummer",
    ):
        assert chrome not in flat, chrome


# --- Format detection --------------------------------------------------------------------------------


def test_each_real_file_is_recognised_as_its_format(tmp_path):
    markdown_file = tmp_path / "parkeren.md"
    markdown_file.write_text(FRONT_MATTER_PAGE, encoding="utf-8")
    html_file = tmp_path / "afval.html"
    html_file.write_text(MUNICIPAL_PAGE, encoding="utf-8")
    cases = {
        VAC_CSV: "rijksoverheid",
        vac_json_files()[0]: "rijksoverheid",
        GOVUK: "govuk",
        IPDC_SAMPLES / "tests_ipdc-stub_ldes-pages_page-0.json": "ipdc",
        markdown_file: "voorbeeldstad",  # the front matter names its source
        html_file: "local",
    }
    for path, source in cases.items():
        drafts, problems = drafts_and_problems(path)
        assert problems == [], path
        assert drafts, path
        assert {d.source for d in drafts} == {source}, path


def test_unknown_file_is_skipped_in_a_folder_but_reported_when_named(tmp_path):
    unknown = VAC / "evaluation_dataset.csv"  # real, but no catalogue format
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(unknown, folder / unknown.name)
    shutil.copy(vac_json_files()[0], folder / "record.json")
    (folder / "notities.txt").write_text("Niet vergeten: vrijdag afvalkalender nakijken.\n", encoding="utf-8")

    drafts, problems = drafts_and_problems(folder)
    assert problems == []
    assert [d.source_id for d in drafts] == [vac_json_files()[0].stem]

    drafts, problems = drafts_and_problems(unknown)
    assert drafts == []
    (problem,) = problems
    assert problem.where == str(unknown)
    assert "format not recognised" in problem.message


# --- Bad input ---------------------------------------------------------------------------------------


def test_missing_path_is_one_problem_naming_it(tmp_path):
    missing = tmp_path / "bestaat-niet" / "vacs.csv"
    drafts, problems = drafts_and_problems(missing)
    assert drafts == []
    (problem,) = problems
    assert problem.where == str(missing)
    assert str(missing) in str(problem)


def test_corrupt_vac_file_is_reported_and_the_good_files_still_load(tmp_path):
    good = vac_json_files()[:3]
    for file in good:
        shutil.copy(file, tmp_path / file.name)
    data = vac_json_files()[3].read_bytes()
    corrupt = tmp_path / "afgebroken.json"
    corrupt.write_bytes(data[: len(data) // 2])  # a download that stopped halfway

    drafts, problems = drafts_and_problems(tmp_path)
    assert sorted(d.source_id for d in drafts) == sorted(file.stem for file in good)
    (problem,) = problems
    assert problem.where == str(corrupt)
    assert "vac" in problem.message


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (GOVUK, "vac"),
        (VAC_CSV, "govuk"),
        (VAC_CSV, "ipdc"),
        (VAC_FOLDER / "0038f3c3-6266-4d40-965b-a78e96241c22.json", "govuk"),
    ],
)
def test_wrong_format_forced_gives_problems_not_a_crash(path, fmt):
    assert path.exists()
    drafts, problems = drafts_and_problems(path, fmt)
    assert drafts == []
    assert problems
    assert all(problem.where.startswith(str(path)) for problem in problems)


def test_unknown_format_name_is_a_problem():
    drafts, problems = drafts_and_problems(VAC_CSV, "docx")
    assert drafts == []
    (problem,) = problems
    assert "unknown format 'docx'" in problem.message
    assert "vac" in problem.message  # it lists the formats to choose from


# --- Text --------------------------------------------------------------------------------------------


def test_nested_lists_keep_their_bullets():
    html = (
        "<p>Breng mee:</p><ul><li>uw identiteitskaart<ul><li>of uw paspoort</li><li>of uw verblijfskaart</li>"
        "</ul></li><li>een recente pasfoto</li></ul>"
    )
    (section,) = html_to_sections(html, "Meebrengen")
    lines = section.text.splitlines()
    assert lines == [
        "Breng mee:",
        "- uw identiteitskaart",
        lines[2],
        lines[3],
        "- een recente pasfoto",
    ]
    for nested in lines[2:4]:
        assert nested.startswith(" ") and nested.lstrip().startswith("- ")
    assert [line.lstrip() for line in lines[2:4]] == ["- of uw paspoort", "- of uw verblijfskaart"]

    (md_section,) = markdown_to_sections("- eerst\n  - daarna a\n  - daarna b\n- tot slot\n", "Stappen")
    md_lines = md_section.text.splitlines()
    assert [line.lstrip() for line in md_lines] == ["- eerst", "- daarna a", "- daarna b", "- tot slot"]
    assert md_lines[1].startswith(" ") and not md_lines[0].startswith(" ")


def test_tables_become_rows_of_cells():
    html = (
        "<h2>Tarieven</h2><table><tr><th>Document</th><th>Prijs</th></tr>"
        "<tr><td>Identiteitskaart</td><td>€ 20</td></tr></table>"
    )
    (section,) = html_to_sections(html, "Inleiding")
    assert section.heading == "Tarieven"
    assert section.text.splitlines() == ["Document | Prijs", "Identiteitskaart | € 20"]

    markdown = "## Tarieven\n\n| Document | Prijs |\n|---|---|\n| Rijbewijs | € 30 |\n"
    (md_section,) = markdown_to_sections(markdown, "Inleiding")
    assert md_section.text.splitlines() == ["Document | Prijs", "Rijbewijs | € 30"]


def test_duplicate_headings_get_distinct_anchors():
    html = (
        "<h2>Kosten</h2><p>Eerste keer gratis.</p><h2>Aanvragen</h2><p>Online.</p>"
        "<h2>Kosten</h2><p>Daarna 5 euro.</p>"
    )
    sections = html_to_sections(html, "Inleiding")
    assert [(s.heading, s.anchor) for s in sections] == [
        ("Kosten", "kosten"),
        ("Aanvragen", "aanvragen"),
        ("Kosten", "kosten-2"),
    ]
    md_sections = markdown_to_sections("Intro.\n\n## Kosten\n\nA.\n\n## Kosten\n\nB.\n", "Kosten")
    assert [s.anchor for s in md_sections] == ["kosten", "kosten-2", "kosten-3"]
