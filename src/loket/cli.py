"""The `loket` command: serve, ingest, search, ask, config and database upkeep."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from py_vapid import Vapid02, b64urlencode
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.exc import OperationalError

from loket.cases.magda import CaseSourceError
from loket.catalog.importers import FORMAT_NAMES
from loket.config import Settings, settings_reference
from loket.consent.log import Notary
from loket.db import SchemaBehind, SchemaState
from loket.errors import LoketError
from loket.identity import national_number as national_numbers
from loket.identity.schemas import Role
from loket.insight.gaps import DAYS as GAP_DAYS
from loket.jobs import SYNC_INDEX
from loket.logging import configure as configure_logging
from loket.messages.notify import application_server_key
from loket.proactive.intake import EVENT_TYPES
from loket.proactive.service import DEMO_SENDER, demo_event
from loket.search.schemas import SearchFilters
from loket.services import Services, log_origin

KEEP_ALIVE_SECONDS = 75  # `loket serve`'s idle connections: longer than a load balancer's (see there)
app = typer.Typer(help="loket: one digital assistant for a government.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema upkeep.", no_args_is_help=True)
app.add_typer(db_app, name="db")
eval_app = typer.Typer(help="Measure answer and retrieval quality.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
assistant_app = typer.Typer(help="Switch the assistant off and on.", no_args_is_help=True)
app.add_typer(assistant_app, name="assistant")
conversations_app = typer.Typer(help="Stored conversations.", no_args_is_help=True)
app.add_typer(conversations_app, name="conversations")
agencies_app = typer.Typer(help="Back offices that send cases, each for one source.", no_args_is_help=True)
app.add_typer(agencies_app, name="agencies")
users_app = typer.Typer(help="Roles beyond citizen: agent, content_owner, operator.", no_args_is_help=True)
app.add_typer(users_app, name="users")
persons_app = typer.Typer(help="The people loket holds data on.", no_args_is_help=True)
app.add_typer(persons_app, name="persons")
insight_app = typer.Typer(help="Figures for content owners and operators.", no_args_is_help=True)
app.add_typer(insight_app, name="insight")
reports_app = typer.Typer(help="Reports (meldingen) and who handles them.", no_args_is_help=True)
app.add_typer(reports_app, name="reports")
handlers_app = typer.Typer(help="Agents who work an authority's reports.", no_args_is_help=True)
reports_app.add_typer(handlers_app, name="handlers")
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


def _services(migrate: bool = False, quiet: bool = True, command: str = "loket") -> Services:
    """Interactive commands print their own results; only the server logs at the configured level.

    `migrate`: the command uses the tables. SQLite (embedded, one process) is migrated on the spot;
    PostgreSQL only checked (`Database.prepare`): a schema behind this loket is one line on stderr,
    starting with `command`, and exit 2."""
    settings = _settings()
    configure_logging("WARNING" if quiet else settings.log_level)
    services = Services.build(settings)
    if migrate:
        try:
            services.db.prepare()
        except SchemaBehind as error:
            _refuse(command, error.message)
        except OperationalError as error:
            _refuse(command, f"cannot reach the database: {str(error.orig).strip().splitlines()[0]}")
    return services


def _refuse(command: str, reason: str) -> NoReturn:
    err.print(f"{command}: {reason}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web app and the API. In production (the default unless LOKET_DEMO is on) only behind
    an https public address.

    On SQLite (the embedded setup, one process) it migrates the database first, so that `make run`
    stays one command. On PostgreSQL it does not: `loket db upgrade` is a step of its own, before new
    replicas start. A schema behind this loket is refused with one line on stderr (exit 2); one ahead
    of it (a newer release migrated it during a rolling upgrade) is served, with a warning logged.
    With LOKET_DEMO=1 the demo (catalogue, persons, cases) is seeded, each part once per database."""
    import uvicorn

    from loket.web.app import create_app

    settings = _settings()
    if settings.production and not settings.https:
        err.print(
            "loket serve: refusing to start in production without an https LOKET_PUBLIC_URL "
            "(set it, or LOKET_ENV=development on your own machine)",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(2)
    services = _services(migrate=True, quiet=False, command="loket serve")
    if report := services.seed_demo():
        err.print(f"Loaded the demo catalogue: {report.created} items.")
    if services.db.embedded:
        _sync_search(services)
    else:
        # Every replica embedding the catalogue as it starts would be the same work done N times:
        # the index's sync is a job, and one worker does it while the replicas serve the last one.
        with services.db.session() as session:
            services.jobs.enqueue(session, SYNC_INDEX, lock=SYNC_INDEX)
    services.assistant.warm_up()
    if services.db.embedded:
        services.jobs.run_in_process()  # on PostgreSQL, `loket worker` processes run them
    # The app serves with these services: the index and the models loaded above are its own.
    # Whom to believe about the client is LOKET_TRUSTED_PROXIES' to say (create_app), not uvicorn's.
    app = create_app(services=services)
    # Open event streams would hold a stop up for ever: after 10 s they are cut, and their clients
    # resume elsewhere with Last-Event-ID. An idle connection is kept longer than load balancers keep
    # theirs (60 s is common), so that the balancer closes it, never loket while the balancer sends a
    # request on it (uvicorn's default is 5 s).
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=False,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs this process runs at once.")] = 1,
) -> None:
    """Run the jobs (index syncs, the nightly purge, retries of jobs whose worker died) until stopped
    (SIGTERM or Ctrl-C: the job under way is finished first). Needs PostgreSQL; on SQLite `loket
    serve` runs the jobs itself."""
    if _settings().sqlalchemy_url.startswith("sqlite"):
        _refuse("loket worker", "needs PostgreSQL (LOKET_DATABASE_URL); on SQLite, loket serve runs the jobs")
    from loket.tracing import configure_tracing

    services = _services(migrate=True, quiet=False, command="loket worker")
    configure_tracing(services.settings, services.db.engine)  # off unless LOKET_OTEL_EXPORTER_OTLP_ENDPOINT
    services.jobs.work(concurrency)


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
    _sync_search(services)
    raise typer.Exit(1 if failed else 0)


@app.command()
def reindex() -> None:
    """Bring the search index in line with the catalogue (ingest does this too)."""
    _sync_search(_services(migrate=True))


def _bar() -> Progress:
    """A progress bar on stderr for long work, gone when it is done: the task's description, the bar,
    how many of how many, the time it has taken."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _sync_search(services: Services) -> None:
    """Embedding is the slow part of loading content: show how far it is."""
    with _bar() as progress:
        task = progress.add_task("embedding", total=None)
        report = services.search.sync(
            on_progress=lambda done, total: progress.update(task, completed=done, total=total)
        )
    out.print(
        f"search index: {report.items_indexed} items indexed, {report.items_removed} removed, "
        f"{report.chunks_embedded} texts embedded",
        highlight=False,
    )


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
    from loket.search.schemas import SearchResponse, SearchResult

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
    question: Annotated[
        str | None, typer.Argument(help="The question, in your own words; leave out to start a conversation.")
    ] = None,
    language: Annotated[str | None, typer.Option(help="Preferred answer language.")] = None,
    audience: Annotated[str | None, typer.Option(help="citizen, business or association.")] = None,
    conversation: Annotated[str | None, typer.Option(help="Continue this conversation.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON as the HTTP API does.")] = False,
) -> None:
    """Ask the assistant; without a question, a conversation on the terminal (an empty line ends it)."""
    assistant = _services(migrate=True).assistant
    questions = [question] if question is not None else _typed_questions()
    for text in questions:
        try:
            answer = assistant.ask(text, language, audience, conversation)
        except LoketError as error:
            err.print(error.message, highlight=False)
            if question is not None:
                raise typer.Exit(2) from None
            continue
        conversation = answer.conversation_id
        if as_json:
            print(json.dumps(asdict(answer), ensure_ascii=False, indent=2))
            continue
        out.print(answer.answer, highlight=False, soft_wrap=True)
        for notice in answer.notices:
            out.print(f"[dim]{notice}[/dim]", highlight=False, soft_wrap=True)
        for citation in answer.citations:
            out.print(f"- {citation.title}: {citation.url}", highlight=False, soft_wrap=True)
        out.print(f"[dim]({answer.status})[/dim]", highlight=False)


def _typed_questions():
    while True:
        try:
            text = out.input("[bold]? [/bold]").strip()
        except EOFError:
            return
        if not text:
            return
        yield text


@assistant_app.command("disable")
def assistant_disable(
    reason: Annotated[str, typer.Option(help="Shown to people who ask meanwhile, e.g. 'maintenance'.")],
) -> None:
    """Switch the assistant off at once on every app server: questions get a maintenance answer (503)."""
    switch = _services(migrate=True).assistant.set_enabled(False, reason)
    out.print(
        f"assistant disabled at {switch.changed_at:%Y-%m-%d %H:%M} UTC: {switch.reason}", highlight=False
    )


@assistant_app.command("enable")
def assistant_enable() -> None:
    """Switch the assistant back on."""
    _services(migrate=True).assistant.set_enabled(True)
    out.print("assistant enabled")


@assistant_app.command("status")
def assistant_status() -> None:
    """Whether the assistant answers, and why not."""
    switch = _services(migrate=True).assistant.switch()
    out.print("enabled" if switch.enabled else f"disabled: {switch.reason}", highlight=False)


@conversations_app.command("purge")
def conversations_purge(
    days: Annotated[
        int | None,
        typer.Option(min=0, help="Keep this many days; default LOKET_CONVERSATION_RETENTION_DAYS."),
    ] = None,
) -> None:
    """Remove conversations that nobody touched during the retention period."""
    services = _services(migrate=True)
    keep = services.settings.conversation_retention_days if days is None else days
    removed = services.assistant.purge(timedelta(days=keep))
    out.print(f"{removed} conversations older than {keep} days removed", highlight=False)


@insight_app.command("gaps")
def insight_gaps(
    days: Annotated[int, typer.Option(min=1, help="Cluster the questions of this many days.")] = GAP_DAYS,
    show: Annotated[int, typer.Option(min=0, help="List this many open gaps, the largest first.")] = 10,
) -> None:
    """Cluster the unanswered and voted-down questions into content gaps now (a job does it every hour)
    and list the largest open ones. Example questions only for gaps that at least
    LOKET_INSIGHT_MIN_ASKERS different people asked about."""
    services = _services(migrate=True)
    with _bar() as progress:
        task = progress.add_task("reading the questions", total=None)
        run = services.gaps.compute(
            days,
            lambda stage, done, total: progress.update(task, description=stage, completed=done, total=total),
        )
    out.print(
        f"{run.questions} questions of the last {days} days ({run.embedded} embedded now): "
        f"{run.clusters} clusters of two or more, the {run.kept} largest kept",
        highlight=False,
    )
    found = services.gaps.latest()
    for gap in found.open[:show] if found else []:
        closest = "; ".join(item.title for item in gap.items) or "none"
        new = f", {gap.new_since_handled} new since handled" if gap.handled_at else ""
        out.print(
            f"{gap.number}. {gap.size} questions from {gap.askers} people{new}; closest: {closest}",
            highlight=False,
            soft_wrap=True,
        )
        for text, _ in gap.examples:
            out.print(f"   - {text}", highlight=False, soft_wrap=True, markup=False)
    if found and found.handled:
        out.print(f"{len(found.handled)} handled", highlight=False)


@app.command()
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what is past its retention; remove nothing.")
    ] = False,
) -> None:
    """Remove everything personal that is past its retention (the LOKET_*_RETENTION_* settings): untouched
    conversations with their messages, feedback, ended logins, logins never finished, the access log,
    reports with their photos and the events streamed to pages. The jobs do this every night; this is
    the same, now. Cases are not purged: they are the agencies' records, which loket keeps a copy of as
    they send them."""
    services = _services(migrate=True)
    settings = services.settings
    kept_for = {
        "conversations": _amount(settings.conversation_retention_days, "day") + " untouched",
        "messages": "as their conversation",
        "feedback": _amount(settings.feedback_retention_days, "day"),
        "sessions": _amount(settings.session_retention_days, "day") + " after ending",
        "login attempts": _amount(settings.login_attempt_retention_minutes, "minute") + " after timing out",
        "access log": _amount(settings.access_log_retention_days, "day"),
        "events": _amount(settings.event_retention_hours, "hour"),
        "hand-off steps": "as their conversation",
        "continuation codes": "until they expire",
        "life events": _amount(settings.life_event_retention_days, "day") + " after evaluation",
        "reports": _amount(settings.report_retention_days, "day"),
        "report photos": "as their report",
    }
    removed = services.purge(dry_run)
    table = Table("kind", "kept for", "would be removed" if dry_run else "removed")
    for kind, rows in removed.items():
        table.add_row(kind, kept_for[kind], str(rows))
    out.print(table)
    if dry_run:
        out.print("dry run: nothing removed")


def _amount(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"


@agencies_app.command("add")
def agencies_add(
    name: Annotated[str, typer.Argument(help="The agency's name, e.g. its acronym.")],
    source: Annotated[str | None, typer.Option(help="The cases' source it may write; default NAME.")] = None,
) -> None:
    """Create an agency and print its bearer token (shown only now; only its hash is kept). An agency
    named as a report category's authority reads that category's reports (/api/v1/reports/queue)."""
    try:
        token = _services(migrate=True).cases.add_agency(name, source)
    except LoketError as error:
        raise typer.BadParameter(error.message, param_hint="NAME") from error
    typer.echo(token)


@agencies_app.command("revoke")
def agencies_revoke(name: Annotated[str, typer.Argument(help="The agency's name.")]) -> None:
    """Stop an agency's token at once."""
    if not _services(migrate=True).cases.revoke_agency(name):
        raise typer.BadParameter(f"no active agency named {name!r}", param_hint="NAME")
    out.print(f"{name} revoked", highlight=False)


@agencies_app.command("list")
def agencies_list() -> None:
    """Every agency, its source, and whether it was revoked."""
    for agency in _services(migrate=True).cases.agencies():
        typer.echo(f"{agency.name}\t{agency.source}\t{'revoked' if agency.revoked else 'active'}")


partners_app = typer.Typer(
    help="Partners' OAuth2 clients: scopes per API, a quota each, or the sandbox.", no_args_is_help=True
)
app.add_typer(partners_app, name="partners")


@partners_app.command("add")
def partners_add(
    name: Annotated[str, typer.Argument(help="The partner's name, e.g. a city's app.")],
    scope: Annotated[list[str], typer.Option(help="An API it may use; repeat for several.")],
    quota: Annotated[str, typer.Option(help="Its own limit, e.g. 600/minute or 10000/day.")] = "600/minute",
    sandbox: Annotated[bool, typer.Option(help="Answered from the demo catalogue only.")] = False,
    agency: Annotated[str | None, typer.Option(help="The agency its write scopes act for.")] = None,
) -> None:
    """Register a client and print its id and secret (the secret is shown only now)."""
    try:
        registered = _services(migrate=True).partners.register(name, scope, quota, sandbox, agency)
    except LoketError as error:
        raise typer.BadParameter(error.message) from error
    typer.echo(f"client_id\t{registered.client.id}\nclient_secret\t{registered.secret}")


@partners_app.command("list")
def partners_list() -> None:
    """Every client: id, name, scopes, quota, sandbox or live, and whether it was revoked."""
    for client in _services(migrate=True).partners.clients():
        typer.echo(
            "\t".join(
                (
                    client.id,
                    client.name,
                    " ".join(client.scopes),
                    client.quota,
                    "sandbox" if client.sandbox else "live",
                    "revoked" if client.revoked else "active",
                )
            )
        )


@partners_app.command("revoke")
def partners_revoke(client_id: Annotated[str, typer.Argument(help="The client's id.")]) -> None:
    """Stop a client and its tokens at once."""
    if not _services(migrate=True).partners.revoke(client_id):
        raise typer.BadParameter(f"no active client {client_id!r}", param_hint="CLIENT_ID")
    out.print(f"{client_id} revoked", highlight=False)


keys_app = typer.Typer(help="The Ed25519 keys agencies sign their messages with.", no_args_is_help=True)
agencies_app.add_typer(keys_app, name="keys")
hosts_app = typer.Typer(help="The hosts an agency's messages may link to.", no_args_is_help=True)
agencies_app.add_typer(hosts_app, name="hosts")


@keys_app.command("add")
def agency_keys_add(
    name: Annotated[str, typer.Argument(help="The agency's name.")],
    public_key_pem_file: Annotated[
        Path, typer.Argument(help="Its Ed25519 public key, PEM.", metavar="PUBLIC_KEY_PEM_FILE")
    ],
) -> None:
    """Register a key the agency signs messages with, and print its key id (the JWS `kid`)."""
    try:
        pem = public_key_pem_file.read_bytes()
    except OSError as error:
        raise typer.BadParameter(
            f"cannot read {public_key_pem_file}: {error.strerror}", param_hint="PUBLIC_KEY_PEM_FILE"
        ) from error
    try:
        kid = _services(migrate=True).messages.add_key(name, pem)
    except LoketError as error:
        raise typer.BadParameter(error.message, param_hint="NAME or PUBLIC_KEY_PEM_FILE") from error
    typer.echo(kid)


@keys_app.command("revoke")
def agency_keys_revoke(kid: Annotated[str, typer.Argument(help="The key id.")]) -> None:
    """Stop accepting messages signed with this key, at once."""
    if not _services(migrate=True).messages.revoke_key(kid):
        raise typer.BadParameter(f"no active key {kid!r}", param_hint="KID")
    out.print(f"{kid} revoked", highlight=False)


@keys_app.command("list")
def agency_keys_list() -> None:
    """Every key: agency, key id, and whether it was revoked."""
    for agency, kid, revoked in _services(migrate=True).messages.signing_keys():
        typer.echo(f"{agency}\t{kid}\t{'revoked' if revoked else 'active'}")


@hosts_app.command("add")
def agency_hosts_add(
    name: Annotated[str, typer.Argument(help="The agency's name.")],
    host: Annotated[str, typer.Argument(help="A host name such as www.vlaanderen.be (subdomains too).")],
) -> None:
    """Let the agency's messages link to this host (https only)."""
    try:
        _services(migrate=True).messages.allow_host(name, host)
    except LoketError as error:
        raise typer.BadParameter(error.message, param_hint="NAME or HOST") from error


@agencies_app.command("callback")
def agencies_callback(
    name: Annotated[str, typer.Argument(help="The agency's name.")],
    url: Annotated[str, typer.Argument(help="The https address that takes its delivery receipts.")],
    token_file: Annotated[Path, typer.Argument(help="A file holding the bearer token loket is to send.")],
) -> None:
    """Where the agency hears that its messages were delivered, read or not read in time."""
    services = _services(migrate=True)
    try:
        services.receipts.set_callback(name, url, token_file.read_text(encoding="utf-8"))
    except OSError as error:
        raise typer.BadParameter(
            f"cannot read {token_file}: {error.strerror}", param_hint="TOKEN_FILE"
        ) from error
    except LoketError as error:
        raise typer.BadParameter(error.message, param_hint="NAME or URL") from error


audit_app = typer.Typer(help="The tamper-evident access log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(help="A checkpoint kept elsewhere (a file), which the log must still agree with."),
    ] = None,
) -> None:
    """Check every access record against the log, and every checkpoint against the log's leaves: exit 0
    when intact, 1 naming the first record or checkpoint that does not match."""
    services = _services(migrate=True)
    try:
        trusted = [path.read_text(encoding="utf-8") for path in checkpoint or []]
        found = services.audit_log.verify(services.identity.access_log.entries(), trusted)
    except (OSError, ValueError) as error:
        err.print(f"not intact: {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from error
    if found.problem:
        err.print(f"not intact: {found.problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    typer.echo(f"intact: {found.entries} access records and {found.checkpoints} checkpoints match the log")


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the log as it is now (the jobs do it every minute) and print the checkpoint."""
    signed = _services(migrate=True).audit_log.checkpoint()
    if signed is None:
        err.print("no checkpoint: LOKET_LOG_SIGNING_KEY is not set", highlight=False)
        raise typer.Exit(1)
    typer.echo(signed.note, nl=False)


@audit_app.command("hide")
def audit_hide(
    record: Annotated[int, typer.Argument(help="The access record's number (`record` in the access log).")],
    until: Annotated[datetime, typer.Option(help="Until when (UTC) its subject may not see it.")],
    reason: Annotated[str, typer.Option(help="Why (an investigation, …); shown to them once it is over.")],
) -> None:
    """Keep one access record from its subject's view until a date: the record stays in the log as it
    was; its subject sees it, with the reason, once the date passes or it is disclosed."""
    try:
        until = until.replace(tzinfo=UTC)
        held = _services(migrate=True).identity.access_log.hide(record, until, reason)
    except LoketError as error:
        err.print(f"not held: {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from error
    if not held:
        err.print(f"not held: access record {record} is held already", highlight=False)
        raise typer.Exit(1)
    typer.echo(f"held: access record {record} until {until.isoformat()}")


@audit_app.command("disclose")
def audit_disclose(
    record: Annotated[int, typer.Argument(help="The access record's number.")],
) -> None:
    """End a hold now: the record's subject sees it from now on, with when and why it was held."""
    if not _services(migrate=True).identity.access_log.disclose(record):
        err.print(f"not disclosed: access record {record} is not held", highlight=False)
        raise typer.Exit(1)
    typer.echo(f"disclosed: access record {record}")


events_app = typer.Typer(
    help="Life events from authentic sources, for proactive services.", no_args_is_help=True
)
app.add_typer(events_app, name="events")


@events_app.command("allow")
def events_allow(
    agency: Annotated[str, typer.Argument(help="The agency's name (loket agencies add).")],
    types: Annotated[list[str], typer.Argument(help="Event types, such as loket.birth.registered.")],
) -> None:
    """Let an agency send these life events to POST /api/v1/events."""
    try:
        _services(migrate=True).proactive.allow(agency, types)
    except LoketError as error:
        raise typer.BadParameter(error.message) from error
    out.print(f"{agency} may send {', '.join(types)}", highlight=False)


@events_app.command("simulate")
def events_simulate(
    type_: Annotated[str, typer.Argument(metavar="TYPE", help=f"One of: {', '.join(EVENT_TYPES)}.")],
    subject: Annotated[str, typer.Option(help="The national number (or enterprise number) it is about.")],
    data: Annotated[
        str, typer.Option(help='Its other fields as JSON, e.g. \'{"birth_date": "2026-12-01"}\'.')
    ] = "{}",
) -> None:
    """Send one life event from the demo's authentic source, through the same intake as the API; on
    SQLite, evaluate it here too (no worker runs beside a command)."""
    try:
        fields = json.loads(data)
    except ValueError as error:
        raise typer.BadParameter(f"not JSON: {error}", param_hint="--data") from error
    if not isinstance(fields, dict):
        raise typer.BadParameter("give a JSON object", param_hint="--data")
    services = _services(migrate=True)
    event = demo_event(type_, {**fields, "subject": subject})
    try:
        received = services.proactive.receive(DEMO_SENDER, event)
    except LoketError as error:
        raise typer.BadParameter(error.message) from error
    offered = services.proactive.evaluate_event(received.id) if services.db.embedded else None
    evaluation = "evaluation queued" if offered is None else f"{offered} new offer(s)"
    typer.echo(f"event {event['id']} ({type_}) received: {evaluation}")


phishing_app = typer.Typer(
    help="Phishing campaigns going round, which the message check recognises.", no_args_is_help=True
)
app.add_typer(phishing_app, name="phishing")


@phishing_app.command("add")
def phishing_add(
    text: Annotated[
        str, typer.Argument(help="A telling part of the campaign's text (20 characters or more).")
    ],
    note: Annotated[str, typer.Option(help="Where it was seen, for the operators.")] = "",
) -> None:
    """Add a campaign; prints its number."""
    try:
        typer.echo(_services(migrate=True).messages.add_phishing(text, note))
    except LoketError as error:
        raise typer.BadParameter(error.message, param_hint="TEXT") from error


@phishing_app.command("list")
def phishing_list() -> None:
    for number, text, note in _services(migrate=True).messages.phishing():
        typer.echo(f"{number}\t{text}\t{note}")


@phishing_app.command("remove")
def phishing_remove(number: Annotated[int, typer.Argument(help="The campaign's number.")]) -> None:
    if not _services(migrate=True).messages.remove_phishing(number):
        raise typer.BadParameter(f"no campaign {number}", param_hint="NUMBER")


@app.command("keys")
def keys(
    kind: Annotated[
        str,
        typer.Argument(
            help="`vapid` (LOKET_VAPID_PRIVATE_KEY), `data` (LOKET_DATA_KEY) or `log` "
            "(LOKET_LOG_SIGNING_KEY)."
        ),
    ],
) -> None:
    """Print a new key for LOKET_VAPID_PRIVATE_KEY or LOKET_LOG_SIGNING_KEY (with what verifies it, on
    stderr) or LOKET_DATA_KEY."""
    if kind == "data":
        typer.echo(Fernet.generate_key().decode())
    elif kind == "vapid":
        key = Vapid02()
        key.generate_keys()
        # The raw key, base64url: one line, as an .env file or a Secret holds it.
        typer.echo(b64urlencode(key.private_key.private_numbers().private_value.to_bytes(32, "big")))
        err.print(
            f"public key (applicationServerKey): {application_server_key(key)}",
            highlight=False,
            soft_wrap=True,
        )
    elif kind == "log":
        key = Ed25519PrivateKey.generate()
        typer.echo(base64.urlsafe_b64encode(key.private_bytes_raw()).decode().rstrip("="))
        verifier = Notary(log_origin(_settings()), key).public_key()
        err.print(f"verifier key: {verifier}", highlight=False, soft_wrap=True)
    else:
        raise typer.BadParameter("give vapid, data or log", param_hint="KIND")


@app.command("ingest-cases")
def ingest_cases(
    locations: Annotated[
        list[str], typer.Argument(help="GeefDossiers XML files, folders or URLs.", metavar="PATH_OR_URL...")
    ],
) -> None:
    """Load running cases from MAGDA GeefDossiers responses; lists what was skipped and why."""
    services = _services(migrate=True)
    for location in locations:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True) as bar:
            task = bar.add_task(f"{location}: reading", total=None)
            try:
                report = services.cases.ingest_location(
                    location,
                    lambda name, task=task, at=location: bar.update(task, description=f"{at}: {name}"),
                )
            except CaseSourceError as error:
                err.print(f"{location}: {error}", highlight=False)
                raise typer.Exit(1) from error
        typer.echo(
            f"{location}: {report.files} files, {report.created} cases created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.skipped)} skipped"
        )
        for skipped in report.skipped:
            typer.echo(f"  skipped {skipped.where}: {skipped.reason}")


NationalNumber = Annotated[str, typer.Argument(help="The person's national number (rijksregisternummer).")]
RoleArgument = Annotated[Role, typer.Argument(help="agent, content_owner or operator.")]
AuthorityArgument = Annotated[
    str, typer.Argument(help="A report category's authority, as categories.yaml names it.")
]


@users_app.command("grant")
def users_grant(national_number: NationalNumber, role: RoleArgument) -> None:
    """Give a person a role; it applies from their next request, logged in or not yet."""
    if role is Role.CITIZEN:
        raise typer.BadParameter("every logged-in person is a citizen already", param_hint="ROLE")
    changed = _change_role("grant", national_number, role)
    out.print(f"{role.value} granted" if changed else f"{role.value} was already granted", highlight=False)


@users_app.command("revoke")
def users_revoke(national_number: NationalNumber, role: RoleArgument) -> None:
    """Take a role away; it ends at the person's next request."""
    changed = _change_role("revoke", national_number, role)
    out.print(f"{role.value} revoked" if changed else f"{role.value} was not granted", highlight=False)


def _change_role(change: str, national_number: str, role: Role) -> bool:
    try:
        return getattr(_services(migrate=True).identity.roles, change)(national_number, role)
    except LoketError as error:
        raise typer.BadParameter(error.message, param_hint="NATIONAL_NUMBER") from error


@users_app.command("list")
def users_list() -> None:
    """Who holds which role."""
    for number, role in _services(migrate=True).identity.roles.all():
        typer.echo(f"{number}\t{role.value}")


@persons_app.command("erase")
def persons_erase(
    national_number: NationalNumber,
    yes: Annotated[bool, typer.Option("--yes", help="Erase; without it, only show what would go.")] = False,
) -> None:
    """Erase what loket holds on a person, every account carrying the number: their logins and sessions,
    the conversations they began logged in, mandates given and received, roles, and loket's copy of the
    cases about them alone (a case shared with others loses only its link to them). The access log of
    who read their data, and of what they read of others', is kept as the law requires, until
    LOKET_ACCESS_LOG_RETENTION_DAYS.

    Without --yes it only shows what would be erased. Exit codes:
    0 erased;
    1 loket holds nothing for that number;
    2 not a valid national number, nothing erased;
    3 nothing erased, as --yes was not given.
    """
    number = national_numbers.compact(national_number)
    if not national_numbers.is_valid(number):
        raise typer.BadParameter("not a valid national number", param_hint="NATIONAL_NUMBER")
    services = _services(migrate=True)
    shown = "*" * 8 + number[-3:]  # the number is personal data: never in full where output is kept
    erasure = services.erase_person(number, dry_run=True)
    if not any(erasure.removed.values()):
        err.print(
            f"no person: loket holds nothing for {shown}; nothing erased", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1)
    if yes:
        erasure = services.erase_person(number, dry_run=False)
    table = Table("kind", "erased" if yes else "would be erased", "kept", title=shown)
    for kind, rows in erasure.removed.items():
        table.add_row(kind, str(rows), "")
    for kind, rows in erasure.kept.items():
        table.add_row(kind, "", str(rows))
    out.print(table)
    out.print(
        "Kept: the access log, as the law requires, until LOKET_ACCESS_LOG_RETENTION_DAYS; the "
        "tamper-evident log keeps only each record's salted hash, which says nothing without it. The "
        "agencies keep their own cases: ask them to erase theirs, or their next update brings them back. "
        "Conversations begun without logging in are nobody's: they go after their retention.",
        highlight=False,
        soft_wrap=True,
    )
    if not yes:
        err.print("nothing erased: run again with --yes to erase", highlight=False)
        raise typer.Exit(3)


@app.command()
def config(
    reference: Annotated[
        bool, typer.Option("--reference", help="Print the settings reference as Markdown.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="List what is unsafe to put online; exit code 1 if anything.")
    ] = False,
) -> None:
    """Print the effective configuration, secrets masked."""
    if reference:
        print(settings_reference())
        return
    if check:
        problems = _settings().unsafe()
        for problem in problems:
            print(f"unsafe: {problem}")
        if problems:
            raise typer.Exit(1)
        print("safe to put online")
        return
    for name, value in _settings().effective().items():
        print(f"{name}={value}")


@app.command()
def openapi(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print it as the API reference (docs/api.md) instead.")
    ] = False,
    freeze: Annotated[
        Path | None,
        typer.Option(
            help="Extend the frozen /api/v1 contract in this file (docs/api/v1-frozen.json) instead; "
            "refused, naming what, if the document removes or narrows anything of it."
        ),
    ] = None,
) -> None:
    """Print the HTTP API's OpenAPI document (committed as docs/openapi.json); `make api-docs` makes
    all three."""
    from loket.web.api_reference import reference
    from loket.web.app import create_app
    from loket.web.contract import breaks, frozen

    document = create_app(_settings()).openapi()
    if freeze:
        problems = breaks(json.loads(freeze.read_text(encoding="utf-8")), document) if freeze.exists() else []
        if problems:
            _refuse("openapi", "the /api/v1 contract would shrink:\n" + "\n".join(problems))
        freeze.parent.mkdir(parents=True, exist_ok=True)
        freeze.write_text(json.dumps(frozen(document), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    if markdown:
        print(reference(document), end="")
    else:
        print(json.dumps(document, indent=2, ensure_ascii=False))


@eval_app.command("retrieval")
def eval_retrieval(
    questions: Annotated[
        list[Path], typer.Option("--questions", "-q", help="JSON-lines question file; repeat for more.")
    ],
    compare: Annotated[
        bool, typer.Option("--compare", help="Also run lexical-only and dense-only, side by side.")
    ] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write all figures and misses here.")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Search only this source's items.")] = None,
) -> None:
    """Recall@1/3/10 and MRR per language, audience and file, on the loaded catalogue."""
    from loket.evaluation.retrieval import CONFIGURATIONS, evaluate, load_questions

    try:
        loaded = [question for path in questions for question in load_questions(path)]
    except (OSError, ValueError) as error:
        err.print(str(error))
        raise typer.Exit(2) from None
    search = _services(migrate=True).search
    names = list(CONFIGURATIONS) if compare else ["hybrid"]
    filters = SearchFilters(source=source)
    results = {name: evaluate(search, loaded, CONFIGURATIONS[name], filters) for name in names}
    table = Table("group", "configuration", "R@1", "R@3", "R@10", "MRR", "answered", "no-match")
    for group in results[names[0]]["groups"]:
        for name in names:
            figures = results[name]["groups"][group]
            cells = [
                figures.get(m)
                for m in ("recall@1", "recall@3", "recall@10", "mrr", "answered", "no_match_recall")
            ]
            label = f"{group} ({figures['questions']})" if name == names[0] else ""
            table.add_row(label, name, *("" if cell is None else f"{cell:.2f}" for cell in cells))
    out.print(table)
    if json_out:
        json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


@eval_app.command("answers")
def eval_answers(
    questions: Annotated[
        list[Path], typer.Option("--questions", "-q", help="JSON-lines answers file; repeat for more.")
    ],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write all figures and misses here.")
    ] = None,
) -> None:
    """Status accuracy, citation correctness and groundedness of the assistant's answers.

    Every question is asked as a new conversation and stored like any other: use an evaluation database.
    """
    from loket.evaluation.answers import evaluate_answers, load_answer_questions
    from loket.evaluation.tables import answer_tables

    _run_evaluation(questions, load_answer_questions, evaluate_answers, answer_tables, json_out)


@eval_app.command("redteam")
def eval_redteam(
    questions: Annotated[
        list[Path], typer.Option("--questions", "-q", help="JSON-lines red-team file; repeat for more.")
    ],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write all figures and misses here.")
    ] = None,
) -> None:
    """Attacks refused, look-alikes wrongly refused, and answers that leak or obey, per language and kind."""
    from loket.evaluation.redteam import evaluate_red_team, load_red_team
    from loket.evaluation.tables import red_team_tables

    _run_evaluation(questions, load_red_team, evaluate_red_team, red_team_tables, json_out)


def _run_evaluation(paths: list[Path], load, evaluate, tables, json_out: Path | None) -> None:
    """Loads question files (exit 2 on a bad one), asks every question, prints tables, writes JSON."""
    try:
        loaded = [question for path in paths for question in load(path)]
    except ValueError as error:
        err.print(str(error), highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    services = _services(migrate=True)
    result = _evaluating(
        "asking", lambda progress: evaluate(services.assistant, services.catalog, loaded, progress)
    )
    for table in tables(result):
        out.print(table)
    if json_out:
        json_out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")


def _evaluating(label: str, run):
    """Runs an evaluation with a progress bar on stderr; a switched-off assistant ends it (exit 1)."""
    with _bar() as progress:
        task = progress.add_task(label, total=None)
        try:
            return run(lambda done, total: progress.update(task, completed=done, total=total))
        except LoketError as error:
            err.print(error.message, highlight=False)
            raise typer.Exit(1) from None


@eval_app.command("all")
def eval_all(
    corpus: Annotated[
        list[Path],
        typer.Option("--corpus", help="The catalogue measured on (loaded if new); repeat for more files."),
    ],
    name: Annotated[str, typer.Option(help="That catalogue's name, as the about page shows it.")] = (
        "Rijksoverheid (VAC)"
    ),
    questions: Annotated[Path, typer.Option(help="The folder of question sets.")] = Path("eval"),
    write: Annotated[
        Path | None,
        typer.Option("--write", help="Write the about page's summary here (its evaluation.json)."),
    ] = None,
) -> None:
    """The figures the about page publishes: retrieval, answers and red team, on the held-out part of
    each question set and, beside it, the tuning part. Uses the configured database: an evaluation one."""
    from loket.evaluation.answers import evaluate_answers, load_answer_questions
    from loket.evaluation.questions import PARTS
    from loket.evaluation.redteam import evaluate_red_team, load_red_team
    from loket.evaluation.retrieval import evaluate, load_questions
    from loket.web.evaluation import SETS, share_text, summarise

    try:
        sets = {
            kind: [question for file in SETS[kind] for question in load(questions / file)]
            for kind, load in (
                ("retrieval", load_questions),
                ("answers", load_answer_questions),
                ("red_team", load_red_team),
            )
        }
    except (OSError, ValueError) as error:
        err.print(str(error), highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    services = _services(migrate=True)
    for location in corpus:
        report = services.catalog.ingest_location(str(location))
        if not report.ok:
            err.print(f"{location}: {'; '.join(map(str, report.problems))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1)
    _sync_search(services)
    measured = {}
    for part in PARTS:
        asked = {
            kind: [question for question in loaded if question.part == part] for kind, loaded in sets.items()
        }
        measured[part] = (
            evaluate(services.search, asked["retrieval"]),
            _evaluating(
                f"answers, {part}",
                lambda progress, asked=asked: evaluate_answers(
                    services.assistant, services.catalog, asked["answers"], progress
                ),
            ),
            _evaluating(
                f"red team, {part}",
                lambda progress, asked=asked: evaluate_red_team(
                    services.assistant, services.catalog, asked["red_team"], progress
                ),
            ),
        )
    summary = summarise(measured, name, len(services.catalog.active_items()), date.today())
    table = Table("figure", "held out", "questions", "tuning", "questions")
    for figure in summary["figures"]:
        table.add_row(
            figure["key"],
            share_text(figure["value"]),
            str(figure["questions"]),
            share_text(figure["tuning"]),
            str(figure["tuning_questions"]),
        )
    out.print(table)
    if write:
        write.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all database migrations: on PostgreSQL run it before new replicas start (`loket serve` does
    not migrate there). Two at once take turns (an advisory lock); a database already migrated by a
    newer release is left as it is."""
    schema = _services().db.upgrade()
    if schema.state is SchemaState.AHEAD:
        out.print(
            f"Database is ahead of this loket (at {schema.revision}, this loket knows up to {schema.head}): "
            "left as it is",
            highlight=False,
        )
        return
    out.print(f"Database is current: {schema.state is SchemaState.CURRENT}")


@handlers_app.command("add")
def handlers_add(national_number: NationalNumber, authority: AuthorityArgument) -> None:
    """Let an agent work an authority's reports on the agent console (/balie/meldingen)."""
    changed = _change_handler("add_handler", national_number, authority)
    out.print("added" if changed else "was already added", highlight=False)


@handlers_app.command("remove")
def handlers_remove(national_number: NationalNumber, authority: AuthorityArgument) -> None:
    """Stop an agent working an authority's reports on the console."""
    changed = _change_handler("remove_handler", national_number, authority)
    out.print("removed" if changed else "was not added", highlight=False)


@handlers_app.command("list")
def handlers_list() -> None:
    """Who works which authority's reports on the console."""
    for number, authority in _services(migrate=True).reports.handlers():
        out.print(f"{number}\t{authority}", highlight=False)


def _change_handler(change: str, national_number: str, authority: str) -> bool:
    try:
        return getattr(_services(migrate=True).reports, change)(national_number, authority)
    except LoketError as error:
        raise typer.BadParameter(error.message) from error
