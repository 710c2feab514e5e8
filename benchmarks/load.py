"""Load (issue 16): concurrent conversations against two `loket serve` replicas, then one replica killed.

Each conversation is a person asking three questions of the demo catalogue (Dutch, some French and
English): a first question, then two follow-ups that send `conversation_id` and the
`Loket-Conversation-Token` header of the first answer; every other conversation begins with a search.
Requests go round-robin to the replicas, as a load balancer would send them, so a conversation's
follow-ups often land on the other replica. Two agency clients write cases (PUT) meanwhile.

Phases, all on the same two replicas:
1. think: `--conversations` at once for `--seconds`, with `--think` seconds between questions (as
   people ask; goal: ask p95 ≤ 500 ms);
2. saturation: the same without thinking: the most requests a second the two sustain;
3. failover: as 1 for half of `--seconds`, one replica SIGKILLed halfway; the balancer takes a
   replica out at its first refused connection, as a passive health check would. Then every
   answered message and every acknowledged case is read back from the survivor.
Printed: requests/s, p50/p95/p99 of ask and search, errors (must be 0 in phases 1 and 2), each
replica's memory (VmRSS after each phase, peak VmHWM), and the failover's failed requests and losses.

The database is one SQLite file both replicas share: allowed for a benchmark on one machine, but
PostgreSQL is the real multi-replica setup (`--postgres` starts one with pgserver, `--database-url`
takes yours; there a `loket worker` beside the replicas indexes the catalogue, as in a
deployment). Everything listens on 127.0.0.1 and the run stops by itself, killing what it started.
Rate limits are raised for the run: all traffic comes from one address. The load generator runs on
the same machine as the replicas and takes CPU from them.

Run: `.venv/bin/python benchmarks/load.py [--postgres | --database-url URL] [--quick]` (about six
minutes by default; `--quick` is a smoke run of about 20 s of load).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

import httpx

from common import percentile
from web import CACHED_VECTORS, free_port

LOKET = Path(sys.executable).parent / "loket"
TOKEN_HEADER = "Loket-Conversation-Token"
GOAL_P95_MS = 500
AGENCY_WRITERS = 2
# (language, search, first question, two follow-ups): the demo catalogue's topics.
CONVERSATIONS = [
    ("nl", "identiteitskaart gestolen", "Mijn identiteitskaart is gestolen. Wat moet ik doen?",
     "En als het de Kids-ID van mijn zoon is?", "Hoeveel kost een nieuwe kaart?"),
    ("nl", "bewonerskaart", "Hoe vraag ik een bewonerskaart aan om te parkeren?",
     "Wat kost dat per jaar?", "En voor een tweede auto?"),
    ("nl", "vzw oprichten", "Ik wil een vzw oprichten, hoe begin ik?",
     "Moet ik dat bij de griffie neerleggen?", "Kan mijn vzw dan subsidie krijgen?"),
    ("nl", "uittreksel strafregister", "Wat kost een uittreksel uit het strafregister?",
     "Waar vraag ik het aan?", "Hoe lang is het geldig?"),
    ("nl", "verhuizen adres", "Ik ga verhuizen. Hoe geef ik mijn nieuw adres door?",
     "Binnen hoeveel dagen moet dat?", "En mijn kinderen, moeten die ook langskomen?"),
    ("nl", "groeipakket", "Krijg ik een startbedrag bij de geboorte van mijn kind?",
     "Wanneer moet ik dat aanvragen?", "En de kinderopvangtoeslag?"),
    ("nl", "renovatie premie", "Welke premie krijg ik als ik mijn huis renoveer?",
     "Kan ik ook een lening krijgen?", "Tot hoeveel bedraagt die?"),
    ("nl", "rijbewijs", "Hoe vraag ik een internationaal rijbewijs aan?",
     "Hoe lang is het geldig?", "Wat moet ik meebrengen?"),
    ("nl", "sociale woning", "Hoe schrijf ik me in voor een sociale woning?",
     "En heb ik recht op een huurpremie?", "Hoe lang duurt het?"),
    ("fr", "déménagement adresse", "Je déménage, comment déclarer ma nouvelle adresse ?",
     "Dans quel délai ?", "Et pour mes enfants ?"),
    ("fr", "carte d'identité volée", "On m'a volé ma carte d'identité, que dois-je faire ?",
     "Combien coûte une nouvelle carte ?", "Et pour un passeport ?"),
    ("en", "start a business", "How do I start a business as a sole trader?",
     "Do I need a VAT number?", "How much does it cost?"),
    ("en", "childcare", "How do I find childcare for my baby?",
     "Is there an allowance for childcare?", "And when my child starts school?"),
]  # fmt: skip
# Each question comes with a greeting and the person's town, so that few are asked twice word for word:
# a repeated question skips embedding (the query-vector cache), which real people rarely grant.
GREETINGS = {
    "nl": ("", "Dag, ", "Hallo. ", "Goeiemiddag, ", "Vraagje: "),
    "fr": ("", "Bonjour, ", "Bonsoir. ", "Une question : "),
    "en": ("", "Hello, ", "Hi. ", "Quick question: "),
}
TOWNS = (
    "Gent", "Antwerpen", "Brugge", "Leuven", "Mechelen", "Hasselt", "Kortrijk", "Aalst", "Genk",
    "Oostende", "Sint-Niklaas", "Roeselare", "Turnhout", "Lier", "Dendermonde", "Geel", "Ieper",
    "Tienen", "Halle", "Vilvoorde",
)  # fmt: skip
WHERE = {"nl": " Ik woon in {}.", "fr": " J'habite à {}.", "en": " I live in {}."}
CASE = {
    "name": "Omgevingsvergunning",
    "type": "vergunning",
    "subjects": [{"type": "company", "key": "0123456749"}],
    "status": {"code": "ontvangen", "phase": "Uw aanvraag is ontvangen."},
}


@dataclass
class Phase:
    name: str
    seconds: float
    think: tuple[float, float] | None
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"ask": [], "search": [], "case": []})
    errors: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)  # of the answers
    elapsed: float = 0.0
    memory: dict[str, tuple[int, int]] = field(default_factory=dict)  # replica: (VmRSS, VmHWM) in kB

    @property
    def rate(self) -> float:
        return sum(map(len, self.latencies.values())) / self.elapsed

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


@dataclass
class Replica:
    name: str
    process: subprocess.Popen
    base: str
    log: Path
    alive: bool = True


@dataclass
class Ledger:
    """What the replicas acknowledged: answered messages per conversation, and written cases."""

    messages: dict[str, tuple[str, set[str]]] = field(default_factory=dict)  # id: (token, message ids)
    cases: set[str] = field(default_factory=set)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=120, help="each of the two load phases (120)")
    parser.add_argument("--conversations", type=int, default=200, help="at once (200)")
    parser.add_argument("--think", default="5-15", help="seconds between questions, LOW-HIGH (5-15)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 50 conversations, 8 s, think 1-3 s")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true", help="a real PostgreSQL started by pgserver")
    where.add_argument("--database-url", help="a database of yours (SQLAlchemy URL); it gets an agency")
    options = parser.parse_args()
    if options.quick:
        options.seconds, options.conversations, options.think = 8, 50, "1-3"
    low, _, high = options.think.partition("-")
    options.think = (float(low), float(high or low))
    return options


def environment(url: str, workdir: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("LOKET_")}
    unlimited = "1000000/minute"
    env.update(
        LOKET_ENV="development",
        LOKET_DEMO="1",
        LOKET_DATABASE_URL=url,
        LOKET_DATA_DIR=workdir,
        LOKET_LOG_LEVEL="WARNING",
        LOKET_RATE_LIMIT_CLIENT=unlimited,
        LOKET_RATE_LIMIT_CONVERSATION=unlimited,
        LOKET_RATE_LIMIT_SEARCH=unlimited,
    )
    return env


def prepare_database(options: argparse.Namespace, workdir: str) -> tuple[str, object | None]:
    """(SQLAlchemy URL, pgserver to clean up): SQLite with the tests' cached demo vectors, or PostgreSQL."""
    if options.database_url:
        return options.database_url, None
    if not options.postgres:
        if CACHED_VECTORS.exists():  # the demo's vectors, made by the tests: no half minute of embedding
            shutil.copyfile(CACHED_VECTORS, f"{workdir}/load.db")
        return f"sqlite:///{workdir}/load.db", None
    import pgserver

    server = pgserver.get_server(Path(workdir) / "pg", cleanup_mode="stop")
    server.psql("CREATE DATABASE loket_load;")
    base, _, query = server.get_uri().partition("?")
    url = f"{base.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://')}/loket_load?{query}"
    return url, server


def add_agency(env: dict[str, str]) -> tuple[str, str]:
    """(source, bearer token) of a new agency, after `loket db upgrade` (as a deployment runs it first:
    on PostgreSQL no other command migrates)."""
    subprocess.run([str(LOKET), "db", "upgrade"], env=env, capture_output=True, text=True, check=True)
    source = f"load-{uuid.uuid4().hex[:8]}"
    command = [str(LOKET), "agencies", "add", source]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return source, done.stdout.strip().splitlines()[-1]


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """`loket …` in a process group of its own, so that it and anything it starts can be killed."""
    with log.open("w") as output:
        return subprocess.Popen(
            [str(LOKET), *command], env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def start_replica(name: str, env: dict[str, str], workdir: str) -> Replica:
    port = free_port()
    log = Path(workdir) / f"{name}.log"
    process = start(["serve", "--host", "127.0.0.1", "--port", str(port)], env, log)
    replica = Replica(name, process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} stopped:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{replica.base}/readyz").status_code == 200:
                return replica
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{name} did not become ready")


def wait_until_indexed(replicas: list[Replica]) -> None:
    """On PostgreSQL the worker indexes the demo catalogue after the replicas start; they swap it in."""
    deadline = time.monotonic() + 600
    for replica in replicas:
        search = f"{replica.base}/api/v1/search?q=identiteitskaart"
        while not httpx.get(search).json()["results"]:
            if time.monotonic() > deadline:
                raise SystemExit(f"{replica.name} did not get the index")
            time.sleep(0.5)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in kB: resident now, and the most it ever was."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    status = dict(line.split(":", 1) for line in lines if ":" in line)
    return int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])


def http_client(connections: int) -> httpx.AsyncClient:
    """No cookies: each conversation is held by its token header alone, as an API client holds it.
    httpx lets an idle connection go after 5 s, before `loket serve` does (KEEP_ALIVE_SECONDS)."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(timeout=60, limits=limits, cookies=no_cookies)


class Load:
    """One phase's traffic: people in conversations and agencies writing cases, until the deadline."""

    def __init__(
        self, phase: Phase, replicas: list[Replica], ledger: Ledger, agency: tuple[str, str]
    ) -> None:
        self.phase, self.replicas, self.ledger = phase, replicas, ledger
        self.source, self.agency_token = agency
        self.turns = itertools.count()

    async def run(self, conversations: int, kill: Replica | None = None) -> None:
        started = time.monotonic()
        self.deadline = started + self.phase.seconds
        async with http_client(conversations + AGENCY_WRITERS) as self.client:
            tasks = [self.person() for _ in range(conversations)]
            tasks += [self.agency() for _ in range(AGENCY_WRITERS)]
            if kill:
                tasks.append(self.kill(kill, started + self.phase.seconds / 2))
            await asyncio.gather(*tasks)
        self.phase.elapsed = time.monotonic() - started
        for replica in self.replicas:
            if replica.process.poll() is None:
                self.phase.memory[replica.name] = memory_kb(replica.process.pid)

    async def request(self, kind: str, method: str, path: str, **kwargs) -> httpx.Response | None:
        """One timed request, round-robin over the live replicas as a load balancer sends them. A
        failure is counted by kind and cause and not retried; a refused connection takes its replica
        out of the rotation, as the balancer's passive health check would."""
        live = [replica for replica in self.replicas if replica.alive]
        if not live:
            self.phase.errors[kind, "no replica left"] += 1
            await asyncio.sleep(1)  # as a balancer with no backend would answer: not at once, in a loop
            return None
        replica = live[next(self.turns) % len(live)]
        started = time.perf_counter()
        try:
            response = await self.client.request(method, replica.base + path, **kwargs)
        except httpx.TransportError as error:
            if isinstance(error, httpx.ConnectError):  # refused: nothing listens there any more
                replica.alive = False
            self.phase.errors[kind, type(error).__name__] += 1
            return None
        if response.status_code >= 400:
            self.phase.errors[kind, str(response.status_code)] += 1
            return None
        self.phase.latencies[kind].append((time.perf_counter() - started) * 1000)
        return response

    async def think(self) -> None:
        if self.phase.think:
            pause = random.uniform(*self.phase.think)
            await asyncio.sleep(min(pause, max(0.0, self.deadline - time.monotonic())))

    async def person(self) -> None:
        """Conversation after conversation; a failed question ends its conversation."""
        if self.phase.think:  # people do not all arrive in the same second
            await asyncio.sleep(random.uniform(0, self.phase.think[1]))
        for number in itertools.count():
            language, query, *questions = random.choice(CONVERSATIONS)
            if number % 2 == 0 and time.monotonic() < self.deadline:
                await self.request("search", "GET", "/api/v1/search", params={"q": query})
            conversation, headers = None, {}
            for question in questions:
                if time.monotonic() >= self.deadline:
                    return
                if conversation is None:
                    town = random.choice((*TOWNS, None))
                    where = WHERE[language].format(town) if town else ""
                    question = random.choice(GREETINGS[language]) + question + where
                body = {"question": question, "language": language, "conversation_id": conversation}
                response = await self.request("ask", "POST", "/api/v1/ask", json=body, headers=headers)
                if response is None:
                    break
                answer = response.json()
                self.phase.statuses[answer["status"]] += 1
                if conversation is None:
                    conversation, token = answer["conversation_id"], answer["conversation_token"]
                    headers = {TOKEN_HEADER: token}
                    self.ledger.messages[conversation] = (token, set())
                self.ledger.messages[conversation][1].add(answer["message_id"])
                await self.think()
            await self.think()

    async def agency(self) -> None:
        """An agency's system writing new cases, one at a time."""
        headers = {"Authorization": f"Bearer {self.agency_token}"}
        while time.monotonic() < self.deadline:
            number = uuid.uuid4().hex[:12]
            path = f"/api/v1/cases/{self.source}/{number}"
            if await self.request("case", "PUT", path, json=CASE, headers=headers):
                self.ledger.cases.add(number)
            await self.think()

    async def kill(self, replica: Replica, moment: float) -> None:
        await asyncio.sleep(moment - time.monotonic())
        os.killpg(replica.process.pid, signal.SIGKILL)
        replica.process.wait()


async def lost(survivor: Replica, ledger: Ledger, agency: tuple[str, str]) -> tuple[int, int]:
    """(answered messages, acknowledged cases) the survivor cannot give back."""
    source, token = agency
    gate = asyncio.Semaphore(20)
    async with http_client(20) as client:

        async def read(path: str, headers: dict[str, str]) -> httpx.Response:
            async with gate:
                return await client.get(survivor.base + path, headers=headers)

        async def missing_messages(conversation: str, holder: str, messages: set[str]) -> int:
            response = await read(f"/api/v1/conversations/{conversation}", {TOKEN_HEADER: holder})
            stored = (
                {message["id"] for message in response.json()["messages"]} if response.is_success else set()
            )
            return len(messages - stored)

        async def missing_case(number: str) -> int:
            response = await read(f"/api/v1/cases/{source}/{number}", {"Authorization": f"Bearer {token}"})
            return int(not response.is_success)

        messages = await asyncio.gather(
            *(
                missing_messages(conversation, holder, ids)
                for conversation, (holder, ids) in ledger.messages.items()
            )
        )
        cases = await asyncio.gather(*(missing_case(number) for number in ledger.cases))
    return sum(messages), sum(cases)


def report(phases: list[Phase], replicas: list[Replica]) -> None:
    def row(label: str, cells: list[str]) -> None:
        print(f"{label:<26}" + "".join(f"{cell:>20}" for cell in cells))

    row("", [phase.name for phase in phases])
    row("seconds", [f"{phase.elapsed:.0f}" for phase in phases])
    row("requests/s", [f"{phase.rate:.1f}" for phase in phases])
    for kind in ("ask", "search", "case"):
        row(f"{kind} requests answered", [str(len(phase.latencies[kind])) for phase in phases])
        row(
            f"{kind} p50/p95/p99 ms",
            ["/".join(f"{percentile(phase.latencies[kind], share):.0f}" for share in (0.5, 0.95, 0.99))
             for phase in phases],
        )  # fmt: skip
    row("errors", [str(phase.failed) for phase in phases])
    for replica in replicas:
        memory = [phase.memory.get(replica.name) for phase in phases]
        row(f"{replica.name} VmRSS MB", [f"{kb[0] / 1024:.0f}" if kb else "killed" for kb in memory])
        peak = max(kb[1] for kb in memory if kb)
        row(f"{replica.name} peak VmHWM MB", [f"{peak / 1024:.0f}"])
    for phase in phases:
        statuses = ", ".join(f"{status} {n}" for status, n in phase.statuses.most_common())
        print(f"answers in {phase.name}: {statuses}")
        if phase.errors:
            causes = ", ".join(f"{kind} {cause} ×{n}" for (kind, cause), n in sorted(phase.errors.items()))
            print(f"errors in {phase.name}: {causes}")
    for replica in replicas:
        if crashes := server_errors(replica.log):
            print(f"{replica.name} logged server errors: {dict(crashes)}")


def server_errors(log: Path) -> Counter:
    """What the replica logged as `web.server_error` (a 500), by exception class."""
    events = (json.loads(line) for line in log.read_text().splitlines() if line.startswith("{"))
    return Counter(event["error"] for event in events if event.get("event") == "web.server_error")


def main() -> None:
    options = parse()
    low, high = options.think
    print(
        f"{options.conversations} conversations at once against 2 replicas; {options.seconds:.0f} s a "
        f"phase, failover {options.seconds / 2:.0f} s; think {low:g}–{high:g} s"
    )
    replicas: list[Replica] = []
    worker, server = None, None
    # The replicas run in sessions of their own: a terminated run must still reach `finally` to stop them.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory() as workdir:
        try:
            url, server = prepare_database(options, workdir)
            env = environment(url, workdir)
            agency = add_agency(env)
            started = time.monotonic()
            for name in ("replica A", "replica B"):  # one after the other: the first loads and indexes
                replicas.append(start_replica(name, env, workdir))
            if not url.startswith("sqlite"):  # there `loket serve` runs the jobs itself
                worker = start(["worker"], env, Path(workdir) / "worker.log")
                wait_until_indexed(replicas)
            print(f"database: {url.split(':', 1)[0]}; replicas ready in {time.monotonic() - started:.0f} s\n")

            ledger = Ledger()
            think = Phase(f"think {low:g}–{high:g} s", options.seconds, options.think)
            saturation = Phase("saturation", options.seconds, None)
            failover = Phase("failover", options.seconds / 2, options.think)
            for phase in (think, saturation, failover):
                kill = replicas[1] if phase is failover else None
                asyncio.run(Load(phase, replicas, ledger, agency).run(options.conversations, kill))
            report([think, saturation, failover], replicas)

            ask_p95 = percentile(think.latencies["ask"], 0.95)
            verdict = "meets" if ask_p95 <= GOAL_P95_MS else "misses"
            print(
                f"\nask p95 with think time {ask_p95:.0f} ms: {verdict} the goal (≤ {GOAL_P95_MS} ms). "
                f"Saturation: {saturation.rate:.1f} requests/s. "
                f"Errors: {think.failed} and {saturation.failed} (must be 0)."
            )
            messages, cases = asyncio.run(lost(replicas[0], ledger, agency))
            answered = sum(len(ids) for _, ids in ledger.messages.values())
            print(
                f"Failover: replica B SIGKILLed {failover.seconds / 2:.0f} s into the phase, "
                f"{failover.failed} requests failed. Read back from replica A after all phases: "
                f"{answered - messages} of {answered} answered messages ({len(ledger.messages)} "
                f"conversations), {len(ledger.cases) - cases} of {len(ledger.cases)} acknowledged cases: "
                f"{'nothing lost' if not messages and not cases else 'DATA LOST'}."
            )
        finally:
            for process in [replica.process for replica in replicas] + ([worker] if worker else []):
                stop(process)
            if server is not None:
                server.cleanup()


if __name__ == "__main__":
    main()
