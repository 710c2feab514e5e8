"""The operators' Grafana dashboard (`deploy/grafana/loket.json`) reads only metrics that `/metrics`
exposes, so it cannot drift from the code; and the assistant's figures count what happened, by labels
with bounded values. The database plays no part: SQLite only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from loket.assistant.observers import Answered
from loket.web.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "loket.json"
QUESTION = "Hoe vraag ik een eID aan?"
TOKEN = "Loket-Conversation-Token"
# What PromQL writes that is not a metric: keywords, and the label lists of aggregations and matching.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless"}
KEYWORDS |= {"offset", "inf", "nan"}

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def expressions(dashboard: dict) -> list[str]:
    """Every query of every panel, rows' folded panels included."""
    found = []
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            found += [target["expr"] for target in inner.get("targets", [])]
    return found


def metric_names(expr: str) -> set[str]:
    """The series a PromQL expression selects, as written (`..._total`, `..._bucket`): whatever is
    an identifier once strings, label matchers, ranges, label lists and numbers are gone, and is
    neither a keyword nor called as a function."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"(?<![\w:])[0-9][\w.]*", "", expr)  # numbers and durations: 0.95, 1e3, 1d
    return {
        name
        for name, call in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", expr)
        if not call and name.lower() not in KEYWORDS
    }


def samples(client: TestClient) -> dict[str, list]:
    """What `/metrics` exposes, by sample name: `_total`, `_bucket`, `_sum`, `_count` and `_created`
    as Prometheus stores them, so a dashboard's name is found only if it is one Prometheus would have."""
    response = client.get("/metrics")
    assert response.status_code == 200
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


@pytest.fixture
def demo(demo_app: TestClient) -> TestClient:
    """The demo, its catalogue indexed (what the job a catalogue change queues does)."""
    demo_app.app.state.services.search.sync()
    return demo_app


def value(client: TestClient, name: str, **labels: str) -> float:
    return sum(s.value for s in samples(client).get(name, []) if s.labels == labels)


def ask(client: TestClient, question: str = QUESTION, **more) -> dict:
    response = client.post("/api/v1/ask", json={"question": question, **more})
    assert response.status_code == 200, response.text
    return response.json()


def test_names_are_read_from_promql_as_written():
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(loket_x_bucket{route!~"a|b"}[$__rate_interval])))'
        " / on (route) group_left sum(increase(loket_y_total[1h] offset 1d)) * 60 > bool 0"
    )
    assert metric_names(expr) == {"loket_x_bucket", "loket_y_total"}


@sqlite_only
def test_every_metric_the_dashboard_uses_is_exposed(demo):
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 39
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    answer = ask(demo)
    ask(demo, "Wie wint het WK voetbal?", channel="widget")
    holder = {TOKEN: answer["conversation_token"]}
    rating = {"message_id": answer["message_id"], "rating": "down", "reason": "te kort"}
    assert demo.post("/api/v1/feedback", json=rating, headers=holder).status_code == 204
    held = {"conversation_id": answer["conversation_id"]}
    asked = demo.post("/api/v1/handoff", json=held, headers=holder)
    assert asked.status_code == 200, asked.text

    used = {name for expr in expressions(dashboard) for name in metric_names(expr)}
    exposed = samples(demo)
    assert len(used) >= 10
    assert used <= set(exposed), f"the dashboard reads what /metrics does not expose: {used - set(exposed)}"
    assert {"loket_answers_total", "loket_answer_stage_duration_seconds_bucket"} <= used
    assert value(demo, "loket_feedback_total", rating="down") == 1
    assert sum(s.value for s in exposed["loket_handoffs_requested_total"]) == 1
    # No label holds text or ids: every value of every assistant label is from a short fixed list.
    for name in ("loket_answers_total", "loket_answer_stage_duration_seconds_bucket"):
        for sample in exposed[name]:
            assert all(len(v) <= 32 and re.fullmatch(r"[a-z_+.0-9Inf]+", v) for v in sample.labels.values())


@sqlite_only
def test_an_answer_is_counted_by_status_route_channel_language_and_traffic(demo):
    people = {"route": "information", "channel": "web", "language": "nl", "traffic": "people"}
    ask(demo, channel="web")
    assert value(demo, "loket_answers_total", status="answered", **people) == 1
    ask(demo, channel="web", test=True)
    assert value(demo, "loket_answers_total", status="answered", **(people | {"traffic": "test"})) == 1
    demo.cookies.clear()
    assert demo.post("/auth/demo-login", json={"person": "lotte-maes"}).status_code == 200
    ask(demo, channel="web")  # Lotte Maes is staff
    assert value(demo, "loket_answers_total", status="answered", **(people | {"traffic": "staff"})) == 1
    assert value(demo, "loket_answers_total", status="answered", **people) == 1  # not moved
    assert value(demo, "loket_answer_stage_duration_seconds_count", stage="retrieve") == 3


class NoJobs:
    def figures(self):
        return {}, None


def test_llm_figures_and_unknown_values_become_bounded_labels():
    metrics = Metrics(NoJobs())
    stages = {"compose": 1.2, "retrieve": 0.004}
    metrics.answered(
        Answered("answered", "information", "kiosk", "es", False, False, stages, 800, 60, 0.0021)
    )
    metrics.answered(Answered("error", None, "api", "fr", True, False))
    metrics.rated("up")
    metrics.handoff_requested("queued")
    registry = metrics.registry
    assert registry.get_sample_value("loket_llm_tokens_total", {"kind": "prompt"}) == 800
    assert registry.get_sample_value("loket_llm_tokens_total", {"kind": "completion"}) == 60
    assert registry.get_sample_value("loket_llm_cost_total") == pytest.approx(0.0021)
    labels = {"status": "answered", "route": "information", "channel": "other", "language": "other"}
    assert registry.get_sample_value("loket_answers_total", labels | {"traffic": "people"}) == 1
    labels = {"status": "error", "route": "none", "channel": "api", "language": "fr", "traffic": "staff"}
    assert registry.get_sample_value("loket_answers_total", labels) == 1
    assert (
        registry.get_sample_value(
            "loket_answer_stage_duration_seconds_bucket", {"stage": "compose", "le": "1.0"}
        )
        == 0
    )
    assert (
        registry.get_sample_value(
            "loket_answer_stage_duration_seconds_bucket", {"stage": "compose", "le": "2.5"}
        )
        == 1
    )
    assert registry.get_sample_value("loket_feedback_total", {"rating": "up"}) == 1
    assert registry.get_sample_value("loket_feedback_total", {"rating": "down"}) == 0
    assert registry.get_sample_value("loket_handoffs_requested_total", {"outcome": "queued"}) == 1


@sqlite_only
def test_a_failing_observer_does_not_fail_the_answer(services):
    class Broken:
        def answered(self, answer):
            raise RuntimeError("no figures today")

    services.assistant.conversations.observers.append(Broken())
    assert services.assistant.ask("Wie wint het WK voetbal?").status.value == "out_of_scope"
