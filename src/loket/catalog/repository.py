"""Reads and writes of the catalogue tables; only the catalogue service calls these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, union_all, update
from sqlalchemy.orm import Session

from loket.catalog.models import CatalogItemRow, CatalogItemVersionRow, CatalogWithdrawalRow
from loket.catalog.schemas import Audience, CatalogItem, ItemDraft, ItemStatus, ItemVersion, Section

# Bounded text columns: PostgreSQL refuses a longer value (failing the whole batch), SQLite keeps it.
LENGTH_LIMITS = {
    name: CatalogItemRow.__table__.c[name].type.length
    for name in ("source", "source_id", "language", "licence")
}


def too_long(draft: ItemDraft) -> str | None:
    """Why a draft cannot be stored on every database, or None."""
    for name, limit in LENGTH_LIMITS.items():
        if len(getattr(draft, name)) > limit:
            return f"{name} is longer than {limit} characters"
    return None


def stored_state(session: Session, ids: Iterable[str]) -> dict[str, CatalogItemRow]:
    rows = session.scalars(select(CatalogItemRow).where(CatalogItemRow.id.in_(list(ids))))
    return {row.id: row for row in rows}


def insert(session: Session, draft: ItemDraft, url: str, now: datetime) -> None:
    row = CatalogItemRow(id=draft.item_id, version=1, first_seen_at=now)
    _fill(row, draft, url, now)
    session.add(row)
    _add_version(session, row, draft, now)


def replace(session: Session, row: CatalogItemRow, draft: ItemDraft, url: str, now: datetime) -> None:
    row.version += 1
    _fill(row, draft, url, now)
    _add_version(session, row, draft, now)


def withdraw_missing(session: Session, source: str, keep: set[str], now: datetime) -> int:
    active = session.execute(
        select(CatalogItemRow.id, CatalogItemRow.version).where(
            CatalogItemRow.source == source, CatalogItemRow.status == ItemStatus.ACTIVE
        )
    )
    gone = [(item_id, version) for item_id, version in active if item_id not in keep]
    if gone:
        session.execute(
            update(CatalogItemRow)
            .where(CatalogItemRow.id.in_([item_id for item_id, _ in gone]))
            .values(status=ItemStatus.WITHDRAWN, withdrawn_at=now, updated_at=now)
        )
        session.add_all(
            CatalogWithdrawalRow(item_id=item_id, version=version, withdrawn_at=now)
            for item_id, version in gone
        )
    return len(gone)


def get(session: Session, item_id: str) -> CatalogItem | None:
    row = session.get(CatalogItemRow, item_id)
    return to_item(row) if row else None


def _shown(now: datetime) -> ColumnElement[bool]:
    """An item that may be shown now: active and not past its end date."""
    return and_(
        CatalogItemRow.status == ItemStatus.ACTIVE,
        or_(CatalogItemRow.valid_until.is_(None), CatalogItemRow.valid_until > now),
    )


def active(session: Session, now: datetime) -> list[CatalogItem]:
    rows = session.scalars(select(CatalogItemRow).where(_shown(now)).order_by(CatalogItemRow.id))
    return [to_item(row) for row in rows]


def active_by_source_id(session: Session, source_id: str, now: datetime) -> list[CatalogItem]:
    """The active language versions of one source record, whichever source holds it."""
    rows = session.scalars(select(CatalogItemRow).where(CatalogItemRow.source_id == source_id, _shown(now)))
    return [to_item(row) for row in rows]


def shown_version(session: Session, item_id: str, now: datetime) -> ItemVersion | None:
    """The current version of an item that may be shown now; None for one unknown, withdrawn or ended."""
    row = session.execute(
        select(
            CatalogItemVersionRow.item_id,
            CatalogItemVersionRow.version,
            CatalogItemVersionRow.recorded_at.label("at"),
            literal(False).label("withdrawn"),
            CatalogItemVersionRow.content,
            CatalogItemRow.first_seen_at,
        )
        .join(
            CatalogItemRow,
            and_(
                CatalogItemRow.id == CatalogItemVersionRow.item_id,
                CatalogItemRow.version == CatalogItemVersionRow.version,
            ),
        )
        .where(CatalogItemRow.id == item_id, _shown(now))
    ).first()
    return _item_version(row) if row else None


def changes(session: Session, offset: int, limit: int) -> list[ItemVersion]:
    """Every recorded version and every withdrawal, in the order they happened (then by item and
    version): the catalogue's change feed, `limit` changes from the `offset`th on. Nothing leaves it, so
    an offset names the same change for good."""
    versions, items, withdrawals = CatalogItemVersionRow, CatalogItemRow, CatalogWithdrawalRow
    recorded = select(
        versions.item_id,
        versions.version,
        versions.recorded_at.label("at"),
        literal(False).label("withdrawn"),
    )
    withdrawn = select(withdrawals.item_id, withdrawals.version, withdrawals.withdrawn_at, literal(True))
    change = union_all(recorded, withdrawn).subquery()
    rows = session.execute(
        select(
            change.c.item_id,
            change.c.version,
            change.c.at,
            change.c.withdrawn,
            versions.content,
            items.first_seen_at,
        )
        .join(versions, and_(versions.item_id == change.c.item_id, versions.version == change.c.version))
        .join(items, items.id == change.c.item_id)
        .order_by(change.c.at, change.c.item_id, change.c.version, change.c.withdrawn)
        .offset(offset)
        .limit(limit)
    )
    return [_item_version(row) for row in rows]


def shown_languages_and_licences(session: Session, now: datetime) -> tuple[set[str], set[str]]:
    rows = session.execute(
        select(CatalogItemRow.language, CatalogItemRow.licence).where(_shown(now)).distinct()
    ).all()
    return {language for language, _ in rows}, {licence for _, licence in rows if licence}


def _item_version(row) -> ItemVersion:
    return ItemVersion(
        item_id=row.item_id,
        number=row.version,
        recorded_at=row.at,
        first_seen_at=row.first_seen_at,
        draft=ItemDraft.from_json(row.content),
        withdrawn=bool(row.withdrawn),
    )


def versions(session: Session, item_id: str) -> list[CatalogItemVersionRow]:
    return list(
        session.scalars(
            select(CatalogItemVersionRow)
            .where(CatalogItemVersionRow.item_id == item_id)
            .order_by(CatalogItemVersionRow.version)
        )
    )


def revision(session: Session) -> tuple[int, datetime | None]:
    """Changes whenever an item is added, changed or withdrawn: what caches key on."""
    count, latest = session.execute(select(func.count(), func.max(CatalogItemRow.updated_at))).one()
    return count, latest


def counts_by_source(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(CatalogItemRow.source, CatalogItemRow.status, func.count()).group_by(
            CatalogItemRow.source, CatalogItemRow.status
        )
    )
    return {(source, status): count for source, status, count in rows}


def to_item(row: CatalogItemRow) -> CatalogItem:
    return CatalogItem(
        id=row.id,
        source=row.source,
        source_id=row.source_id,
        url=row.url,
        language=row.language,
        title=row.title,
        summary=row.summary,
        sections=tuple(Section(**section) for section in row.sections),
        audiences=tuple(Audience(value) for value in row.audiences),
        themes=tuple(row.themes),
        authority=row.authority,
        keywords=tuple(row.keywords),
        created=row.created,
        modified=row.modified,
        valid_until=row.valid_until,
        licence=row.licence,
        content_hash=row.content_hash,
        status=ItemStatus(row.status),
        version=row.version,
        updated_at=row.updated_at,
    )


def _fill(row: CatalogItemRow, draft: ItemDraft, url: str, now: datetime) -> None:
    content = draft.to_json()
    for name in ("source", "source_id", "language", "title", "summary", "authority", "licence"):
        setattr(row, name, content[name])
    row.url = url
    row.sections = content["sections"]
    row.audiences = content["audiences"]
    row.themes = content["themes"]
    row.keywords = content["keywords"]
    row.created, row.modified, row.valid_until = draft.created, draft.modified, draft.valid_until
    row.content_hash = draft.content_hash
    row.status = ItemStatus.ACTIVE
    row.withdrawn_at = None
    row.updated_at = now


def _add_version(session: Session, row: CatalogItemRow, draft: ItemDraft, now: datetime) -> None:
    session.add(
        CatalogItemVersionRow(
            item_id=row.id,
            version=row.version,
            content_hash=row.content_hash,
            content=draft.to_json(),
            recorded_at=now,
        )
    )
