"""The customer search index: maintenance and keyset-paged queries, in plain SQL.

Terms and query parsing are in :mod:`crm_tui.domain.search_terms`. Every query here is driven by
an index: the most selective query token is looked up in ``search_term`` (its primary key
``(term, customer_id)``), each candidate is joined to ``customer`` by primary key (``CROSS JOIN``
fixes that order) and checked against the other tokens and the filters row by row. No query
scans ``customer`` or ``search_term``; ``LIMIT`` bounds the work per page.

Ordering and cursors
    exact driver (name of 1..4+ characters, phone digits, ID number): ``customer_id`` ascending,
    cursor = last customer id; prefix driver (pinyin, customer number): ``(term, customer_id)``,
    cursor = last (term, id) consumed, so a customer matching through several terms (``z`` finds
    张三 by ``zhangsan`` and ``zs``) may appear again on a later page, never twice on one page;
    empty query: ``customer.id`` descending. Cursors are opaque strings (:func:`encode_cursor`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from crm_tui.domain.errors import ValidationError
from crm_tui.domain.search_terms import PINYIN_KEY_MAX, Query, Token, upper_bound
from crm_tui.store import pending
from crm_tui.store.db import dbapi_connection

COUNT_CAP = 1000
_NO_CURSOR_ID = 1 << 62


@dataclass(frozen=True)
class Filters:
    category: str | None = None
    grade: str | None = None
    owner_id: int | None = None
    tag: str | None = None


# ------------------------------------------------------------------------------------------------
# Maintenance (inside the caller's write transaction)
# ------------------------------------------------------------------------------------------------


def add_terms(session: Session, customer_id: int, terms: Iterable[str]) -> None:
    rows = [{"t": t, "c": customer_id} for t in terms]
    if rows:
        session.execute(text("INSERT OR IGNORE INTO search_term (term, customer_id) VALUES (:t, :c)"), rows)


def remove_terms(session: Session, customer_id: int, terms: Iterable[str]) -> None:
    rows = [{"t": t, "c": customer_id} for t in terms]
    if rows:
        session.execute(text("DELETE FROM search_term WHERE term = :t AND customer_id = :c"), rows)


def replace_terms(session: Session, customer_id: int, old: set[str], new: set[str]) -> None:
    """Bring one customer's terms from ``old`` to ``new`` with point deletes and inserts."""
    remove_terms(session, customer_id, old - new)
    add_terms(session, customer_id, new - old)


def bulk_insert(session: Session, pairs: Iterable[tuple[str, int]], *, by_customer: bool = False,
                in_order: bool = False) -> int:
    """Many customers' terms at once (demo data, imports), sorted for B-tree friendly inserts
    (a repeated pair is ignored by the INSERT). ``by_customer``: the pairs come customer by
    customer in ascending id order, so a stable sort on the term alone gives the (term, id) order
    (string comparisons instead of tuple comparisons: an import sorts ~34 terms a customer).
    ``in_order``: the caller sorted them already (a list), inserted as they are."""
    rows = pairs if in_order and isinstance(pairs, list) else \
        sorted(pairs, key=itemgetter(0)) if by_customer else sorted(pairs)
    if rows:  # positional rows through the DB-API: no per-row parameter processing (imports)
        dbapi_connection(session).executemany(
            "INSERT OR IGNORE INTO search_term (term, customer_id) VALUES (?, ?)", rows)
    return len(rows)


# ------------------------------------------------------------------------------------------------
# Cursors
# ------------------------------------------------------------------------------------------------


def encode_cursor(mode: str, term: str | None, customer_id: int) -> str:
    raw = json.dumps([mode, term, customer_id], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, mode: str) -> tuple[str | None, int] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        m, term, cid = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if m != mode or not isinstance(cid, int) or not (term is None or isinstance(term, str)):
            raise ValueError
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ValidationError("cursor", "The result page is out of date; search again") from None
    return term, cid


# ------------------------------------------------------------------------------------------------
# SQL building
# ------------------------------------------------------------------------------------------------


def _point_term(t: Token) -> str | None:
    """A non-driving token confirmed by one primary-key probe of ``search_term``, when it can be."""
    if t.kind == "name" and not t.verify:
        return t.term
    if t.kind == "phone" and not t.verify:
        return t.term
    if t.kind == "ident":
        return t.term
    return None


def _token_check(t: Token, i: int, params: dict[str, Any], *, driver: bool) -> str | None:
    """SQL confirming token ``t`` for the candidate ``st.customer_id`` (None: the index term suffices)."""
    if driver and not t.verify:
        return None
    key = f"q{i}"
    point = None if driver else _point_term(t)
    if point is not None:
        params[key] = point
        return f"EXISTS (SELECT 1 FROM search_term s{i} WHERE s{i}.term = :{key} AND s{i}.customer_id = st.customer_id)"
    if t.kind == "name":
        params[key] = t.text
        return f"instr(c.search_name, :{key}) > 0"
    if t.kind == "pinyin":
        params[key] = "|" + t.text[:PINYIN_KEY_MAX]
        return f"instr(c.search_pinyin, :{key}) > 0"
    if t.kind == "phone":
        params[key] = t.text
        return (f"EXISTS (SELECT 1 FROM customer_phone ph WHERE ph.customer_id = st.customer_id"
                f" AND instr(ph.national, :{key}) > 0)")
    if t.kind == "number":
        params[key] = t.text
        params[key + "h"] = upper_bound(t.text)
        return f"(c.number >= :{key} AND c.number < :{key}h)"
    params[key] = t.text
    return f"(c.id_number = :{key} OR c.uscc = :{key})"


def _filter_sql(f: Filters, params: dict[str, Any], *, id_col: str, skip_tag: bool = False) -> list[str]:
    where = []
    if f.category:
        where.append("c.category = :f_cat")
        params["f_cat"] = f.category
    if f.grade:
        where.append("c.grade = :f_grade")
        params["f_grade"] = f.grade
    if f.owner_id is not None:
        where.append("c.owner_id = :f_owner")
        params["f_owner"] = f.owner_id
    if f.tag and not skip_tag:
        where.append(f"EXISTS (SELECT 1 FROM customer_tag tg WHERE tg.customer_id = {id_col} AND tg.tag = :f_tag)")
        params["f_tag"] = f.tag
    return where


def _customer_filters(f: Filters) -> bool:
    return bool(f.category or f.grade or f.owner_id is not None)


def _search_sql(query: Query, filters: Filters, after: tuple[str | None, int] | None,
                *, distinct_ids: bool = False, hidden: Any = None) -> tuple[str, dict[str, Any], bool]:
    """(sql without LIMIT, params, prefix?) for a non-empty query.

    Erased customers own no terms, so ``customer`` is joined only when a filter or a
    verification needs its columns; the join goes by primary key (``CROSS JOIN`` keeps
    ``search_term`` the outer loop).
    """
    d = query.driver()
    params: dict[str, Any] = {}
    where: list[str] = []
    if d.prefix:
        params["lo"] = d.term
        params["hi"] = upper_bound(d.term)
        where.append("st.term >= :lo AND st.term < :hi")
        if after is not None:
            params["ct"], params["cc"] = after
            where.append("(st.term, st.customer_id) > (:ct, :cc)")
        order = "st.term, st.customer_id"
        cols = "st.term, st.customer_id"
    else:
        params["t"] = d.term
        where.append("st.term = :t")
        if after is not None:
            params["cc"] = after[1]
            where.append("st.customer_id > :cc")
        order = "st.customer_id"
        cols = "NULL, st.customer_id"
    row_needed = False
    for i, t in enumerate(query.tokens):
        check = _token_check(t, i, params, driver=t is d)
        if check:
            where.append(check)
            row_needed = row_needed or "c." in check
    where += _filter_sql(filters, params, id_col="st.customer_id")
    if hidden is not None:  # unpublished imports (store/pending.py): nothing when none is running
        where += pending.conditions(hidden, "st.customer_id")
    # An exact driver term owns each customer at most once (primary key (term, customer_id)), so
    # only a prefix range needs DISTINCT: a temp B-tree that costs more than the count itself.
    distinct = "SELECT DISTINCT st.customer_id" if d.prefix else "SELECT st.customer_id"
    select = distinct if distinct_ids else f"SELECT {cols}"
    source = "search_term st"
    if row_needed:
        source += " CROSS JOIN customer c ON c.id = st.customer_id"
    elif _customer_filters(filters):  # the narrow covering index, not the wide table row
        source += " CROSS JOIN customer c INDEXED BY ix_customer_filter ON c.id = st.customer_id"
    sql = f"{select} FROM {source} WHERE {' AND '.join(where)}" + ("" if distinct_ids else f" ORDER BY {order}")
    return sql, params, d.prefix


def _list_sql(filters: Filters, before: int | None, *, count: bool = False,
              hidden: Any = None) -> tuple[str, dict[str, Any]]:
    """Empty query: newest first by id, driven by the tag index or a (filter, erased_at, id) index."""
    params: dict[str, Any] = {"before": before if before is not None else _NO_CURSOR_ID}
    if filters.tag:
        params["f_tag"] = filters.tag
        where = ["tg.tag = :f_tag", "tg.customer_id < :before"]
        if hidden is not None:
            where += pending.conditions(hidden, "tg.customer_id")
        extra = _filter_sql(filters, params, id_col="tg.customer_id", skip_tag=True)
        source = "customer_tag tg"
        if extra:
            source += " CROSS JOIN customer c INDEXED BY ix_customer_filter ON c.id = tg.customer_id"
            where += extra
        sql = f"SELECT tg.customer_id FROM {source} WHERE {' AND '.join(where)}" + (
            "" if count else " ORDER BY tg.customer_id DESC")
        return sql, params
    where = [*_filter_sql(filters, params, id_col="c.id"), "c.erased_at IS NULL", "c.id < :before"]
    if hidden is not None:
        where += pending.conditions(hidden, "c.id")
    sql = f"SELECT c.id FROM customer c WHERE {' AND '.join(where)}" + ("" if count else " ORDER BY c.id DESC")
    return sql, params


# ------------------------------------------------------------------------------------------------
# Queries
# ------------------------------------------------------------------------------------------------


@contextmanager
def reader(engine: Engine) -> Iterator[Any]:
    """A read transaction on a pooled DB-API connection, for the per-keystroke search: the same
    keyed, configured connections as ``Store.read`` and the same ``BEGIN DEFERRED`` snapshot, with
    none of the ORM session's bookkeeping (about 0.12 ms of a 0.5 ms search). The functions below
    take it wherever they take a session."""
    pooled = engine.raw_connection()
    try:
        conn = pooled.driver_connection
        conn.execute("BEGIN DEFERRED")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        pooled.close()


def _all(session: Session, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    return dbapi_connection(session).execute(sql, params).fetchall()


@dataclass(frozen=True)
class Page:
    ids: list[int]
    next_cursor: str | None


def page(session: Session, query: Query, filters: Filters, cursor: str | None, limit: int) -> Page:
    """One page of matching customer ids, in result order, without repeats."""
    limit = max(1, min(int(limit), 500))
    if query.empty:
        after = decode_cursor(cursor, "l")
        sql, params = _list_sql(filters, after[1] if after else None, hidden=session)
        ids = [r[0] for r in _all(session, sql + " LIMIT :n", {**params, "n": limit + 1})]
        more = len(ids) > limit
        ids = ids[:limit]
        return Page(ids, encode_cursor("l", None, ids[-1]) if more else None)
    d = query.driver()
    mode = "p" if d.prefix else "e"
    after = decode_cursor(cursor, mode)
    if not d.prefix:
        sql, params, _p = _search_sql(query, filters, after, hidden=session)
        ids = [r[1] for r in _all(session, sql + " LIMIT :n", {**params, "n": limit + 1})]
        more = len(ids) > limit
        ids = ids[:limit]
        return Page(ids, encode_cursor("e", None, ids[-1]) if more else None)
    # Prefix: one customer may own several terms in the range; skip repeats within the page.
    ids = []
    seen: set[int] = set()
    chunk = limit * 2 + 8
    position = after
    while True:
        sql, params, _p = _search_sql(query, filters, position, hidden=session)
        rows = _all(session, sql + " LIMIT :n", {**params, "n": chunk})
        for i, (term, cid) in enumerate(rows):
            position = (term, cid)
            if cid in seen:
                continue
            seen.add(cid)
            ids.append(cid)
            if len(ids) == limit:
                more = i + 1 < len(rows) or len(rows) == chunk
                return Page(ids, encode_cursor("p", term, cid) if more else None)
        if len(rows) < chunk:
            return Page(ids, None)


def count(session: Session, query: Query, filters: Filters, cap: int = COUNT_CAP) -> int:
    """Matching customers, counted up to ``cap + 1`` (more than ``cap`` reads "cap+")."""
    if query.empty:
        sql, params = _list_sql(filters, None, count=True, hidden=session)
    else:
        sql, params, _p = _search_sql(query, filters, None, distinct_ids=True, hidden=session)
    return int(_all(session, f"SELECT count(*) FROM ({sql} LIMIT :cap)", {**params, "cap": cap + 1})[0][0])


def count_hint(n: int, cap: int = COUNT_CAP) -> str:
    return f"{cap}+" if n > cap else str(n)


def explain(session: Session, query: Query, filters: Filters = Filters(), cursor: str | None = None,
            *, for_count: bool = False) -> list[str]:
    """EXPLAIN QUERY PLAN lines of the SQL a page (or the count) would run; for tests and tuning."""
    if query.empty:
        after = decode_cursor(cursor, "l")
        sql, params = _list_sql(filters, after[1] if after else None, count=for_count)
    else:
        d = query.driver()
        after = decode_cursor(cursor, "p" if d.prefix else "e")
        sql, params, _p = _search_sql(query, filters, after, distinct_ids=for_count)
    if for_count:
        sql = f"SELECT count(*) FROM ({sql} LIMIT :cap)"
        params["cap"] = COUNT_CAP + 1
    else:
        sql += " LIMIT :n"
        params["n"] = 50
    return [str(r[3]) for r in _all(session, "EXPLAIN QUERY PLAN " + sql, params)]


def rows(session: Session, ids: list[int]) -> list[tuple[Any, ...]]:
    """Display data of customers by id, in the given order: (id, number, name, kind, category, grade,
    owner display name, important, owner_id, erased_at, primary phone national digits, tags joined
    by U+001F)."""
    if not ids:
        return []
    id_list = ",".join(str(int(i)) for i in ids)
    found = {r[0]: r for r in _all(session,
        "SELECT c.id, c.number, c.name, c.kind, c.category, c.grade, s.display_name, c.important, c.owner_id,"
        " c.erased_at, (SELECT ph.national FROM customer_phone ph WHERE ph.customer_id = c.id"
        " ORDER BY ph.is_primary DESC, ph.id LIMIT 1),"
        " (SELECT group_concat(tg.tag, char(31)) FROM customer_tag tg WHERE tg.customer_id = c.id)"
        f" FROM customer c LEFT JOIN staff s ON s.id = c.owner_id WHERE c.id IN ({id_list})"
        + pending.hide(session, "c.id"), {})}
    return [found[i] for i in ids if i in found]
