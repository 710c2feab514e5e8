"""The LLM composer, rewriter, re-ranker and answerability judge, for any OpenAI-compatible chat
endpoint (`LOKET_LLM_*`).

The model sees the sources as numbered context and is asked to cite them as [1], [2]. What it writes
is not trusted: citations are mapped back to the sources it was given and unknown ones dropped, links
that are not a source's are removed, and the pipeline's groundedness check decides whether the text
is shown or the extractive answer is. Personal identifiers never get here: questions that carry them
stop in the input checks, and the conversation history is stored redacted.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from loket.assistant.compose import MAX_CITATIONS, Composition, answer_order, source_text
from loket.assistant.grounding import sentences
from loket.logging import get_logger
from loket.personal_data import redacted
from loket.search.analysis import primary_language
from loket.search.rerank import passage, reorder
from loket.search.schemas import SearchHit

log = get_logger(__name__)
T = TypeVar("T")
DECLINE = "NOT_IN_SOURCES"
MAX_SOURCES = 3
MAX_SOURCE_WORDS = 250
LANGUAGE_NAMES = {
    "nl": "Dutch",
    "fr": "French",
    "en": "English",
    "de": "German",
    "tr": "Turkish",
    "pl": "Polish",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ar": "Arabic",
    "ru": "Russian",
    "uk": "Ukrainian",
}
_MARKER = re.compile(r"\s*\[(\d+)\]")
_LINK = re.compile(r"\[([^\]]+)\]\((\S+?)\)|(https?://\S+)")
_MARKDOWN = re.compile(r"(\*\*|__|^#+\s*|^\s*[-*]\s+)", re.MULTILINE)
# The prompt's own labels, which a small model echoes ("Sources: ..."); never part of an answer.
_LABEL = re.compile(r"(?<!\S)(?:Sources|Question|Answer):\s*")
_SCAFFOLDING = re.compile(r"^\s*[-*]\s|follow-up:|earlier questions|rewritten question", re.IGNORECASE)
_UP_TO_LAST_SENTENCE_END = re.compile(r".*[.!?…][\"'’”)]*(?=\s|$)", re.DOTALL)


class LLMError(Exception):
    """The endpoint failed after its retries; the pipeline falls back to the extractive answer."""


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    ms: float
    attempts: int
    truncated: bool = False  # stopped at max_tokens: the last sentence may be cut off


class ChatClient:
    """Streams a chat completion, with a timeout per request and retries on failures worth retrying.

    Token counts come with the stream where the server sends them (`stream_options.include_usage`).
    A server that does not (llama-cpp-python's) is asked that question again without streaming, which
    every OpenAI-compatible server answers with its usage, and so are all later questions: one request
    is spent once per client, and every answer's trace has its real token counts and cost.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 1,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model = model
        self.retries = retries
        self.stream = True  # until a stream comes without token counts
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def complete(self, messages: list[dict], max_tokens: int = 300) -> Completion:
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": 0,
        }
        started = time.perf_counter()
        (text, usage, finish), attempts = self._retried(lambda: self._ask(body))
        ms = round((time.perf_counter() - started) * 1000, 1)
        return Completion(
            text,
            usage.get("prompt_tokens"),
            usage.get("completion_tokens"),
            ms,
            attempts,
            truncated=finish == "length",
        )

    def _retried(self, request: Callable[[], T]) -> tuple[T, int]:
        """The request's result and the attempts it took; LLMError once the retries are spent."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return request(), attempt
            except (httpx.TransportError, _Retryable) as error:
                log.warning("llm.retry", attempt=attempt, error=type(error).__name__)
                if attempt > self.retries:
                    failure = str(error) if isinstance(error, _Retryable) else type(error).__name__
                    raise LLMError(f"{failure} after {attempt} attempt(s)") from error
                time.sleep(0.5 * attempt)

    def _ask(self, body: dict) -> tuple[str, dict, str | None]:
        if self.stream:
            text, usage, finish = self._stream(body)
            if usage:
                return text, usage, finish
            log.warning("llm.no_usage_in_stream", model=self.model)  # ask it whole from now on
            self.stream = False
        return self._whole(body)

    def _stream(self, body: dict) -> tuple[str, dict, str | None]:
        parts: list[str] = []
        usage: dict = {}
        finish = None
        body = {**body, "stream": True, "stream_options": {"include_usage": True}}
        with self.http.stream("POST", "/chat/completions", json=body) as response:
            _check_status(response)
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line.removeprefix("data:").strip()
                if data == "[DONE]":
                    break
                chunk = _json(data)
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    parts.append((choice.get("delta") or {}).get("content") or "")
                    finish = choice.get("finish_reason") or finish
        return "".join(parts), usage, finish

    def _whole(self, body: dict) -> tuple[str, dict, str | None]:
        reply = self._reply(body)
        choice = (reply.get("choices") or [{}])[0]
        text = (choice.get("message") or {}).get("content") or ""
        return text, reply.get("usage") or {}, choice.get("finish_reason")

    def yes_probability(self, messages: list[dict]) -> float:
        """How likely the model's one-word reply is yes rather than no (from its log-probabilities), for
        judgements with a threshold. llama.cpp's server gives them only with `--logits_all True`."""
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": 1,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": 10,
        }

        reply, _ = self._retried(lambda: self._reply(body))
        choice = (reply.get("choices") or [{}])[0]
        try:
            candidates = choice["logprobs"]["content"][0]["top_logprobs"]
            probability = {
                answer: sum(math.exp(c["logprob"]) for c in candidates if _word(c["token"]) in tokens)
                for answer, tokens in _YES_NO.items()
            }
        except (KeyError, IndexError, TypeError) as error:
            raise LLMError("the endpoint sent no log-probabilities") from error
        if not sum(probability.values()):
            raise LLMError("the model answered neither yes nor no")
        return probability[True] / sum(probability.values())

    def _reply(self, body: dict) -> dict:
        """One request, not streamed: the whole reply."""
        response = self.http.post("/chat/completions", json=body)
        _check_status(response)
        return _json(response.text)

    def close(self) -> None:
        self.http.close()


class _Retryable(Exception):
    pass


# First tokens of a yes or a no, as tokenisers cut them ("NE" of "NEE", "Y" of "YES").
_YES_NO = {True: {"yes", "y", "ja", "j", "oui", "ou"}, False: {"no", "n", "nee", "ne", "non"}}


def _word(token: str) -> str:
    return token.strip().lower()


def _check_status(response: httpx.Response) -> None:
    if response.status_code == 429 or response.status_code >= 500:
        raise _Retryable(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        raise LLMError(f"HTTP {response.status_code}")


def _json(data: str) -> dict:
    try:
        value = json.loads(data)
    except ValueError as error:
        raise LLMError("the endpoint sent something that is not JSON") from error
    if not isinstance(value, dict):
        raise LLMError("the endpoint sent JSON that is not an object")
    if "error" in value:  # some servers report a failure mid-stream as a data line
        raise _Retryable("error in the response")
    return value


class LLMComposer:
    name = "llm"

    def __init__(
        self,
        client: ChatClient,
        max_tokens: int = 300,
        cost_per_1k_prompt: float = 0.0,
        cost_per_1k_completion: float = 0.0,
    ) -> None:
        self.client = client
        self.max_tokens = max_tokens
        self.prices = (cost_per_1k_prompt, cost_per_1k_completion)

    def compose(self, question: str, hits: list[SearchHit], language: str | None) -> Composition:
        sources = answer_order(hits, language)[:MAX_SOURCES]
        answer_language = primary_language(sources[0].item.language)
        completion = self.client.complete(prompt(question, sources, answer_language), self.max_tokens)
        text, cited, removed = _clean(completion.text, sources)
        if completion.truncated:  # the last sentence ran into max_tokens: show none of it
            text = whole_sentences(text)
        details = {
            "model": self.client.model,
            "llm_ms": completion.ms,
            "attempts": completion.attempts,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "cost": self._cost(completion),
            "removed": removed,
            "truncated": completion.truncated,
        }
        # Nothing usable left is no decline: the output checks then fall back to the extractive answer.
        declined = DECLINE in completion.text
        cited = (cited or sources)[:MAX_CITATIONS]
        return Composition(text, cited, by=self.name, declined=declined, details=details)

    def _cost(self, completion: Completion) -> float | None:
        if completion.prompt_tokens is None or completion.completion_tokens is None:
            return None
        prompt_price, completion_price = self.prices
        return round(
            completion.prompt_tokens / 1000 * prompt_price
            + completion.completion_tokens / 1000 * completion_price,
            6,
        )


def prompt(question: str, sources: list[SearchHit], language: str) -> list[dict]:
    numbered = "\n\n".join(
        f"[{n}] {' '.join(source_text(hit).split()[:MAX_SOURCE_WORDS])}"
        for n, hit in enumerate(sources, start=1)
    )
    system = (
        "You are the digital assistant of a government. Answer the question using only the numbered "
        f"sources. Write at most three short, plain sentences in {LANGUAGE_NAMES.get(language, 'Dutch')}. "
        "End each sentence with the number of its source, like [1]. Do not add facts, numbers or links "
        f"that are not in the sources. If the sources do not answer the question, reply only {DECLINE}."
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Sources:\n\n{numbered}\n\nQuestion: {question}"},
    ]


def _clean(text: str, sources: list[SearchHit]) -> tuple[str, list[SearchHit], int]:
    """The answer without markers, labels, markdown or foreign links; the sources it cited; how much was
    removed."""
    removed = 0
    cited: list[SearchHit] = []
    for number in (int(n) for n in _MARKER.findall(text)):
        if 1 <= number <= len(sources):
            if sources[number - 1] not in cited:
                cited.append(sources[number - 1])
        else:
            removed += 1
    known = {hit.item.url for hit in sources}

    def link(match: re.Match[str]) -> str:
        nonlocal removed
        label, url, bare = match.groups()
        if (url or bare or "").split("#")[0].rstrip(".,)") in known:
            return label or bare
        removed += 1
        return label or ""

    text = _LINK.sub(link, text.replace(DECLINE, ""))
    text = _MARKDOWN.sub("", _MARKER.sub("", _LABEL.sub("", text)))
    return " ".join(text.split()), cited, removed


def whole_sentences(text: str) -> str:
    """`text` up to its last sentence end: what is left when a cut-off tail is dropped."""
    match = _UP_TO_LAST_SENTENCE_END.match(text)
    return match.group(0) if match else ""


class LLMRewriter:
    """Makes a follow-up standalone with the model; the rules' answer is kept when the model's is odd.

    Odd is: cut off at the token limit, several lines or sentences, or the prompt's own scaffolding
    echoed back, as a small or base model does.
    """

    def __init__(self, client: ChatClient) -> None:
        self.client = client

    def rewrite(self, question: str, history: list[str]) -> str | None:
        earlier = "\n".join(f"- {q}" for q in history)
        completion = self.client.complete(
            [
                {
                    "role": "system",
                    "content": "Rewrite the follow-up question so that it can be understood without the "
                    "earlier questions. Keep its language. Reply with the rewritten question only.",
                },
                {"role": "user", "content": f"Earlier questions:\n{earlier}\n\nFollow-up: {question}"},
            ],
            max_tokens=60,
        )
        rewritten = usable_rewrite(completion)
        if rewritten is None:
            log.info("llm.rewrite_unusable", truncated=completion.truncated, characters=len(completion.text))
        return rewritten


class LLMReranker:
    """Re-ranks the first search hits with the model (`LOKET_RERANKER=llm`): it names the pages that
    answer the question, best first. Identifiers are redacted first, since a search query, unlike a
    question to the assistant, is not refused for carrying them. Any failure keeps the fused order."""

    name = "llm"

    def __init__(self, client: ChatClient) -> None:
        self.client = client

    def rerank(self, query: str, hits: list[SearchHit]) -> list[SearchHit]:
        query = redacted(query)
        pages = "\n".join(f"[{n}] {passage(hit, 300)}" for n, hit in enumerate(hits, 1))
        try:
            completion = self.client.complete(
                [
                    {
                        "role": "system",
                        "content": "You rank government service pages for a citizen's question. Reply only "
                        "with the numbers of the pages that answer it, most useful first, e.g. 3, 1.",
                    },
                    {"role": "user", "content": f"Question: {query}\n\nPages:\n{pages}\n\nNumbers:"},
                ],
                max_tokens=20,
            )
        except LLMError as error:
            log.warning("search.rerank_failed", reranker=self.name, error=str(error)[:100])
            return hits
        return reorder(hits, [int(number) - 1 for number in re.findall(r"\d+", completion.text)])


class LLMJudge:
    """Whether the best page is about what the question asks (`LOKET_ANSWER_JUDGE=llm`): search finds
    the nearest page even when the catalogue has none on the subject, and a neighbour (the passport
    fee for a driving-licence question) scores as high as a match. The model reads only the page's
    title and section heading (short prompts: about 3 s on one CPU thread) and says yes or no; its
    probability of yes is compared with a threshold chosen on the tuning questions."""

    name = "llm"

    def __init__(self, client: ChatClient) -> None:
        self.client = client

    def on_topic(self, question: str, hit: SearchHit) -> float:
        page = f"{hit.item.title}. {hit.section.heading}".strip(". ")
        return self.client.yes_probability(
            [
                {
                    "role": "system",
                    "content": "You check whether a government page is about what a citizen asks. "
                    "Reply with YES or NO only.",
                },
                {
                    "role": "user",
                    "content": f"Page: {page}\n\nQuestion: {redacted(question)}\n\n"
                    "Is the page about the thing the question asks about? Reply YES or NO.",
                },
            ]
        )


def usable_rewrite(completion: Completion) -> str | None:
    """The model's rewritten question, or None when it is not one question on one line."""
    lines = [line for line in completion.text.splitlines() if line.strip()]
    if completion.truncated or len(lines) != 1:
        return None
    rewritten = " ".join(lines[0].split()).strip("\"' ")
    if not 3 <= len(rewritten) <= 300 or len(sentences(rewritten)) > 2 or _SCAFFOLDING.search(rewritten):
        return None
    return rewritten
