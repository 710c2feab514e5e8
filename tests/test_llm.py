"""The LLM composer and rewriter against a real OpenAI-compatible server: llama.cpp's, with Gemma 3 270M.

The model is small and not instruction-tuned: it echoes its sources, rambles and invents. The tests
hold the plumbing to account, not the model: the client streams and counts tokens, retries and then
says clearly what failed, the pipeline traces each call, an answer reaches the citizen only when every
sentence is supported by a cited source, and no personal identifier is ever sent to the model.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from loket.assistant.compose import source_text
from loket.assistant.grounding import check, sentences
from loket.assistant.llm import ChatClient, LLMComposer, LLMError, LLMJudge, LLMRewriter, usable_rewrite
from loket.assistant.rewrite import standalone as rule_standalone
from loket.assistant.schemas import Status
from loket.assistant.stages import Compose, JudgeAnswerability, OutputChecks
from loket.config import Settings
from loket.services import Services
from tests.conftest import VAC
from tests.llm import MODEL_ALIAS, ServerFailed, running_server, stage_turn

BZK = VAC / "rijksoverheid_vacs_bzk.csv"
# The machine may be busy with other work; a slow answer is no failure here, a missing one is.
TIMEOUT = 600.0
MAX_TOKENS = 80
PRICES = {"llm_cost_prompt": 0.5, "llm_cost_completion": 1.5}
PASSPORT_HOW = "Hoe vraag ik een paspoort aan?"
PASSPORT_NUMBER = "Bevat mijn paspoortnummer het cijfer 0 of de letter O?"
# Valid identifiers (python-stdnum checks them in test_assistant_pipeline.py), in their usual spellings.
NATIONAL_NUMBER = "85.07.30-033.28"
EMAIL = "jan.peeters@example.be"
IDENTIFIERS = (NATIONAL_NUMBER, "85073003328", EMAIL, "jan.peeters")


def _closed_port() -> int:
    """A port nothing listens on: bound once to get it, then closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _load_vac(services: Services) -> Services:
    report = services.catalog.ingest_location(str(BZK))
    assert report.created == 175
    services.search.sync()  # what the job a catalogue change queues does
    return services


def _item_texts(services: Services) -> dict[str, str]:
    return {
        item.url: "\n".join([item.title, item.summary, *(f"{s.heading}\n{s.text}" for s in item.sections)])
        for item in services.catalog.active_items()
    }


def _compose_step(services: Services, conversation_id: str) -> dict:
    (message, *_) = reversed(services.assistant.conversation(conversation_id).messages)
    return next(step for step in message.trace if step["stage"] == "compose")


@pytest.fixture(autouse=True)
def _server_alive(llm_server) -> Iterator[None]:
    """A test the server died in fails naming how it died; so do the tests after it, at once."""
    llm_server.alive_or_fail()
    yield
    llm_server.alive_or_fail()


@pytest.fixture
def llm_url(llm_server) -> str:
    """Where loket sends its LLM requests; the class that records them puts its proxy here."""
    return llm_server.base_url


@pytest.fixture
def settings(database_url, tmp_path, llm_url) -> Settings:
    """This module's loket talks to the real LLM server (the conftest's `services`, `client` use it)."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        llm_base_url=llm_url,
        llm_model=MODEL_ALIAS,
        llm_timeout=TIMEOUT,
        llm_max_tokens=MAX_TOKENS,
        **PRICES,
        _env_file=None,
    )


@pytest.fixture
def chat(llm_server) -> Iterator[ChatClient]:
    client = ChatClient(llm_server.base_url, MODEL_ALIAS, timeout=TIMEOUT, retries=0)
    yield client
    client.close()


# --- the client ---------------------------------------------------------------------------------


class RecordingProxy(ThreadingHTTPServer):
    """A real HTTP server between loket and the LLM server: forwards every request, keeps each body."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = upstream.removesuffix("/v1")
        self.bodies: list[bytes] = []
        self.replies: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def requests(self) -> list[dict]:
        return [json.loads(body) for body in self.bodies if body]


class _Forward(BaseHTTPRequestHandler):
    server: RecordingProxy

    def do_GET(self) -> None:
        self._forward(b"")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.bodies.append(body)
        self._forward(body)

    def _forward(self, body: bytes) -> None:
        headers = {"Content-Type": self.headers.get("Content-Type") or "application/json"}
        reply = httpx.request(
            self.command, self.server.upstream + self.path, content=body, headers=headers, timeout=TIMEOUT
        )
        self.server.replies.append(reply.content)
        self.send_response(reply.status_code)
        self.send_header("Content-Type", reply.headers.get("content-type", "application/json"))
        self.send_header("Content-Length", str(len(reply.content)))
        self.end_headers()
        self.wfile.write(reply.content)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recording_proxy(llm_server) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(llm_server.base_url)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()


def test_the_client_streams_a_completion_and_records_its_token_usage(recording_proxy):
    chat = ChatClient(recording_proxy.url, MODEL_ALIAS, timeout=TIMEOUT, retries=0)
    messages = [{"role": "user", "content": "Schrijf één korte zin over Den Haag."}]
    first = chat.complete(messages, max_tokens=12)
    second = chat.complete(messages, max_tokens=12)
    chat.close()
    for completion in (first, second):
        assert completion.text.strip()
        assert completion.prompt_tokens and completion.prompt_tokens > 5
        assert completion.completion_tokens and 1 <= completion.completion_tokens <= 12
        assert completion.ms > 0 and completion.attempts == 1
    sent = recording_proxy.requests()
    assert sent[0]["stream"] is True and sent[0]["stream_options"] == {"include_usage": True}
    streamed = [line for line in recording_proxy.replies[0].decode().splitlines() if line.startswith("data:")]
    assert streamed[-1] == "data: [DONE]" and any('"content"' in line for line in streamed)
    assert all(body["model"] == MODEL_ALIAS and body["messages"] == messages for body in sent)
    if chat.stream:  # the server counted tokens in the stream: one request per completion
        assert len(sent) == 2
    else:  # it did not (llama-cpp-python does not): that question again whole, then only whole ones
        assert [body.get("stream", False) for body in sent] == [True, False, False]


def test_the_client_retries_then_says_what_failed_when_the_endpoint_is_down():
    chat = ChatClient(f"http://127.0.0.1:{_closed_port()}/v1", MODEL_ALIAS, timeout=5, retries=2)
    with pytest.raises(LLMError, match=r"^ConnectError after 3 attempt\(s\)$"):
        chat.complete([{"role": "user", "content": "Hallo"}])
    chat.close()


def test_the_pipeline_answers_extractively_when_the_endpoint_is_down(database_url, tmp_path):
    down = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        llm_base_url=f"http://127.0.0.1:{_closed_port()}/v1",
        llm_timeout=5,
        llm_retries=1,
        _env_file=None,
    )
    services = _load_vac(Services.build(down))
    answer = services.assistant.ask(PASSPORT_HOW)
    assert answer.status is Status.ANSWERED and answer.answer and answer.citations
    step = _compose_step(services, answer.conversation_id)
    assert step["outcome"] == "extractive after llm error"
    assert step["details"] == {"error": "ConnectError after 2 attempt(s)"}
    services.db.dispose()


def test_a_server_that_dies_mid_answer_is_named_as_the_cause(llm_server, tmp_path):
    """What a crash inside llama.cpp looks like to the suite: SIGSEGV while it streams an answer."""
    question = {"role": "user", "content": PASSPORT_HOW}
    request = {"model": MODEL_ALIAS, "messages": [question], "stream": True}
    with running_server(tmp_path, model=llm_server.model) as doomed:
        url = f"{doomed.base_url}/chat/completions"
        with httpx.stream("POST", url, json=request, timeout=TIMEOUT) as answer:
            assert answer.status_code == 200
            next(answer.iter_lines())
            doomed.process.send_signal(signal.SIGSEGV)
            doomed.process.wait(timeout=30)
        cause = r"THE LLM SERVER DIED \(killed by SIGSEGV: a crash inside llama.cpp"
        with pytest.raises(ServerFailed, match=cause):
            doomed.check_alive()


# --- the pipeline -------------------------------------------------------------------------------


def test_the_pipeline_answers_a_vac_question_with_the_real_model(services):
    _load_vac(services)
    answer = services.assistant.ask(PASSPORT_NUMBER)
    assert answer.status is Status.ANSWERED
    texts = _item_texts(services)
    urls = [citation.url for citation in answer.citations]
    assert urls and set(urls) <= set(texts), "every citation is a real catalogue item"
    grounding = check(answer.answer, [texts[url] for url in urls], "nl")
    assert grounding.grounded, [s for s in grounding.sentences if not s.supported]

    (message,) = services.assistant.conversation(answer.conversation_id).messages
    steps = {step["stage"]: step for step in message.trace}
    compose = steps["compose"]
    assert compose["outcome"] == "llm"
    details = compose["details"]
    assert details["model"] == MODEL_ALIAS and details["attempts"] == 1
    assert details["prompt_tokens"] > 100 and 1 <= details["completion_tokens"] <= MAX_TOKENS
    expected_cost = (
        details["prompt_tokens"] / 1000 * PRICES["llm_cost_prompt"]
        + details["completion_tokens"] / 1000 * PRICES["llm_cost_completion"]
    )
    assert details["cost"] == pytest.approx(expected_cost, abs=1e-6) and details["cost"] > 0
    assert 0 < details["llm_ms"] <= compose["ms"] + 1
    # What the model wrote is shown only if every sentence of it is supported; else the quote is.
    assert steps["output_checks"]["outcome"] in {"grounded", "extractive after ungrounded answer"}
    assert "[1]" not in answer.answer and not answer.answer.startswith("Sources:"), answer.answer


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the model sees no database
def test_an_answer_the_real_model_invents_is_caught_by_the_output_checks(services, chat):
    """A short page about passport numbers, and questions it does not answer: the model writes its own.

    (Given long sources, this model mostly echoes them; given a short one, it invents years and facts.)
    """
    _load_vac(services)
    hits = [hit for hit in services.search.search(PASSPORT_NUMBER) if hit.confident][:1]
    assert hits and hits[0].item.title.startswith("Bevat mijn paspoortnummer")
    composer = LLMComposer(chat, max_tokens=60)
    caught = []
    for question in (
        "Hoeveel kost een paspoort in 2031?",
        "Schrijf een kort gedicht over de zee.",
        "Wie won het WK voetbal in 2010?",
    ):
        turn = stage_turn(question, hits, Status.UNANSWERABLE)
        Compose(composer).run(turn)
        if turn.stopped:
            continue  # the model said the sources do not answer: nothing invented
        assert turn.composition.by == "llm"
        written = turn.composition.text
        invented = check(written, [source_text(hit) for hit in turn.composition.cited], "nl")
        if not written or invented.grounded:
            continue  # nothing to catch in this one
        outcome, details = OutputChecks().run(turn)
        assert outcome == "extractive after ungrounded answer", outcome
        assert turn.answer.status is Status.ANSWERED and turn.answer.answer != written
        assert details["unsupported"] == invented.unsupported > 0
        quoted = check(turn.answer.answer, [source_text(hit) for hit in turn.composition.cited], "nl")
        assert quoted.grounded
        caught.append(written)
        break
    assert caught, "the model wrote nothing unsupported for any of the questions"


# --- no personal data to the model -----------------------------------------------------------------


class TestNoPersonalIdentifierReachesTheModel:
    @pytest.fixture
    def llm_url(self, recording_proxy) -> str:
        return recording_proxy.url

    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the model sees no database
    def test_through_the_api_in_a_conversation_with_follow_ups(self, client, recording_proxy):
        _load_vac(client.app.state.services)

        def ask(question: str, conversation_id: str | None = None) -> dict:
            body = {"question": question, "conversation_id": conversation_id}
            response = client.post("/api/v1/ask", json=body)
            assert response.status_code == 200
            return response.json()

        first = ask(f"Mijn e-mailadres is {EMAIL}. Hoe vraag ik een paspoort aan?")
        assert first["status"] == "refused_personal_data"
        conversation = ask(PASSPORT_HOW, first["conversation_id"])
        assert conversation["status"] == "answered"
        said = [
            ask(f"Mijn rijksregisternummer is {NATIONAL_NUMBER}, wat kost dat?", first["conversation_id"]),
            ask("En voor mijn kind? Het rijksregisternummer is 85073003328.", first["conversation_id"]),
            ask(f"en voor mijn kind? mail het naar {EMAIL}", first["conversation_id"]),
        ]
        assert [answer["status"] for answer in said] == ["refused_personal_data"] * 3
        follow_up = ask("en voor mijn kind?", first["conversation_id"])
        assert follow_up["status"] == "answered"

        sent = recording_proxy.requests()
        prompts = ["\n".join(m["content"] for m in body["messages"]) for body in sent]
        assert any("Question: Hoe vraag ik een paspoort aan?" in p for p in prompts), "the model was asked"
        assert any(p.startswith("Rewrite the follow-up") for p in prompts), "the rewriter was asked"
        raw = b"\n".join(recording_proxy.bodies).decode()
        for identifier in IDENTIFIERS:
            assert identifier not in raw
            assert not any(identifier in p for p in prompts)
        stored = client.get(f"/api/v1/conversations/{first['conversation_id']}").json()
        assert not any(identifier in json.dumps(stored) for identifier in IDENTIFIERS)


# --- the rewriter ---------------------------------------------------------------------------------


def test_the_rewriter_returns_one_standalone_question_or_leaves_it_to_the_rules(chat):
    """Whatever the model writes, only one question on one line is used as the standalone question."""
    completions = []
    complete = chat.complete

    def recorded(*args, **kwargs):
        completions.append(complete(*args, **kwargs))
        return completions[-1]

    chat.complete = recorded
    rewritten = LLMRewriter(chat).rewrite("en voor mijn kind?", [PASSPORT_HOW])
    (completion,) = completions
    assert completion.text.strip(), "the model answered"
    assert rewritten == usable_rewrite(completion)
    if rewritten is not None:
        assert "\n" not in rewritten and len(sentences(rewritten)) <= 2


def test_a_follow_up_gets_a_usable_standalone_question_in_the_pipeline(services):
    _load_vac(services)
    first = services.assistant.ask(PASSPORT_HOW)
    follow_up = services.assistant.ask("en voor mijn kind?", conversation_id=first.conversation_id)
    assert follow_up.status is Status.ANSWERED
    (_, message) = services.assistant.conversation(first.conversation_id).messages
    rewrite = next(step for step in message.trace if step["stage"] == "rewrite")
    by_rules = rule_standalone("en voor mijn kind?", [PASSPORT_HOW])
    if rewrite["outcome"] == "rewritten by rules":  # the model's rewrite was unusable
        assert message.standalone == by_rules
    else:
        assert rewrite["outcome"] == "rewritten by llm"
        assert message.standalone != by_rules and "\n" not in message.standalone


# --- re-ranking ----------------------------------------------------------------------------------


def _reranking(settings: Settings, llm_url: str, **overrides) -> Services:
    """loket with the LLM re-ranker on, over the same database (load the content with another)."""
    changes = {"reranker": "llm", "llm_base_url": llm_url, **overrides}
    return Services.build(Settings(_env_file=None, **(settings.model_dump() | changes)))


def test_the_llm_reranker_reorders_the_first_hits_and_nothing_else(settings, llm_url):
    plain = _load_vac(Services.build(settings))
    reranked = _reranking(settings, llm_url)
    query = "Hoe vraag ik een paspoort aan?"
    before = plain.search.search(query, limit=10)
    after = reranked.search.search(query, limit=10)
    depth = reranked.search.rerank_depth
    assert {hit.item.id for hit in after[:depth]} == {hit.item.id for hit in before[:depth]}
    assert [hit.item.id for hit in after[depth:]] == [hit.item.id for hit in before[depth:]]
    confident = {hit.item.id: hit.confident for hit in before}
    assert all(hit.confident == confident[hit.item.id] for hit in after)  # never made more certain
    one = reranked.search.search(query, limit=1)
    assert one[0].item.id == after[0].item.id  # a short list is cut after re-ranking, not before
    plain.db.dispose()
    reranked.db.dispose()


def test_the_reranker_keeps_the_fused_order_when_the_endpoint_is_down(settings):
    plain = _load_vac(Services.build(settings))
    down = _reranking(settings, f"http://127.0.0.1:{_closed_port()}/v1", llm_retries=0, llm_timeout=5)
    query = "Hoe vraag ik een paspoort aan?"
    assert [h.item.id for h in down.search.search(query)] == [h.item.id for h in plain.search.search(query)]
    plain.db.dispose()
    down.db.dispose()


def test_no_identifier_in_a_search_query_reaches_the_reranking_model(settings, recording_proxy):
    _load_vac(Services.build(settings)).db.dispose()
    services = _reranking(settings, recording_proxy.url)
    services.search.search(f"paspoort verloren, mijn rijksregisternummer is {NATIONAL_NUMBER} en {EMAIL}")
    prompts = json.dumps(recording_proxy.requests(), ensure_ascii=False)
    assert "paspoort verloren" in prompts
    assert not any(identifier in prompts for identifier in IDENTIFIERS)
    services.db.dispose()


def test_a_judge_the_server_gives_no_log_probabilities_lets_the_answer_go_on(services, chat):
    """This server runs with `--logits_all False`, as llama.cpp's does by default: the judge cannot
    weigh, so it says so, and the answer is decided as it would be without a judge."""
    with pytest.raises(LLMError, match=r"^HTTP 500 after 1 attempt\(s\)$"):
        chat.yes_probability([{"role": "user", "content": "Is Amsterdam een stad? Antwoord JA of NEE."}])
    _load_vac(services)
    hits = services.search.search(PASSPORT_HOW)[:1]
    asked = stage_turn(PASSPORT_HOW, hits)
    outcome, details = JudgeAnswerability(LLMJudge(chat), 0.5).run(asked)
    assert outcome == "judge failed" and details["error"] == "HTTP 500 after 1 attempt(s)"
    assert not asked.stopped and asked.answer.status is Status.ANSWERED
