"""Telling people a message arrived, without giving phishers anything to copy.

What leaves loket is the sender's name and one fixed sentence ("You have a new message in your
loket"): no name, subject, link or number. The inbox, after logging in, is the only place a message
is read. Channels share one interface: Web Push (VAPID, RFC 8291 encryption, by pywebpush), and
e-mail and SMS as stubs until a deployment has a gateway (they record that they were asked, never an
address or a text).

A notification is a job (`NOTIFY`), queued in the transaction that stores the message. It fans out
to the recipient's persons and their channels; a channel in its person's quiet hours gets a job of
its own at the end of them. A message past its `valid_until` is never notified. A push service that
answers 404 or 410 has forgotten the subscription: loket deletes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02, b64urlencode
from pywebpush import WebPushException, webpush
from requests import RequestException
from sqlalchemy import delete, func, select

from loket import clock
from loket.consent.choices import Choices
from loket.db import Database, insert_new
from loket.errors import BadRequest
from loket.i18n import message, negotiate
from loket.jobs import NOTIFY, Jobs
from loket.keys import kept_key
from loket.logging import get_logger
from loket.messages.models import PreferenceRow, PushSubscriptionRow
from loket.messages.service import MessageService
from loket.messages.texts import NOTIFICATION

log = get_logger(__name__)
WEBPUSH, EMAIL, SMS = "webpush", "email", "sms"
CHANNELS = (WEBPUSH, EMAIL, SMS)
CONSENT_FOR = {EMAIL: "email_notifications"}  # channels used only with consent: its purpose
ON_BY_DEFAULT = {WEBPUSH}
TOKEN_HOURS = 12  # a VAPID token's life; push services refuse more than 24 hours
GONE = (404, 410)


@dataclass(frozen=True)
class Preference:
    channel: str
    enabled: bool
    quiet_from: time | None = None
    quiet_until: time | None = None

    def quiet_end(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """When the quiet hours `now` falls in end (UTC); None when it falls in none."""
        if self.quiet_from is None or self.quiet_until is None or self.quiet_from == self.quiet_until:
            return None
        local = now.astimezone(zone)
        start, end = self.quiet_from, self.quiet_until
        spans_midnight = start > end
        inside = (
            (local.time() >= start or local.time() < end) if spans_midnight else start <= local.time() < end
        )
        if not inside:
            return None
        day = local.date() + timedelta(days=1) if spans_midnight and local.time() >= start else local.date()
        return datetime.combine(day, end, zone).astimezone(now.tzinfo)


class Channel(Protocol):
    name: str

    def send(self, person_id: str, sender: str, ttl: int, urgency: str) -> list[str]:
        """Notifies the person; one outcome per attempt (an HTTP status or what failed)."""


class WebPush:
    name = WEBPUSH

    def __init__(self, db: Database, key: Vapid02, subject: str) -> None:
        self.db = db
        self.key = key
        self.subject = subject

    def send(self, person_id: str, sender: str, ttl: int, urgency: str) -> list[str]:
        with self.db.session() as session:
            subscriptions = session.scalars(
                select(PushSubscriptionRow).where(PushSubscriptionRow.person_id == person_id)
            ).all()
            targets = [(s.id, s.endpoint, s.p256dh, s.auth, s.language) for s in subscriptions]
        return [self._push(*target, sender, ttl, urgency) for target in targets]

    def _push(self, row_id, endpoint, p256dh, auth, language, sender, ttl, urgency) -> str:
        payload = json.dumps({"sender": sender, "text": message(NOTIFICATION, language)}, ensure_ascii=False)
        host = urlsplit(endpoint)
        claims = {
            "sub": self.subject,
            "aud": f"{host.scheme}://{host.netloc}",
            "exp": int((clock.now() + timedelta(hours=TOKEN_HOURS)).timestamp()),
        }
        try:
            response = webpush(
                {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                payload,
                vapid_private_key=self.key,
                vapid_claims=claims,
                ttl=ttl,
                headers={"Urgency": urgency},
                timeout=10,
            )
            status = response.status_code
        except WebPushException as error:
            status = error.response.status_code if error.response is not None else None
            if status is None:
                return f"error: {type(error.__cause__ or error).__name__}"
        except (
            RequestException
        ) as error:  # unreachable, or too slow: the person's other devices still get theirs
            return f"error: {type(error).__name__}"
        if status in GONE:
            with self.db.session() as session:
                session.execute(delete(PushSubscriptionRow).where(PushSubscriptionRow.id == row_id))
            log.info("messages.subscription_gone", status=status)
        return f"HTTP {status}"


class Stub:
    """A channel loket has no gateway for yet: it records that it was asked, and sends nothing."""

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, person_id: str, sender: str, ttl: int, urgency: str) -> list[str]:
        log.info("messages.stub_notified", channel=self.name)
        return ["stub: not sent"]


class Notifier:
    def __init__(
        self,
        db: Database,
        messages: MessageService,
        persons_of: Callable[[str, str], list[str]],
        jobs: Jobs,
        channels: list[Channel],
        ttl: int,
        zone: str,
        push_hosts: tuple[str, ...],
        public_key: str | None,
        choices: Choices,
    ) -> None:
        """`persons_of(type, key)`: the persons who read a recipient's messages as themselves.
        `push_hosts`: the push services a subscription may point at (empty: any; development).
        `public_key`: the VAPID key browsers subscribe with; None when push is off."""
        self.db = db
        self.messages = messages
        self.persons_of = persons_of
        self.jobs = jobs
        self.channels = {channel.name: channel for channel in channels}
        self.ttl = ttl
        self.zone = ZoneInfo(zone)
        self.push_hosts = push_hosts
        self.public_key = public_key
        self.choices = choices

    # Subscriptions and preferences

    def subscribe(self, person_id: str, endpoint: str, p256dh: str, auth: str, language: str) -> None:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" and self.push_hosts:
            raise BadRequest("a push subscription's endpoint must be an https address")
        if self.push_hosts and not any(host == h or host.endswith(f".{h}") for h in self.push_hosts):
            raise BadRequest(f"{host!r} is not a push service loket sends to")
        values = {
            "person_id": person_id,
            "endpoint": endpoint,
            "p256dh": p256dh,
            "auth": auth,
            "language": negotiate(language),
            "created_at": clock.now(),
        }
        with self.db.session() as session:
            if not insert_new(session, PushSubscriptionRow, values, ["endpoint"]):
                row = session.scalar(
                    select(PushSubscriptionRow).where(PushSubscriptionRow.endpoint == endpoint)
                )
                for key, value in values.items():
                    setattr(row, key, value)  # the browser's subscription, now for this person

    def unsubscribe(self, person_id: str, endpoint: str) -> bool:
        with self.db.session() as session:
            gone = session.execute(
                delete(PushSubscriptionRow).where(
                    PushSubscriptionRow.person_id == person_id, PushSubscriptionRow.endpoint == endpoint
                )
            )
            return gone.rowcount > 0

    def subscriptions(self, person_id: str) -> int:
        with self.db.session() as session:
            mine = PushSubscriptionRow.person_id == person_id
            return session.scalar(select(func.count()).select_from(PushSubscriptionRow).where(mine))

    def preferences(self, person_id: str) -> list[Preference]:
        with self.db.session() as session:
            rows = {
                r.channel: r
                for r in session.scalars(select(PreferenceRow).where(PreferenceRow.person_id == person_id))
            }
        found = [
            Preference(c, rows[c].enabled, rows[c].quiet_from, rows[c].quiet_until)
            if c in rows
            else Preference(c, c in ON_BY_DEFAULT)
            for c in CHANNELS
        ]
        return [replace(p, enabled=p.enabled and self._consented(person_id, p.channel)) for p in found]

    def _consented(self, person_id: str, channel: str) -> bool:
        """A channel that needs the person's consent (e-mail) is on only while it is granted: the job
        reads the preferences when it sends, so a withdrawal stops what was queued before it."""
        purpose = CONSENT_FOR.get(channel)
        return purpose is None or self.choices.allows(("login", person_id), purpose)

    def set_preference(self, person_id: str, preference: Preference) -> None:
        if preference.channel not in CHANNELS:
            raise BadRequest(f"no channel {preference.channel!r}: use one of {', '.join(CHANNELS)}")
        if (preference.quiet_from is None) != (preference.quiet_until is None):
            raise BadRequest("quiet hours need both a start and an end")
        with self.db.session() as session:
            row = session.scalar(
                select(PreferenceRow).where(
                    PreferenceRow.person_id == person_id, PreferenceRow.channel == preference.channel
                )
            )
            if row is None:
                row = PreferenceRow(person_id=person_id, channel=preference.channel)
                session.add(row)
            row.enabled = preference.enabled
            row.quiet_from, row.quiet_until = preference.quiet_from, preference.quiet_until
        purpose = CONSENT_FOR.get(preference.channel)
        if purpose and self.choices.allows(("login", person_id), purpose) != preference.enabled:
            self.choices.make(("login", person_id), purpose, preference.enabled, person_id)

    # The job

    def notify(self, message_id: str, person_id: str | None = None, channel: str | None = None) -> int:
        """Notifies the recipient of a message (or one person on one channel, after quiet hours);
        how many notifications went out."""
        found = self.messages.get(message_id)
        if found is None or found.read or (found.valid_until and found.valid_until <= clock.now()):
            log.info("messages.not_notified", message=message_id, reason="gone, read or expired")
            return 0
        now = clock.now()
        sent = 0
        persons = [person_id] if person_id else self.persons_of(*self.messages.recipient(message_id))
        for person in persons:
            for preference in self.preferences(person):
                if not preference.enabled or (channel and preference.channel != channel):
                    continue
                if preference.channel not in self.channels:
                    continue
                later = preference.quiet_end(now, self.zone)
                if later is not None:
                    with self.db.session() as session:
                        self.jobs.enqueue(
                            session,
                            NOTIFY,
                            at=later,
                            message_id=message_id,
                            person_id=person,
                            channel=preference.channel,
                        )
                    continue
                urgency = "high" if found.priority == "high" else "normal"
                for attempt, outcome in enumerate(
                    self.channels[preference.channel].send(person, found.sender, self.ttl, urgency), 1
                ):
                    self.messages.record_attempt(message_id, f"push:{preference.channel}", attempt, outcome)
                    sent += outcome.startswith("HTTP 2")
        return sent


def vapid_key(value: str | None, data_dir: Path, production: bool) -> Vapid02 | None:
    """The VAPID signing key: configured (PEM, or the raw key base64url), else in development one kept
    in the data folder; None in production without one (no push)."""
    key = kept_key(value, data_dir, "vapid.pem", _new_vapid_key, production)
    if key is None:
        log.warning("messages.push_off", reason="LOKET_VAPID_PRIVATE_KEY is not set")
        return None
    return Vapid02.from_pem(key) if key.startswith(b"-----") else Vapid02.from_raw(key)


def _new_vapid_key() -> bytes:
    key = Vapid02()
    key.generate_keys()
    return key.private_pem()


def application_server_key(key: Vapid02) -> str:
    """The public key a browser subscribes with (`applicationServerKey`): the raw point, base64url."""
    raw = key.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64urlencode(raw)
