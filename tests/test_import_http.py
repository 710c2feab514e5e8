"""Importing from URLs against a real HTTP server on 127.0.0.1 that serves the shared sample files.

Nothing here touches the internet: the IPDC LDES pages are served with their `http://ipdc-stub` links
rewritten to this server, so the importer follows `tree:relation` links exactly as it would on the feed.
"""

from __future__ import annotations

import mimetypes
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from loket.catalog.importers import read
from loket.catalog.importers.fetch import Fetcher
from loket.catalog.schemas import ItemDraft, Problem
from loket.config import Settings
from loket.harvest import HarvestPolicy, Refused
from tests.conftest import GOVUK, IPDC_SAMPLES, SHARED_DATA, VAC

VAC_RECORD = VAC / "cache_vacs_bzk" / "0038f3c3-6266-4d40-965b-a78e96241c22.json"
SLOW_SECONDS = 1.0
HUGE_MB = 50
LOCAL = HarvestPolicy(hosts=("127.0.0.1",))  # named by the operator: a private address is meant


@dataclass
class SampleServer:
    base: str = ""
    requests: Counter = field(default_factory=Counter)  # path with query -> times asked
    order: list[str] = field(default_factory=list)  # the paths, in the order they were asked
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path


def _handler(state: SampleServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep the test output clean
            pass

        def do_GET(self) -> None:
            with state.lock:
                state.requests[self.path] += 1
                state.order.append(self.path)
                count = state.requests[self.path]
            parts = urlsplit(self.path)
            if parts.path == "/doc/conceptsnapshot":
                number = int(parse_qs(parts.query)["pageNumber"][0])
                page = IPDC_SAMPLES / f"tests_ipdc-stub_ldes-pages_page-{number}.json"
                if not page.exists():
                    self._send(404, b"no such page", "text/plain")
                    return
                body = page.read_text(encoding="utf-8").replace("http://ipdc-stub", state.base)
                self._send(200, body.encode(), "application/ld+json")
            elif parts.path.startswith("/shared/"):
                file = (SHARED_DATA / unquote(parts.path.removeprefix("/shared/"))).resolve()
                if SHARED_DATA.resolve() not in file.parents or not file.is_file():
                    self._send(404, b"not found", "text/plain")
                    return
                media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                self._send(200, file.read_bytes(), media_type)
            elif parts.path == "/flaky/vac.json":
                if count <= 2:
                    self._send(503, b"busy, try again", "text/plain")
                else:
                    self._send(200, VAC_RECORD.read_bytes(), "application/json")
            elif parts.path == "/away":  # a redirect to a host the harvest did not name
                self.send_response(302)
                self.send_header("Location", "http://127.0.0.1:1/vac.json")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif parts.path == "/huge":  # 50 MB, sent without a Content-Length, as a stream
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                chunk = b" " * 1024 * 1024
                try:
                    for _ in range(HUGE_MB):
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):  # the harvester stopped reading
                    pass
                self.close_connection = True
            elif parts.path == "/slow/vac.json":
                time.sleep(SLOW_SECONDS)
                self._send(200, VAC_RECORD.read_bytes(), "application/json")
            else:
                self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, media_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (the timeout test)
                pass

    return Handler


@pytest.fixture
def server() -> Iterator[SampleServer]:
    state = SampleServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def fast_fetcher(**options) -> Fetcher:
    """The test server is on 127.0.0.1: named, as an operator names an intranet source."""
    return Fetcher(**{"policy": LOCAL, "backoff": 0.01, "min_interval": 0, **options})


def split(records) -> tuple[list[ItemDraft], list[Problem]]:
    records = list(records)
    drafts = [r for r in records if isinstance(r, ItemDraft)]
    problems = [r for r in records if isinstance(r, Problem)]
    assert len(drafts) + len(problems) == len(records)
    return drafts, problems


def shared_url(server: SampleServer, path) -> str:
    return server.url("/shared/" + str(path.relative_to(SHARED_DATA)))


def test_ldes_pages_are_followed_each_once(server):
    from_file = {
        n: split(read(str(IPDC_SAMPLES / f"tests_ipdc-stub_ldes-pages_page-{n}.json")))[0] for n in (0, 1)
    }
    assert from_file[0] and from_file[1]
    assert {d.source_id for d in from_file[0]}.isdisjoint({d.source_id for d in from_file[1]})

    start = server.url("/doc/conceptsnapshot?pageNumber=0")
    drafts, problems = split(read(start, fetcher=fast_fetcher()))
    assert problems == []
    keys = sorted(d.key for d in drafts)
    assert keys == sorted(d.key for n in (0, 1) for d in from_file[n])
    assert len(keys) == len(set(keys))
    # page 1 links back to page 0: each page is still asked for once
    assert server.requests == Counter(
        {"/doc/conceptsnapshot?pageNumber=0": 1, "/doc/conceptsnapshot?pageNumber=1": 1}
    )


def test_vac_record_by_url_matches_the_file(server):
    (from_file,) = split(read(str(VAC_RECORD)))[0]
    drafts, problems = split(read(shared_url(server, VAC_RECORD), fetcher=fast_fetcher()))
    assert problems == []
    assert drafts == [from_file]
    assert drafts[0].content_hash == from_file.content_hash
    assert drafts[0].source_id == VAC_RECORD.stem


def test_govuk_jsonl_by_url_matches_the_file(server):
    from_file, file_problems = split(read(str(GOVUK)))
    assert file_problems == [] and len(from_file) == 157
    drafts, problems = split(read(shared_url(server, GOVUK), fetcher=fast_fetcher()))
    assert problems == []
    assert [d.content_hash for d in drafts] == [d.content_hash for d in from_file]


def test_vac_csv_by_url_matches_the_file(server):
    csv_file = VAC / "rijksoverheid_vacs_bzk.csv"
    from_file = split(read(str(csv_file)))[0]
    assert len(from_file) == 175
    drafts, problems = split(read(shared_url(server, csv_file), fetcher=fast_fetcher()))
    assert problems == []
    assert [d.content_hash for d in drafts] == [d.content_hash for d in from_file]


def test_retries_after_service_unavailable(server):
    drafts, problems = split(read(server.url("/flaky/vac.json"), fetcher=fast_fetcher(retries=3)))
    assert problems == []
    assert [d.source_id for d in drafts] == [VAC_RECORD.stem]
    assert server.requests["/flaky/vac.json"] == 3  # 503, 503, 200


def test_gives_up_after_the_retries(server):
    drafts, problems = split(read(server.url("/flaky/vac.json"), fetcher=fast_fetcher(retries=1)))
    assert drafts == []
    (problem,) = problems
    assert problem.where == server.url("/flaky/vac.json")
    assert problem.message == "could not fetch (HTTP 503)"
    assert server.requests["/flaky/vac.json"] == 2


def test_not_found_is_a_problem_and_not_retried(server):
    url = server.url("/shared/rijksoverheid_vac_govbench/cache_vacs_bzk/bestaat-niet.json")
    drafts, problems = split(read(url, fetcher=fast_fetcher(retries=3)))
    assert drafts == []
    (problem,) = problems
    assert problem.where == url
    assert "HTTP 404" in problem.message
    assert url in str(problem)
    assert sum(server.requests.values()) == 1


def test_unreachable_url_is_a_problem():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/doc/conceptsnapshot?pageNumber=0"
    drafts, problems = split(read(url, fetcher=fast_fetcher(retries=1)))
    assert drafts == []
    (problem,) = problems
    assert problem.where == url
    assert problem.message == "could not fetch (cannot connect)"


def test_slow_server_times_out(server):
    url = server.url("/slow/vac.json")
    drafts, problems = split(read(url, fetcher=fast_fetcher(timeout=0.2, retries=0)))
    assert drafts == []
    (problem,) = problems
    assert problem.where == url
    assert "timed out" in problem.message
    assert server.requests["/slow/vac.json"] == 1


class MovingClock:
    """A monotonic clock the test moves: sleeping moves it at once, and records the pause."""

    def __init__(self) -> None:
        self.moment = 1000.0
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.moment += seconds


def test_polite_pause_between_requests(server):
    clock = MovingClock()
    fetcher = Fetcher(LOCAL, min_interval=0.05, backoff=0.01, clock=clock, sleep=clock.sleep)
    paths = [
        "/doc/conceptsnapshot?pageNumber=0",
        "/doc/conceptsnapshot?pageNumber=1",
        "/shared/" + str(VAC_RECORD.relative_to(SHARED_DATA)),
        "/doc/conceptsnapshot?pageNumber=0",
    ]
    # between requests, the harvester itself spends: nothing, 30 ms, 200 ms
    own_work = [0.0, 0.03, 0.2]
    sent = []
    for path, work in zip(paths, [0.0, *own_work], strict=True):
        clock.moment += work
        assert fetcher.get(server.url(path)).data
        sent.append(clock.moment)
    assert server.order == paths
    # the first request goes at once; a pause fills up to 50 ms, and none follows a long enough gap
    assert clock.pauses == pytest.approx([0.05, 0.02])
    assert min(later - earlier for earlier, later in pairwise(sent)) == pytest.approx(0.05)


# Harvesting is safe to schedule: only named hosts, no private addresses unless named, bounded size.


def test_by_default_only_a_public_first_host_is_harvested(server):
    """An operator who names no hosts gets the first URL's, and a loopback one is refused, saying why."""
    drafts, problems = split(read(server.url("/doc/conceptsnapshot?pageNumber=0")))
    assert drafts == []
    (problem,) = problems
    assert (
        "refused: 127.0.0.1: private or loopback (127.0.0.1); name it in LOKET_HARVEST_HOSTS"
        in problem.message
    )
    assert server.requests == Counter(), "nothing was asked of it"


def test_a_redirect_or_next_page_to_another_host_is_refused(server):
    port = server.base.rsplit(":", 1)[1]
    only_this_port = HarvestPolicy(hosts=(f"127.0.0.1:{port}",))
    _, (problem,) = split(read(server.url("/away"), fetcher=fast_fetcher(policy=only_this_port, retries=0)))
    assert (
        "refused: 127.0.0.1:1: not a host this harvest may fetch from (LOKET_HARVEST_HOSTS)"
        in problem.message
    )
    with pytest.raises(Refused, match="only http and https"):
        only_this_port.check("file:///etc/passwd")


def test_a_50_mb_body_is_refused_without_being_read_whole(server):
    _, (problem,) = split(read(server.url("/huge"), fetcher=fast_fetcher(retries=0)))
    assert problem.message.endswith(f"more than the {LOCAL.max_bytes:,} bytes allowed")
    assert LOCAL.max_bytes < HUGE_MB * 1024 * 1024


def test_the_settings_name_the_hosts_and_the_size():
    policy = Settings(
        harvest_hosts="ipdc.vlaanderen.be, 10.1.2.3:8080", harvest_max_mb=5, _env_file=None
    ).harvest
    assert policy.hosts == ("ipdc.vlaanderen.be", "10.1.2.3:8080") and policy.named
    assert policy.max_bytes == 5 * 1024 * 1024
    policy.check("https://ipdc.vlaanderen.be/doc/conceptsnapshot")
    policy.check("http://10.1.2.3:8080/magda")  # named, so the private address is meant
    with pytest.raises(Refused, match=r"10\.1\.2\.3:8081: not a host"):
        policy.check("http://10.1.2.3:8081/magda")
