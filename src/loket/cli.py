"""The `loket` command: serve, ingest, search, ask, config and database upkeep."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from loket.catalog.importers import FORMAT_NAMES
from loket.config import Settings, settings_reference
from loket.errors import LoketError
from loket.logging import configure as configure_logging
from loket.services import Services

app = typer.Typer(help="loket: one digital assistant for a government.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema upkeep.", no_args_is_help=True)
app.add_typer(db_app, name="db")
out = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"])
            err.print(f"configuration: {'LOKET_' + where.upper() + ': ' if where else ''}{problem['msg']}")
        raise typer.Exit(2) from None


def _services(migrate: bool = False, quiet: bool = True) -> Services:
    """Interactive commands print their own results; only the server logs at the configured level."""
    settings = _settings()
    configure_logging("WARNING" if quiet else settings.log_level)
    services = Services.build(settings)
    if migrate:
        services.db.upgrade()
    return services


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web app and the API (migrates the database first)."""
    import uvicorn

    from loket.web.app import create_app

    services = _services(migrate=True, quiet=False)
    if services.settings.demo and (report := services.catalog.load_demo_if_empty()):
        err.print(f"Loaded the demo catalogue: {report.created} items.")
    services.db.dispose()
    uvicorn.run(create_app(services.settings), host=host, port=port, log_level="warning")


@app.command()
def ingest(
    locations: Annotated[
        list[str], typer.Argument(help="Files, folders or http(s) URLs.", metavar="PATH_OR_URL...")
    ],
    format: Annotated[
        str, typer.Option("--format", "-f", help=f"One of: {', '.join(FORMAT_NAMES)}.")
    ] = "auto",
    source: Annotated[str | None, typer.Option(help="Store the items under this source name.")] = None,
    full_sync: Annotated[
        bool, typer.Option("--full-sync", help="Withdraw items of the source that are no longer present.")
    ] = False,
) -> None:
    """Load catalogue content. Unchanged items cost nothing; exit code 1 when anything failed to load."""
    if format not in FORMAT_NAMES:
        raise typer.BadParameter(f"choose one of {', '.join(FORMAT_NAMES)}", param_hint="--format")
    services = _services(migrate=True)
    failed = False
    for location in locations:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task(f"{location}: reading", total=None)

            def show(report, task=task, location=location) -> None:
                progress.update(
                    task, description=f"{location}: {report.seen} items, {len(report.problems)} problems"
                )

            report = services.catalog.ingest_location(
                location, format, source=source, full_sync=full_sync, on_progress=show
            )
        for problem in report.problems:
            err.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
        out.print(
            f"{location}: {report.created} new, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.withdrawn} withdrawn, {len(report.problems)} problems",
            highlight=False,
            soft_wrap=True,
        )
        failed = failed or not report.ok
    raise typer.Exit(1 if failed else 0)


@app.command()
def sources() -> None:
    """How many items each source has, active and withdrawn."""
    counts = _services(migrate=True).catalog.counts()
    for source in sorted({source for source, _ in counts}):
        active, withdrawn = counts.get((source, "active"), 0), counts.get((source, "withdrawn"), 0)
        out.print(f"{source}: {active} active, {withdrawn} withdrawn", highlight=False)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    limit: Annotated[int, typer.Option(min=1, max=50)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON as the HTTP API does.")] = False,
) -> None:
    """Search the catalogue."""
    from loket.search.routes import SearchResponse, SearchResult

    hits = _services().search.search(query, limit)
    if as_json:
        print(SearchResponse(results=[SearchResult.of(hit) for hit in hits]).model_dump_json(indent=2))
        return
    for hit in hits:
        out.print(
            f"{hit.score:7.2f}  {hit.item.title}\n         {hit.item.url}", highlight=False, soft_wrap=True
        )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in your own words.")],
    language: Annotated[str | None, typer.Option(help="Preferred answer language.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON as the HTTP API does.")] = False,
) -> None:
    """Ask the assistant."""
    try:
        answer = _services().assistant.ask(question, language)
    except LoketError as error:
        err.print(error.message)
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(asdict(answer), ensure_ascii=False, indent=2))
        return
    out.print(answer.answer, highlight=False, soft_wrap=True)
    for notice in answer.notices:
        out.print(f"[dim]{notice}[/dim]", highlight=False)
    for citation in answer.citations:
        out.print(f"- {citation.title}: {citation.url}", highlight=False, soft_wrap=True)


@app.command()
def config(
    reference: Annotated[
        bool, typer.Option("--reference", help="Print the settings reference as Markdown.")
    ] = False,
) -> None:
    """Print the effective configuration, secrets masked."""
    if reference:
        print(settings_reference())
        return
    for name, value in _settings().effective().items():
        print(f"{name}={value}")


@app.command()
def openapi() -> None:
    """Print the HTTP API's OpenAPI document (committed as docs/openapi.json)."""
    from loket.web.app import create_app

    print(json.dumps(create_app(_settings()).openapi(), indent=2, ensure_ascii=False))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all database migrations."""
    services = _services(migrate=True)
    out.print(f"Database is current: {services.db.is_current()}")
