"""An erasure that holds (R-CUST-13).

Every erasure is written to a ledger of customer numbers and times (no personal data) twice: in the
database (table ``erasure_ledger``) and in a small file beside it in the data folder
(``erasure-ledger.txt``, 0600), which a restore does not replace. After a restore the union of the
file, the replaced database's ledger and the restored database's ledger is re-applied: any of those
customers the older backup still holds is erased again, so a restore never brings an erased person
back. Every connection runs with ``secure_delete`` (store/db.py), and after an erasure the WAL is
checkpointed with TRUNCATE so no old page image is left in it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from crm_tui.services.context import Actor, Services, Tx
from crm_tui.store import db
from crm_tui.store.db import Store
from crm_tui.store.queries import erasure as qe

LEDGER_FILE = "erasure-ledger.txt"
_HEADER = "# crm-tui erasure ledger (R-CUST-13): customer number <TAB> erased at. No personal data.\n"
REAPPLY_REASON = "erasure ledger re-applied after a restore"


def ledger_path(data_dir: Path) -> Path:
    return Path(data_dir) / LEDGER_FILE


def read_file(path: Path) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        number, _sep, at = line.partition("\t")
        try:
            out[number.strip()] = datetime.fromisoformat(at.strip())
        except ValueError:
            continue  # a damaged line: the database copy of the ledger still has it
    return out


def write_file(path: Path, entries: Mapping[str, datetime]) -> None:
    """The whole ledger, written to a temporary file and renamed into place (0600)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(_HEADER)
        for number, at in sorted(entries.items(), key=lambda kv: (kv[1], kv[0])):
            fh.write(f"{number}\t{at.isoformat(sep=' ')}\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _append_file(path: Path, entries: Mapping[str, datetime]) -> None:
    new = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        if new:
            fh.write(_HEADER)
        for number, at in entries.items():
            fh.write(f"{number}\t{at.isoformat(sep=' ')}\n")
        fh.flush()
        os.fsync(fh.fileno())


def record(tx: Tx, number: str) -> None:
    """In the erasing transaction: the database copy of the ledger."""
    qe.ledger_add(tx.session, number, tx.now)


def db_entries(session) -> dict[str, datetime]:  # type: ignore[no-untyped-def]
    out = {}
    for number, at in qe.ledger_rows(session):
        out[str(number)] = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    return out


def raw_entries(conn) -> dict[str, datetime]:  # type: ignore[no-untyped-def]
    """The ledger of a database open with a plain sqlcipher3 connection (the one a restore replaces);
    empty when it has none (an older schema)."""
    try:
        rows = qe.raw_ledger_rows(conn)
    except Exception:  # noqa: BLE001 - no such table in an older file
        return {}
    return {str(n): datetime.fromisoformat(str(a)) for n, a in rows}


def after_erase(svc: Services, entries: Mapping[str, datetime]) -> None:
    """After the erasing transaction committed: the file copy of the ledger, then the WAL emptied."""
    _append_file(ledger_path(svc.store.db_file.parent), entries)
    db.checkpoint_truncate(svc.store)


def reapply(store: Store, *, now: datetime, actor_name: str, extra: Mapping[str, datetime] = ()) -> int:  # type: ignore[assignment]
    """After a restore: erase again every customer in the union of the ledgers (file, ``extra`` =
    the replaced database's, and the restored one's) that the restored database still holds; bring
    both copies of the ledger up to the union. Returns how many customers were erased again."""
    from crm_tui.services import customers

    path = ledger_path(store.db_file.parent)
    union: dict[str, datetime] = dict(read_file(path))
    for number, at in dict(extra).items():
        union.setdefault(number, at)
    svc = Services(store=store, clock=lambda: now)
    actor = Actor(None, actor_name, actor_name)
    count = 0
    with svc.write(actor) as tx:
        for number, at in db_entries(tx.session).items():
            union.setdefault(number, at)
        for number, at in sorted(union.items()):
            cid = qe.live_id_by_number(tx.session, number)
            if cid is not None:
                customers.erase_in(tx, cid, REAPPLY_REASON, action="customer.erase_reapplied")
                count += 1
            qe.ledger_add(tx.session, number, at)
    if union:
        write_file(path, union)
    if count:
        db.checkpoint_truncate(store)
    return count


def erase_by_number(svc: Services, actor: Actor, number: str, reason: str, *, approval_id: int | None = None) -> None:
    """``crm-tui customer erase NUMBER``: :func:`customers.erase_customer` by customer number."""
    from crm_tui.services import customers

    customers.erase_customer(svc, actor, customers.customer_id_by_number(svc, actor, number), reason,
                             approval_id=approval_id)


def destroy_past_retention(svc: Services, actor: Actor, *, approval_id: int | None = None,
                           reason: str = "retention period ended") -> list[str]:
    """Destruction at the end of retention (R-CUST-13) as one approved batch (operation
    ``customer.destroy_batch``, R-SEC-2): every archive with no activity for the policy's retention
    period is erased in one transaction, ledgered, and the WAL emptied. Needs customer.erase.
    Returns the customer numbers destroyed."""
    from crm_tui.domain.customers import load_policy
    from crm_tui.domain.errors import Conflict
    from crm_tui.domain.validation import clean_text
    from crm_tui.services import approvals, customers

    svc.require(actor, "customer.erase", batch="retention")
    clean_reason = clean_text(reason, "reason", max_len=500, required=True)
    years = load_policy().retention_years
    now = svc.now()
    try:
        cutoff = now.replace(year=now.year - years)
    except ValueError:  # 29 February
        cutoff = now.replace(year=now.year - years, day=28)
    with svc.write(actor) as tx:
        rows = qe.past_retention(tx.session, cutoff.isoformat(sep=" ", timespec="microseconds"))
        approval = approvals.use(tx, svc, "customer.destroy_batch", approval_id)
        if not rows:
            raise Conflict("No archive is past its retention period; nothing was destroyed.")
        numbers = []
        for cid, _number in rows:
            numbers.append(customers.erase_in(tx, int(cid), clean_reason))
            record(tx, numbers[-1])
        tx.audit("customer.destroy_batch", details={"count": len(numbers), "approval": approval,
                                                    "reason": clean_reason})
    after_erase(svc, {n: tx.now for n in numbers})
    return numbers
