"""Questions about one's own messages ("heb ik nieuwe berichten?", "what did the tax office send me?"),
answered from the inbox of the profile the person acts in, and only from it.

As with cases (`own_cases`), the assistant never looks a message up by what the question names: it
reads the active profile's inbox (logged, only when the question is about it) and picks among those.
It names a message's subject, sender and date and links to it; the body is read in the inbox.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from loket.assistant.own_cases import LISTED, best
from loket.assistant.texts import MESSAGE_LINE, NEW_MESSAGES, NO_MESSAGES, NO_NEW_MESSAGES
from loket.i18n import message
from loket.identity.schemas import SignedIn
from loket.messages.service import MessageService

NEW = re.compile(
    r"\b(?:nieuwe?|ongelezen|new|unread|nouveaux?|nouvelles?|non lus?|neue|ungelesene)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class OwnMessage:
    url: str
    subject: str
    sender: str
    received: date
    read: bool


OwnMessages = Callable[[], list[OwnMessage]]


def messages_of(messages: MessageService, user: SignedIn, language: str) -> OwnMessages:
    """The active profile's inbox as the assistant may use it: read, and logged, only when called."""

    def read() -> list[OwnMessage]:
        return [
            OwnMessage(f"/mijn-berichten/{m.id}", m.subject, m.sender, m.received_at.date(), m.read)
            for m in messages.inbox(user, language, why="assistant")
        ]

    return read


@dataclass(frozen=True)
class MessageAnswer:
    text: str
    cited: list[OwnMessage]


def answer_from_messages(question: str, inbox: list[OwnMessage], language: str) -> MessageAnswer:
    """The message the question names (its sender or subject), else the new ones, else the latest."""
    if not inbox:
        return MessageAnswer(message(NO_MESSAGES, language), [])
    named = (
        None if NEW.search(question) else best(question, inbox, lambda m: f"{m.sender} {m.subject}", language)
    )
    if named is not None:
        return MessageAnswer(_line(named, language), [named])
    unread = [m for m in inbox if not m.read][:LISTED]
    listed = unread or inbox[:1]
    heading = (
        message(NEW_MESSAGES, language, count=str(len(unread)))
        if unread
        else message(NO_NEW_MESSAGES, language)
    )
    return MessageAnswer(" ".join([heading, *(_line(m, language) for m in listed)]), listed)


def _line(found: OwnMessage, language: str) -> str:
    return message(
        MESSAGE_LINE, language, subject=found.subject, sender=found.sender, date=found.received.isoformat()
    )
