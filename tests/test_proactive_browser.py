"""Proactive services in a real browser, as issue 20 is done: a birth registered for An Peeters reaches
her without her asking.

An turns on notifications on her inbox page; the demo's authentic source registers the birth of her
child through the intake `loket events simulate` uses (`ProactiveService.receive`), and the server's
own job worker evaluates it, as `loket serve` does on SQLite. The rules find the Groeipakket for her
(she lives in Gent, as the demo's population register says): loket's inbox message comes with a push
notification, and "For you" shows the offers with why, passing axe; "Not relevant" removes one for good.
"""

from __future__ import annotations

import json
from datetime import timedelta

from babel.dates import format_date
from sqlalchemy import select

from loket import clock
from loket.i18n import message, plain
from loket.messages.models import MessageRow
from loket.messages.service import LOKET
from loket.messages.texts import NOTIFICATION
from loket.proactive.service import DEMO_SENDER, demo_event
from loket.proactive.texts import OFFER_SUBJECT
from tests.test_messages_browser import AN_NUMBER, EN, an_where_notifications_work, push, server  # noqa: F401
from tests.test_web_browser import AXE, WAIT, WATCH_CSP, _expect, assert_accessible, chromium  # noqa: F401


def test_a_birth_brings_the_groeipakket_to_the_inbox_and_for_you(server, push, chromium):  # noqa: F811
    url, app = server
    services = app.state.services
    services.proactive.load_demo()  # An's address, as `loket serve` seeds it with LOKET_DEMO=1
    start, basic = (
        services.catalog.find(s, EN).title for s in ("groeipakket-startbedrag", "groeipakket-basisbedrag")
    )
    subscriber, page, expect = an_where_notifications_work(chromium, push, url)
    page.goto(f"{url}/voor-u?lang={EN}")
    expect(page.locator("main")).to_contain_text(
        plain(EN, "There are no suggestions for you in this profile.")
    )
    page.goto(f"{url}/mijn-berichten?lang={EN}")
    page.get_by_role("button", name=plain(EN, "Turn on notifications")).click()
    expect(page.locator("#push-status")).to_have_text(plain(EN, "Notifications are on for this device."))

    born = clock.now().date() - timedelta(days=10)
    event = demo_event("loket.birth.registered", {"subject": AN_NUMBER, "birth_date": born.isoformat()})
    received = services.proactive.receive(DEMO_SENDER, event)
    [pushed] = push.wait_for(1, "an", timeout=30)  # evaluated, then notified: loket's own worker
    assert json.loads(subscriber.decrypt(pushed.body)) == {"sender": LOKET, "text": message(NOTIFICATION, EN)}
    with services.db.session() as session:
        offered = session.scalar(select(MessageRow).where(MessageRow.reference == f"proactive-{received.id}"))

    page.reload()
    item = page.locator("ul.messages li.unread")
    expect(item).to_contain_text(message(OFFER_SUBJECT, "nl"))  # a message has no reader's language yet
    expect(item).to_contain_text(
        plain(EN, "From %(sender)s, %(date)s", sender=LOKET, date=offered.received_at.date().isoformat())
    )

    page.get_by_role("link", name=plain(EN, "For you")).click()
    expect(page.locator("h1")).to_have_text(plain(EN, "For you"))
    offers = page.locator("li.suggestion")
    offer = offers.filter(has=page.get_by_role("heading", name=start))
    expect(offer).to_contain_text(plain(EN, "You are probably entitled to this"))
    expect(offers.filter(has=page.get_by_role("heading", name=basic))).to_contain_text(
        plain(EN, "You get this automatically")
    )
    offer.get_by_text(plain(EN, "Why am I seeing this?")).click()
    expect(offer.locator("details li", has_text=format_date(born, "long", locale=EN))).to_be_visible()
    assert_accessible(page, "For you, with the reasons of an offer open")

    shown = offers.count()
    offer.get_by_role("button", name=plain(EN, "Not relevant")).click()
    expect(offers).to_have_count(shown - 1)
    page.reload()
    expect(offers).to_have_count(shown - 1)
    expect(offer).to_have_count(0)
    assert page.evaluate("window.__blocked") == [], "the Content Security Policy blocked something"
    page.context.close()
