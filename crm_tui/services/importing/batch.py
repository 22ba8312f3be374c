"""An import batch (store/pending.py): ids reserved, rows written CHUNK a short transaction and
hidden until published; an unpublished batch removed (on failure, or at the next start)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Any

from crm_tui.domain import search_terms
from crm_tui.domain.customers import KINDS, format_number, load_policy, needs_sensitive_consent
from crm_tui.i18n import _
from crm_tui.services import customers as cust
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.importing.model import CONSENT_PURPOSE, NAME_CACHE, ImportCancelled, Plan, _gc_young, _Ready
from crm_tui.store import db, search_index
from crm_tui.store.queries import importing as q

CHUNK = 1000  # most rows per write transaction (fewer when one takes longer than HOLD_TARGET)


def _cal(svc: Services) -> Any:
    return cust._calendar(svc)


PLACEHOLDER_NAME = ""  # the row that pins the top of a batch's id range (erased, hidden, deleted on publish)


class _Batch:
    """An import batch (store/pending.py): its first short transaction reserves ids and customer
    numbers for every ready row and marks the batch running; its rows are hidden until
    :meth:`publish`; :meth:`discard` removes them in short transactions."""

    def __init__(self, svc: Services, actor: Actor, p: Plan) -> None:
        import secrets

        from crm_tui.store import lock

        self.svc = svc
        self.actor = actor
        self.token = secrets.token_hex(8)
        self.held = lock.hold_import(svc.store.db_file, self.token)
        try:
            n = len(p.ready)
            now = svc.now()
            with svc.write(actor) as tx:
                r = q.reserve_batch(tx.session, token=self.token, file=p.table.name, sha256=p.table.sha256, rows=n,
                                    started_by=actor.username, now=now, placeholder_name=PLACEHOLDER_NAME)
                self.first_id = r.first_id
                self.last_id = r.last_id  # the placeholder's id: the rows take first_id .. last_id - 1
                self.first_seq = r.first_seq
                self.id = r.batch_id
        except BaseException:
            self.release()
            raise

    def publish(self, tx: Tx, written: int) -> None:
        q.publish_batch(tx.session, self.id, self.last_id, written, tx.now)

    def discard(self) -> None:
        try:
            _discard_batch(self.svc, self.actor, self.id, self.first_id, self.last_id, self.token, reason="failed")
        except Exception:  # noqa: BLE001 - left for the next start (discard_abandoned), the batch stays hidden
            pass

    def release(self) -> None:
        from crm_tui.store import lock

        if self.held is not None:
            self.held.release()
            self.held = None
            lock.drop_import_lock(self.svc.store.db_file, self.token)


def _write_rows(svc: Services, actor: Actor, p: Plan, batch: _Batch, progress: Callable[[int, int], None] | None,
                cancel: threading.Event | None) -> tuple[int, int]:
    """The batch's rows, CHUNK rows a transaction (each well under a second of lock). Returns
    (rows written, rows skipped because the archive gained them meanwhile: another import or a
    desk holding the same ID number, credit code or phone; checked inside each transaction)."""
    now = svc.now()
    cal = _cal(svc)
    total = len(p.ready)
    fields, labels = _row_columns(p)
    important = fields.index("important")
    cols = [*fields, *_SET_COLS]
    insert_customer = q.customer_columns_insert(cols)
    by = actor.staff_id
    # name, kind -> search name, search pinyin, the name's terms in two ranges (n:, p:; name_index_parts)
    names: dict[tuple[str, str], tuple[str | None, str | None, tuple[str, ...], tuple[str, ...]]] = {}
    deadlines: dict[Any, Any] = {}  # missing fields -> (their JSON, the deadline)
    dues: dict[Any, Any] = {}
    complete = _Completeness(now, cal, deadlines, fields)
    stamp = db.adapt(now)  # ``now`` as the driver binds it: it is on every row
    written = raced = 0
    pending = _TermRuns()  # the search terms of the rows built, until written (_TermRuns)
    r_name, r_pinyin, r_phone = pending.runs
    size = CHUNK  # rows in the next transaction: shrinks when one held the lock past HOLD_TARGET
    start = 0
    while start < total:
        if cancel is not None and cancel.is_set():
            raise ImportCancelled("The import was cancelled; nothing was imported.")
        chunk = p.ready[start:start + size]
        # the rows are built before the transaction (pinyin, deadlines: most of the CPU time), so the
        # write lock is held only for the duplicate check and the inserts
        rows, phones, tags, staff_rows, consents = [], [], [], [], []
        t_number, t_ident = pending.numbers, pending.idents
        for i, r in enumerate(chunk, start=start):
            cid, number = batch.first_id + i, format_number(now.year, batch.first_seq + i)
            clean = r.clean
            values = list(map(clean.get, fields))  # the customer row's columns, in ``fields`` order
            values[important] = 1 if clean.get("important") else 0  # 0/1 as a bool is stored, bound faster
            missing, due = complete(values, r.kind, len(r.phones))
            if due is not None:  # bound as the driver would bind it, converted once per deadline
                due = dues.get(due) or dues.setdefault(due, db.adapt(due))
            key = (clean["name"], r.kind)
            indexed = names.get(key)
            if indexed is None:  # pinyin once per distinct name in the file
                if len(names) >= NAME_CACHE:  # bounded
                    names.clear()
                indexed = names[key] = search_terms.name_index_parts(*key)
            # then the _SET_COLS, in their order
            values += (cid, number, r.kind, r.owner, indexed[0], indexed[1], missing, due, 0, 0, 0,
                       stamp, 1, stamp, by, stamp, by)
            rows.append(tuple(values))
            if labels:
                phones += [(cid, ph.national, ph.e164, ph.kind, ph.label, 1 if ph.primary else 0, stamp)
                           for ph in r.phones]
            else:
                phones += [(cid, ph.national, ph.e164, ph.kind, 1 if ph.primary else 0, stamp) for ph in r.phones]
            if "tags" in clean:
                tags += [(cid, t) for t in clean["tags"] or []]
            if r.contacts:
                staff_rows += [(cid, s) for s in r.contacts if s != r.owner]
            if r.consent and needs_sensitive_consent(clean):
                consents.append((cid, CONSENT_PURPOSE, "sensitive", "signed_form", now.date(), by, now))
            # the name's terms (n:, p:) and the record's (k:, t:, x:) never coincide: no union needed;
            # the customers of a term come in ascending order (_TermRuns)
            number_term, phone_terms, ident_terms = search_terms.record_term_parts(
                number, [ph.national for ph in r.phones], (clean.get("id_number"), clean.get("uscc")))
            t_number.append((number_term, cid))
            for terms, run in ((indexed[2], r_name), (indexed[3], r_pinyin), (phone_terms, r_phone)):
                for t in terms:
                    run[t].append(cid)
            if ident_terms:
                t_ident += zip(ident_terms, repeat(cid))
            pending.pairs += len(indexed[2]) + len(indexed[3]) + len(phone_terms) + len(ident_terms) + 1
        with svc.write(actor) as tx:
            held = time.monotonic()  # the write lock is ours from here to the commit
            taken = _taken(tx, chunk)
            if taken:  # another import or a desk wrote one of these customers since the dry run
                skip = {batch.first_id + i for i, r in enumerate(chunk, start=start) if _is_taken(r, taken)}
                raced += len(skip)
                rows, phones, tags, staff_rows, consents = (
                    [x for x in xs if x[id_at] not in skip] for xs, id_at in
                    ((rows, cols.index("id")), (phones, 0), (tags, 0), (staff_rows, 0), (consents, 0)))
                pending.drop(skip)
            # DB-API executemany of positional rows in the same transaction (store/queries/importing)
            q.insert_rows(tx.session, insert_customer, rows, phones, tags, staff_rows, consents, labels=labels)
            written += len(rows)  # the terms: by term range, in transactions of their own
        held = time.monotonic() - held
        # Inserting into a large search index touches more pages per row as it grows: keep each
        # transaction near HOLD_TARGET of lock by its row count (never above CHUNK)
        if held > HOLD_TARGET:
            size = max(min(MIN_CHUNK, CHUNK), int(size * HOLD_TARGET / held))
        elif held < HOLD_TARGET / 2:
            size = min(CHUNK, int(size * 1.5) + 1)
        start += len(chunk)
        if pending.pairs >= TERMS_AT_ONCE or start >= total:
            _write_terms(svc, actor, pending.sorted(), cancel, in_order=True)
            pending = _TermRuns()
            r_name, r_pinyin, r_phone = pending.runs
            if start < total:  # the young generation: what the chunks made and kept (the terms are gone by
                _gc_young()  # now); after the last round the names and caches go with this function
        if progress is not None:
            progress(start, total)
        if _after_chunk is not None:
            _after_chunk(start, total)
    return written, raced


def _row_columns(p: Plan) -> tuple[list[str], bool]:
    """The customer's own columns (``_WRITABLE``) that some ready row gives a value, and
    "important" (never NULL); and whether some phone has a label. The other columns are NULL in
    every row and left out of the INSERTs (none has a default: tests/services/test_import_same_rows.py),
    so no row binds them: the driver's binding of a None (or a bool) costs ~1.5 us, and a row of a
    usual file has ~30 of them (issue 22)."""
    given = {f for r in p.ready for f, v in r.clean.items() if v is not None}
    labels = any(ph.label is not None for r in p.ready for ph in r.phones)
    return [f for f in _WRITABLE if f in given or f == "important"], labels


# search terms held before they are written (_TermRuns: a list slot a pair while held, ~130 MB of
# (term, customer) tuples when they are written), one round at 100,000 rows; each later round
# inserts between the earlier rounds' entries of every term, which costs more than the appends of
# one sorted run (~0.4 s at 100k)
TERMS_AT_ONCE = 2_000_000
TERM_SLICE = 50_000  # terms in the first of their transactions (then sized by HOLD_TARGET like the rows)


def _write_terms(svc: Services, actor: Actor, pairs: list[tuple[str, int]], cancel: threading.Event | None, *,
                 in_order: bool = False) -> None:
    """The search terms of many chunks' customers (hidden until the batch is published), sorted on
    the term and written in consecutive term ranges, each range its own short transaction. Written
    with their customers' rows, every transaction would touch leaves all over the index and the
    commits would write most of the index's pages again and again (at 100,000 rows the commits
    cost more than the inserts); a range touches few pages. ``pairs`` come customer by customer
    in ascending id order, so the stable sort on the term gives the (term, id) order (``in_order``:
    the caller sorted them, e.g. with :func:`_sorted_terms`)."""
    if not in_order:
        pairs.sort(key=itemgetter(0))
    size, at = TERM_SLICE, 0
    while at < len(pairs):
        if cancel is not None and cancel.is_set():
            raise ImportCancelled("The import was cancelled; nothing was imported.")
        part = pairs[at:at + size]
        with svc.write(actor) as tx:
            held = time.monotonic()
            search_index.bulk_insert(tx.session, part, in_order=True)
        held = time.monotonic() - held
        if held > HOLD_TARGET:
            size = max(MIN_CHUNK, int(size * HOLD_TARGET / held))
        elif held < HOLD_TARGET / 2:
            size = min(TERM_SLICE * 4, int(size * 1.5) + 1)
        at += len(part)


class _TermRuns:
    """The search terms of the rows built, until they are written (in term order, long after they
    were made customer by customer). The number (k:) and ID (x:) terms, each its customer's own, as
    (term, customer) pairs; the name (n:), pinyin (p:) and phone (t:) terms, which many customers
    share, as term -> its customers, ascending as the rows come (``runs``). :meth:`sorted` gives
    the (term, customer) order of one stable sort of every pair, sorting only the distinct terms;
    and the pairs of a term point to one str. With a new str for every pair (a phone's 4-digit
    windows, a name's characters), executemany read strings scattered over hundreds of MB and
    encoded every non-ASCII one to UTF-8 again: at 100,000 rows 1.85M pairs hold ~120k distinct
    terms, and the term writes took 2.3 s instead of the raw pipeline's 1.6 s."""

    def __init__(self) -> None:
        self.numbers: list[tuple[str, int]] = []
        self.idents: list[tuple[str, int]] = []
        self.runs: tuple[defaultdict[str, list[int]], ...] = (defaultdict(list), defaultdict(list),
                                                              defaultdict(list))  # name, pinyin, phone
        self.pairs = 0  # pairs held (a customer skipped by :meth:`drop` still counted)

    def drop(self, skip: set[int]) -> None:
        """Forget the terms of the customers ``skip`` (rows another writer took meanwhile)."""
        self.numbers = [x for x in self.numbers if x[1] not in skip]
        self.idents = [x for x in self.idents if x[1] not in skip]
        low = min(skip, default=0)
        for run in self.runs:
            for term, ids in list(run.items()):
                if ids[-1] >= low:
                    kept = [c for c in ids if c not in skip]
                    if kept:
                        run[term] = kept
                    else:
                        del run[term]

    def sorted(self) -> list[tuple[str, int]]:
        parts = []
        for run in self.runs:
            pairs: list[tuple[str, int]] = []
            for term in sorted(run):
                pairs += zip(repeat(term), run[term])
            parts.append(pairs)
        self.numbers.sort(key=itemgetter(0))
        self.idents.sort(key=itemgetter(0))
        return _joined([self.numbers, *parts, self.idents])


def _sorted_terms(groups: Sequence[list[tuple[str, int]]]) -> list[tuple[str, int]]:
    """The (term, customer) pairs of every group in (term, customer) order, as one stable sort on
    the term of them all gives it. Each group comes in ascending customer order and holds one kind
    of term (number k:, name n:, pinyin p:, phone t:, ID x:, each its own range), so each is sorted
    on the term alone (stable: customers stay ascending among equal terms) and the groups are joined
    in the order of their ranges: a few smaller sorts, most of them of ASCII terms (which Python
    compares faster than the names' characters), cost less than one sort of everything. Should two
    groups' ranges touch or overlap, one sort of all the pairs on (term, customer) gives the order."""
    for g in groups:
        g.sort(key=itemgetter(0))
    return _joined(groups)


def _joined(groups: Sequence[list[tuple[str, int]]]) -> list[tuple[str, int]]:
    """Groups each in (term, customer) order, as one list in that order (_sorted_terms)."""
    parts = [g for g in groups if g]
    parts.sort(key=lambda g: g[0][0])
    if any(a[-1][0] >= b[0][0] for a, b in zip(parts, parts[1:])):
        every = [pair for g in parts for pair in g]
        every.sort()
        return every
    out: list[tuple[str, int]] = []
    for g in parts:
        out += g
    return out


_WRITABLE = cust._WRITABLE
_SET_COLS = ("id", "number", "kind", "owner_id", "search_name", "search_pinyin", "missing_fields", "incomplete_due",
             "false_info", "business_stopped", "needs_informing", "last_activity_at", "version", "created_at",
             "created_by_id", "updated_at", "updated_by_id")  # the customer columns the import sets itself
assert not set(_WRITABLE) & set(_SET_COLS)


class _Completeness:
    """``cust._completeness`` of import rows (all created at ``now``), remembered by which of the
    required fields are empty: all the answer depends on (missing_fields reads only those)."""

    def __init__(self, now: Any, cal: Any, memo: dict[Any, Any], fields: Sequence[str]) -> None:
        """``fields``: the customer columns of a row's values, in their order (_write_rows)."""
        self.now, self.cal, self.memo, self.fields = now, cal, memo, tuple(fields)
        policy = load_policy()
        self.required = {kind: tuple(dict.fromkeys(f for fs in policy.required_fields(kind).values() for f in fs))
                         for kind in KINDS}
        # per kind: the required fields' places in a row's values (a required field the import does
        # not write is always empty; "phones" is the phone count, passed on its own)
        self.places = {kind: _getter([self.fields.index(f) for f in fs if f in self.fields]) for kind, fs in
                       self.required.items()}
        self.answers: dict[tuple[Any, ...], tuple[str | None, Any]] = {}

    def __call__(self, values: list[Any], kind: str, phones: int) -> tuple[str | None, Any]:
        sig = (kind, phones in _EMPTY, *map(_EMPTY.__contains__, self.places[kind](values)))
        got = self.answers.get(sig)
        if got is None:
            got = self.answers[sig] = cust._completeness({**dict.fromkeys(_WRITABLE), **dict(zip(self.fields, values))},
                                                         kind, self.now, phones, self.cal, self.memo)
        return got


_EMPTY = (None, "", 0, [], ())  # missing_fields' test of an empty value


def _getter(places: list[int]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """values -> the values at ``places``, always a tuple."""
    if not places:
        return lambda values: ()
    if len(places) == 1:
        return lambda values: (values[places[0]],)
    return itemgetter(*places)


HOLD_TARGET = 0.5  # seconds of write lock an import transaction aims at (issue 17: "about a second" at most)
MIN_CHUNK = 100
_after_chunk: Callable[[int, int], None] | None = None  # test hook: called after each committed chunk


def _taken(tx: Tx, chunk: Sequence[_Ready]) -> set[tuple[str, str]]:
    """The chunk's ID numbers, credit codes and phones the archive holds now (any batch, published
    or not: two imports of one file never both write a customer). Index lookups, in the chunk's
    own write transaction."""
    ids = [r.clean[k] for r in chunk for k in ("id_number", "uscc") if r.clean.get(k)]
    nats = [ph.national for r in chunk for ph in r.phones]
    return q.taken(tx.session, ids, nats)


def _is_taken(r: _Ready, taken: set[tuple[str, str]]) -> bool:
    return (any((k, r.clean[k]) in taken for k in ("id_number", "uscc") if r.clean.get(k))
            or any(("phone", ph.national) in taken for ph in r.phones))


def _discard_batch(svc: Services, actor: Actor, batch_id: int, first_id: int, last_id: int, token: str, *,
                   reason: str) -> int:
    """Remove an unpublished batch's rows, CHUNK customers a transaction (hidden all along), then
    the batch itself; one audit entry. Returns the customers removed."""
    from crm_tui.store import lock

    with svc.write(actor) as tx:
        q.mark_batch_failed(tx.session, batch_id)
    removed = 0
    for a in range(first_id, last_id + 1, CHUNK):
        b = min(a + CHUNK - 1, last_id)
        with svc.write(actor) as tx:
            rows = q.customers_between(tx.session, a, b)
            if not rows:
                continue
            phones = q.phones_between(tx.session, a, b)
            terms = [(t, cid) for cid, number, name, kind, idn, uscc in rows
                     for t in search_terms.customer_terms(name=name or None, kind=kind, number=number,
                                                          phones=phones.get(int(cid), ()), idents=(idn, uscc))]
            q.delete_customers_between(tx.session, a, b, terms)
            removed += sum(1 for r in rows if r[0] != last_id)
    with svc.write(actor) as tx:
        info = q.pop_batch(tx.session, batch_id)
        tx.audit("import.discarded", entity="import", entity_id=str(info[0]) if info else str(batch_id),
                 details={"batch": batch_id, "reason": reason, "removed": removed,
                          "started_by": info[1] if info else None, "started_at": str(info[2]) if info else None})
    lock.drop_import_lock(svc.store.db_file, token)
    return removed


@dataclass(frozen=True)
class Discarded:
    file: str
    started_by: str
    started_at: str
    removed: int


def discard_abandoned(svc: Services) -> list[Discarded]:
    """At start (app and commands): batches whose importing process is gone (killed, crashed,
    powered off) are removed. Their rows were never visible; the caller says what was removed."""
    from crm_tui.store import lock

    with svc.store.read() as s:
        found = q.unpublished_batches(s)
    out = []
    for u in found:
        if lock.import_running(svc.store.db_file, u.token):
            continue
        n = _discard_batch(svc, Actor.system(), u.id, u.first_id, u.last_id, u.token, reason="abandoned")
        out.append(Discarded(u.file, str(u.started_by or "-"), str(u.started_at)[:16], n))
    return out


def discarded_message(d: Discarded) -> str:
    return _("An import of {file} (started by {user} at {at}) did not finish; its {n} unpublished customers were "
             "removed (none of them was ever visible). Run the import again.", file=d.file, user=d.started_by,
             at=d.started_at, n=d.removed)

