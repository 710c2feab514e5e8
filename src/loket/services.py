"""The composition root: every block built once for one configuration, for the app and the CLI alike."""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from datetime import timedelta
from urllib.parse import urlsplit

from loket.assistant.compose import Composer, ExtractiveComposer
from loket.assistant.conversations import ConversationStore
from loket.assistant.llm import ChatClient, LLMComposer, LLMJudge, LLMReranker, LLMRewriter
from loket.assistant.service import AssistantService
from loket.cases.service import CaseService
from loket.catalog.schemas import IngestReport
from loket.catalog.service import CatalogService
from loket.config import Settings
from loket.consent.choices import Choices
from loket.consent.log import Notary, TamperEvidentLog, new_signing_key
from loket.db import Database
from loket.events import EventBus
from loket.handoff.service import HandoffService
from loket.identity.access_log import AccessLog
from loket.identity.oidc import OidcClient
from loket.identity.retention import Erasure
from loket.identity.service import IdentityService
from loket.insight.gaps import GapService
from loket.insight.review import ReviewService
from loket.insight.service import InsightService
from loket.jobs import Jobs
from loket.keys import kept_key
from loket.logging import get_logger
from loket.messages.notify import EMAIL, SMS, Notifier, Stub, WebPush, application_server_key, vapid_key
from loket.messages.receipts import Receipts, fernet
from loket.messages.service import MessageService
from loket.partners.service import PartnerService
from loket.proactive.engine import flanders
from loket.proactive.service import ProactiveService
from loket.reports.addresses import AddressRegister
from loket.reports.schemas import Area, PhotoLimits
from loket.reports.service import ReportService, load_categories
from loket.search.embedders import make_embedder
from loket.search.rerank import CrossEncoderReranker, Reranker
from loket.search.service import SearchService
from loket.search.synonyms import BUILT_IN as BUILT_IN_SYNONYMS
from loket.search.synonyms import Synonyms

log = get_logger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    catalog: CatalogService
    search: SearchService
    assistant: AssistantService
    identity: IdentityService
    oidc: OidcClient | None
    cases: CaseService
    messages: MessageService
    notifier: Notifier
    receipts: Receipts
    handoff: HandoffService
    proactive: ProactiveService
    insight: InsightService
    reviews: ReviewService
    audit_log: TamperEvidentLog
    choices: Choices
    jobs: Jobs
    events: EventBus
    gaps: GapService
    partners: PartnerService
    reports: ReportService
    addresses: AddressRegister | None  # LOKET_REPORT_ADDRESS_API: where a typed address is

    def purge(self, dry_run: bool = False) -> dict[str, int]:
        """Everything personal past its retention, removed by each block (`loket purge`, and daily as a
        job): rows per kind."""
        settings = self.settings
        return (
            self.assistant.remove_expired(
                timedelta(days=settings.conversation_retention_days),
                timedelta(days=settings.feedback_retention_days),
                dry_run,
            )
            | self.identity.retention.remove_expired(
                timedelta(days=settings.session_retention_days),
                timedelta(minutes=settings.login_attempt_retention_minutes),
                timedelta(days=settings.access_log_retention_days),
                dry_run,
            )
            | self.handoff.remove_expired(timedelta(days=settings.conversation_retention_days), dry_run)
            | self.proactive.remove_expired(timedelta(days=settings.life_event_retention_days), dry_run)
            | self.reports.remove_expired(timedelta(days=settings.report_retention_days), dry_run)
            | {"events": self.events.prune(timedelta(hours=settings.event_retention_hours), dry_run)}
        )

    def seed_demo(self) -> IngestReport | None:
        """With LOKET_DEMO=1: the demo catalogue (into an empty catalogue) and, with the demo login, the
        demo persons and their cases. Each part once per database (`loket_seeds`): a restart neither
        duplicates it nor brings back what an operator removed. The catalogue's report if loaded now."""
        if not self.settings.demo:
            return None
        report = self.db.seed_once("demo.catalogue", self.catalog.load_demo_if_empty)
        if self.settings.demo_login:
            self.db.seed_once("demo.persons", self.identity.demo.load)
            self.db.seed_once("demo.cases", self.cases.load_demo)
            self.db.seed_once("demo.facts", self.proactive.load_demo)
            self.db.seed_once("demo.report_handlers", self.reports.load_demo)
        return report

    def erase_person(self, national_number: str, dry_run: bool = False) -> Erasure:
        """`loket persons erase`: each block erases its own rows in its own transaction, identity last:
        should one fail, the person is still found by their number and the command can be run again."""
        person_ids = self.identity.retention.person_ids(national_number)
        conversations = self.assistant.conversations.begun_by(person_ids)
        subjects = [
            ("person", national_number),
            *(("login", person) for person in person_ids),
            *(("conversation", conversation) for conversation in conversations),
        ]
        removed = (
            self.handoff.erase_conversations(conversations, dry_run)
            | self.assistant.erase_persons(person_ids, dry_run)
            | self.cases.erase_person(national_number, dry_run)
            | self.messages.erase_person(national_number, dry_run)
            | self.proactive.erase_person(national_number, dry_run)
            | self.reports.erase_persons(person_ids, national_number, dry_run)
            | {"choices": self.choices.erase(subjects, dry_run)}
        )
        identity = self.identity.retention.erase(national_number, dry_run)
        return Erasure(removed | identity.removed, identity.kept)

    def parts(self) -> tuple[object, ...]:
        """Everything built, for `loket.deps.provide` (which skips the OpenID client when there is none)."""
        return tuple(getattr(self, part.name) for part in fields(self))

    @classmethod
    def build(cls, settings: Settings) -> Services:
        db = Database(settings.sqlalchemy_url, hide_parameters=settings.production)
        jobs = Jobs(db, settings.jobs_stalled_after)
        events = EventBus(db)
        catalog = CatalogService(db, settings.harvest, jobs)
        synonyms = Synonyms.load(BUILT_IN_SYNONYMS, settings.synonyms_file)
        client = _chat_client(settings)
        search = SearchService(
            db,
            catalog,
            make_embedder(settings),
            synonyms,
            None,
            _reranker(settings, client),
            settings.rerank_depth,
            events,
        )
        audit_log = TamperEvidentLog(db, _notary(settings))
        identity = IdentityService(
            db,
            timedelta(seconds=settings.session_idle_timeout),
            timedelta(seconds=settings.session_max_age),
            audit_log,
            tuple(settings.oidc_acr_values.split()),
            timedelta(days=settings.passkey_unlock_days),
            settings.passkey_assurance,
        )
        cases = CaseService(db, identity, settings.harvest)
        messages = MessageService(db, identity, cases, jobs)
        receipts = Receipts(
            db,
            messages,
            fernet(_secret(settings.data_key), settings.data_dir, settings.production),
            settings.production,
        )
        messages.has_callback = receipts.has_callback
        choices = Choices(db)
        notifier = _notifier(settings, db, messages, identity, jobs, choices)
        composer, rewriter = _composer(settings, client)
        reports = _reports(settings, db, cases, messages, identity.access_log)
        assistant = AssistantService(
            search,
            ConversationStore(db, events),
            cases,
            composer,
            rewriter,
            LLMJudge(client) if settings.answer_judge == "llm" and client else None,
            settings.answer_judge_threshold,
            settings.emergency_number,
            settings.suicide_line,
            settings.infoline,
            events=events,
            messages=messages,
            access_log=identity.access_log,
            timezone=settings.timezone,
            report_categories=tuple(reports.categories.values()),
        )
        handoff = HandoffService(
            db,
            events,
            assistant,
            identity,
            choices,
            settings.hours,
            settings.handoff_seconds_per_conversation,
            settings.handoff_idle_minutes,
        )
        assistant.human = handoff
        proactive = ProactiveService(db, flanders(), identity, catalog, messages, jobs, choices)
        assistant.proactive = proactive
        reviews = ReviewService(assistant.conversations, db)
        services = cls(
            settings,
            db,
            catalog,
            search,
            assistant,
            identity,
            _oidc(settings),
            cases,
            messages,
            notifier,
            receipts,
            handoff,
            proactive,
            InsightService(assistant.conversations, handoff, catalog, reviews, settings.timezone),
            reviews,
            audit_log,
            choices,
            jobs,
            events,
            GapService(db, assistant.conversations, search, catalog, settings.insight_min_askers),
            PartnerService(
                db,
                timedelta(seconds=settings.partner_token_seconds),
                lambda name: cases.agency_named(name) is not None,
            ),
            reports,
            AddressRegister(settings.report_address_api) if settings.report_address_api else None,
        )
        jobs.declare(
            sync_index=search.sync,
            purge=services.purge,
            harvest=lambda source, url: catalog.ingest_location(url, source=source),
            sources=settings.harvest_sources,
            harvest_schedule=settings.harvest_schedule,
            notify=notifier.notify,
            receipt=receipts.send,
            expired=messages.queue_failed_receipts,
            idle=handoff.end_idle,
            evaluate=proactive.evaluate_event,
            checkpoint=audit_log.checkpoint,
            gaps=services.gaps.compute,
            gaps_schedule=settings.insight_gaps_schedule,
        )
        return services


class Sandbox:
    """What sandbox partners get (`loket.partners.access`): loket on the demo catalogue only, in an
    embedded database of its own under `data_dir/sandbox`. Their questions and conversations stay there,
    apart from the real ones and out of the real figures.

    It is built in the background from the first sandbox request on, since indexing the demo catalogue
    takes half a minute on a small server; until then sandbox requests are told to come back."""

    def __init__(self, settings: Settings) -> None:
        own = {"data_dir": settings.data_dir / "sandbox", "database_url": None}
        self.settings = type(settings).model_validate(settings.model_dump() | own)
        self._services: Services | None = None
        self._building = threading.Lock()

    def components(self, real: dict[type, object]) -> dict[type, object] | None:
        """The real app's components with the sandbox's blocks in their place (partners stay real), or
        None while the sandbox is being built."""
        if self._services is None:
            if self._building.acquire(blocking=False):
                threading.Thread(target=self._build, name="sandbox", daemon=True).start()
            return None
        return real | {
            type(part): part for part in self._services.parts() if not isinstance(part, PartnerService)
        }

    def _build(self) -> None:
        """Holds the lock from the first request on; lets go on failure, so a later request tries again."""
        try:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            services = Services.build(self.settings)
            services.db.upgrade()
            services.catalog.load_demo_if_empty()
            services.search.sync()
        except Exception:
            log.exception("partners.sandbox_failed")
            self._building.release()
            return
        self._services = services
        log.info("partners.sandbox_ready", items=len(services.catalog.active_items()))


def _secret(value) -> str | None:
    return value.get_secret_value() if value else None


def _notary(settings: Settings) -> Notary | None:
    """Who signs the access log's checkpoints: the log is named after loket's host."""
    key = kept_key(
        _secret(settings.log_signing_key), settings.data_dir, "log.pem", new_signing_key, settings.production
    )
    if key is None:
        log.warning("consent.checkpoints_off", reason="LOKET_LOG_SIGNING_KEY is not set")
        return None
    try:
        return Notary.from_key(log_origin(settings), key)
    except ValueError as error:
        raise ValueError(
            f"LOKET_LOG_SIGNING_KEY is not an Ed25519 private key (loket keys log): {error}"
        ) from error


def log_origin(settings: Settings) -> str:
    """The access log's name in its checkpoints: loket's host, then `/access-log`."""
    return f"{urlsplit(settings.public_url or 'http://loket.localhost').hostname}/access-log"


def _notifier(
    settings: Settings,
    db: Database,
    messages: MessageService,
    identity: IdentityService,
    jobs: Jobs,
    choices: Choices,
) -> Notifier:
    """Web Push when there is a VAPID key, and the e-mail and SMS stubs. A company's messages notify no
    one yet: loket knows who acts for a company only while they are logged in."""
    key = vapid_key(_secret(settings.vapid_private_key), settings.data_dir, settings.production)
    channels = [Stub(EMAIL), Stub(SMS)] + ([WebPush(db, key, settings.vapid_subject)] if key else [])

    def persons_of(kind: str, number: str) -> list[str]:
        return identity.retention.person_ids(number) if kind == "person" else []

    return Notifier(
        db,
        messages,
        persons_of,
        jobs,
        channels,
        settings.push_ttl,
        settings.timezone,
        settings.push_services,
        application_server_key(key) if key else None,
        choices,
    )


def _reports(
    settings: Settings, db: Database, cases: CaseService, messages: MessageService, access_log: AccessLog
) -> ReportService:
    try:
        area = Area.parse(settings.report_area)
    except ValueError as error:
        raise ValueError(f"LOKET_REPORT_AREA: {error}") from error
    return ReportService(
        db,
        cases,
        messages,
        access_log,
        settings.data_dir,
        load_categories(settings.report_categories_file),
        area,
        PhotoLimits(
            settings.report_photo_max_mb * 2**20,
            settings.report_photo_max_count,
            settings.report_photo_max_pixels,
        ),
        settings.report_nearby_metres,
        settings.report_nearby_days,
    )


def _chat_client(settings: Settings) -> ChatClient | None:
    if not settings.llm_base_url:
        return None
    return ChatClient(
        settings.llm_base_url,
        settings.llm_model or "default",
        settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        settings.llm_timeout,
        settings.llm_retries,
    )


def _reranker(settings: Settings, client: ChatClient | None) -> Reranker | None:
    """Off by default; the settings have checked the value already."""
    if settings.reranker == "llm" and client is not None:
        return LLMReranker(client)
    if settings.reranker.startswith("cross-encoder:"):
        return CrossEncoderReranker(settings.reranker.removeprefix("cross-encoder:"))
    return None


def _composer(settings: Settings, client: ChatClient | None) -> tuple[Composer, LLMRewriter | None]:
    """The LLM composer and rewriter when an endpoint is configured, else the extractive default."""
    if client is None:
        return ExtractiveComposer(), None
    composer = LLMComposer(
        client, settings.llm_max_tokens, settings.llm_cost_prompt, settings.llm_cost_completion
    )
    return composer, LLMRewriter(client)


def _oidc(settings: Settings) -> OidcClient | None:
    if not settings.oidc_issuer or not settings.oidc_client_id:
        return None
    secret = settings.oidc_client_secret
    return OidcClient(
        settings.oidc_issuer,
        settings.oidc_client_id,
        secret.get_secret_value() if secret else None,
        settings.oidc_scopes,
        settings.oidc_clock_skew,
        tuple(settings.oidc_acr_values.split()),
    )
