"""Writing a dry run's ready rows as one import batch, filling existing archives' blank fields
from duplicate rows on request; one audit entry for the whole import."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from crm_tui.domain.customers import fields_of, needs_sensitive_consent
from crm_tui.domain.errors import ValidationError
from crm_tui.services import customers as cust
from crm_tui.services.context import Actor, Services
from crm_tui.services.importing.batch import _Batch, _cal, _write_rows
from crm_tui.services.importing.model import (
    CONSENT_PURPOSE,
    Duplicate,
    ImportCancelled,
    ImportRefused,
    ImportResult,
    Plan,
    _gc_paused,
)
from crm_tui.store import search_index
from crm_tui.store.queries import importing as q

def run(svc: Services, actor: Actor, p: Plan, *, all_or_nothing: bool = True,
        progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None,
        backup: bool = True, duplicates: str = "list") -> ImportResult:
    """Write the ready rows of a dry run. With ``all_or_nothing`` any bad row refuses the whole
    import. Duplicates of existing customers are never overwritten: ``duplicates="list"`` leaves
    them for decision, ``"fill"`` fills the existing archives' blank fields from the rows (one
    ``customer.update`` audit entry per archive changed, on its timeline). A cancel (``cancel``
    set) or any failure rolls everything back, updates included."""
    with _gc_paused():
        return _run(svc, actor, p, all_or_nothing=all_or_nothing, progress=progress, cancel=cancel, backup=backup,
                    duplicates=duplicates)


def _run(svc: Services, actor: Actor, p: Plan, *, all_or_nothing: bool, progress: Callable[[int, int], None] | None,
         cancel: threading.Event | None, backup: bool, duplicates: str) -> ImportResult:
    svc.require(actor, "import.run")
    if duplicates not in ("list", "fill"):
        raise ValidationError("duplicates", "Choose one of: {options}", options="list, fill")
    if all_or_nothing and p.errors:
        raise ImportRefused("{rows} row(s) have errors; nothing was imported. Correct them, or import only the "
                            "valid rows.", rows=p.bad_rows)
    backup_name = None
    if backup and p.ready:
        from crm_tui.services import backup as backup_svc

        backup_name = backup_svc.auto_backup(svc, "pre-import").path.name
    started = time.monotonic()  # rows per second of the import itself, the backup before excluded
    batch = _Batch(svc, actor, p) if p.ready else None
    try:
        written, raced = _write_rows(svc, actor, p, batch, progress, cancel) if batch else (0, 0)
        with svc.write(actor) as tx:  # the final short step: publish the batch, fill, one audit entry
            if cancel is not None and cancel.is_set():
                raise ImportCancelled("The import was cancelled; nothing was imported.")
            filled = _fill(tx, p.duplicates, _cal(svc)) if duplicates == "fill" else 0
            if batch is not None:
                batch.publish(tx, written)
            tx.audit("customer.import", entity="import", entity_id=p.table.name,
                     details={"file": p.table.name, "sha256": p.table.sha256, "encoding": p.table.encoding,
                              "rows": p.total, "imported": written, "duplicates": len(p.duplicates) + raced,
                              "bad_rows": p.bad_rows, "mapping": p.mapping, "backup": backup_name, "filled": filled,
                              "first_id": batch.first_id if batch and written else None,
                              "last_id": batch.last_id - 1 if batch and written else None,
                              "batch": batch.id if batch else None})
    except BaseException:
        if batch is not None:
            batch.discard()  # short transactions; if this process dies first, the next start does it
        raise
    finally:
        if batch is not None:
            batch.release()
    return ImportResult(written, len(p.duplicates) + raced - filled, p.bad_rows, time.monotonic() - started,
                        backup_name, filled)


_FILLABLE = tuple(f for f in cust._WRITABLE if f not in ("important",))


def _fill(tx: Any, dups: Sequence[Duplicate], cal: Any) -> int:
    """Blank fields of existing archives filled from duplicate rows; returns archives changed."""
    from crm_tui.domain.customers import PERSONAL_FIELDS
    from crm_tui.store.audit import PersonalChange

    changed = 0
    for d in dups:
        cur = cust._load_row(tx, d.existing_id)
        new = {f: d.values[f] for f in _FILLABLE
               if cur.get(f) in (None, "") and d.values.get(f) not in (None, "") and f in fields_of(cur["kind"])}
        if not new:
            continue
        for col in ("id_number", "uscc"):  # unique among live archives (1201): never fill one another holds
            if col in new and q.held_by_another(tx.session, col, new[col], d.existing_id):
                new.pop(col)
        if not new:
            continue
        if needs_sensitive_consent(new) and not d.consent and not cust._has_sensitive_consent(tx, d.existing_id):
            new.pop("id_number", None)
            new.pop("bank_account", None)
            if not new:
                continue
        merged = {**cur, **new}
        phones = len(cust._phones_of(tx, d.existing_id))
        missing, due = cust._completeness({k: merged.get(k) for k in cust._WRITABLE}, cur["kind"],
                                          cust._dt(cur["created_at"]), phones, cal)  # type: ignore[arg-type]
        sets = {**new, "missing_fields": missing, "incomplete_due": due, "updated_at": tx.now,
                "updated_by_id": tx.actor.staff_id, "last_activity_at": tx.now}
        q.update_customer(tx.session, d.existing_id, sets)
        if "id_number" in new or "uscc" in new:
            ph = [r["national"] for r in cust._phones_of(tx, d.existing_id)]
            search_index.replace_terms(tx.session, d.existing_id, cust._terms(cur, ph), cust._terms(merged, ph))
        if d.consent and needs_sensitive_consent(new):
            q.add_sensitive_consent(tx.session, d.existing_id, CONSENT_PURPOSE, tx.now.date(), tx.actor.staff_id,
                                    tx.now)
        tx.audit("customer.update", entity="customer", entity_id=d.existing_id, customer_id=d.existing_id,
                 details={"number": d.existing_number, "source": "import",
                          "changes": {f: [None, cust._plain(v)] for f, v in new.items() if f not in PERSONAL_FIELDS}},
                 personal=[PersonalChange(f, None, cust._personal_text(v)) for f, v in new.items()
                           if f in PERSONAL_FIELDS])
        changed += 1
    return changed

