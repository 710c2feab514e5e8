"""The OpenAI-compatible assistant API (issue 23) with a second real client: the official `openai` npm
package, unchanged, under Node (tests/openai_client.mjs) against loket under uvicorn. What it gets is
compared with what POST /api/v1/ask answers to the same question. SQLite only: the database plays no
part here.

`make test` runs npm ci, which installs openai. Without Node or it, these tests fail under CI=true and
are skipped loudly elsewhere, as the browser and login tests are.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.test_openai_api import ABUSE, QUESTION
from tests.web_support import ROOT, demo_settings, live_server, require_node_package

PROGRAM = ROOT / "tests" / "openai_client.mjs"
PACKAGE = "openai"
VERSION = "6.49.0"  # as pinned in package.json
TIMEOUT = 120  # seconds for the whole program; it takes about one


@pytest.fixture(scope="module")
def served(sqlite_template, tmp_path_factory) -> Iterator[tuple[str, FastAPI]]:
    require_node_package(PACKAGE, VERSION, "OpenAI Node client")
    with live_server(demo_settings(sqlite_template, tmp_path_factory.mktemp("openai-node"))) as served:
        yield served


@pytest.fixture(scope="module")
def server(served) -> str:
    return served[0]


@pytest.fixture(scope="module")
def node(served) -> dict:
    """What the Node client printed: it asks everything once, for all the tests below, with the tokens
    of two partners: one without the `ask` scope, one whose quota is a single question."""
    url, app = served
    partners = app.state.services.partners
    tokens = {
        "LOKET_UNSCOPED_TOKEN": partners.register("Zoekapp", ["search"], "600/minute"),
        "LOKET_QUOTA_TOKEN": partners.register("Kleine app", ["ask"], "1/minute"),
    }
    environment = os.environ | {
        name: partners.issue(made.client.id, made.secret, None).access_token for name, made in tokens.items()
    }
    command = ["node", str(PROGRAM), f"{url}/v1", QUESTION, ABUSE]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, env=environment)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def ask(server: str, question: str) -> dict:
    """POST /api/v1/ask as test_openai_api.py asks it (no language: the chat completion names none)."""
    response = httpx.post(f"{server}/api/v1/ask", json={"question": question}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_one_model_is_listed(node):
    assert node["models"] == ["loket"]


def test_a_streamed_cited_answer_is_the_answer_of_the_ask_api(node, server):
    asked = ask(server, QUESTION)
    assert asked["status"] == "answered" and asked["citations"], "the demo catalogue answers it"
    streamed = node["streamed"]
    assert streamed["text"] == asked["answer"]
    assert streamed["finish_reason"] == "stop"
    assert streamed["loket"]["status"] == "answered"
    assert streamed["loket"]["citations"] == asked["citations"]
    assert streamed["loket"]["notices"] == asked["notices"]


def test_a_refusal_is_a_completion_with_the_status_of_the_ask_api(node, server):
    asked = ask(server, ABUSE)
    assert asked["status"] == "refused_abuse"
    refusal = node["refusal"]
    assert refusal["loket"]["status"] == asked["status"]
    assert refusal["loket"]["citations"] == []
    assert refusal["text"] == asked["answer"], "the refusal says why, in words"


def test_without_a_user_message_the_client_throws_the_protocols_error(node):
    error = node["error"]
    assert (error["name"], error["status"]) == ("BadRequestError", 400)
    assert "user message" in error["message"]


def test_a_partner_without_the_scope_is_refused_with_403(node):
    assert (node["unscoped"]["name"], node["unscoped"]["status"]) == ("PermissionDeniedError", 403)


def test_past_its_quota_a_partner_gets_429_with_retry_after(node):
    quota = node["quota"]
    assert (quota["name"], quota["status"]) == ("RateLimitError", 429)
    assert int(quota["retryAfter"]) > 0
