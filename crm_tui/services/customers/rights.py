"""Customer rights (R-CUST-13): one customer's data export, erasure, vacuum, past retention."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain import masking
from crm_tui.domain.customers import (
    FIELD_LABELS,
    PERSONAL_FIELDS,
    fields_of,
    load_policy,
    mask_phone,
)
from crm_tui.domain.errors import ValidationError
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import _
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.customers.common import (
    _display_phone,
    _dt,
    _load_areas,
    _load_row,
    _phones_of,
    _plain,
    _staff_names,
    _staff_of,
    _tags_of,
    _terms,
    _unshare_lonely,
    _visibility,
)
from crm_tui.services.customers.history import _TIMELINE, _apply_policy, _known_sensitive, _label, _value_text
from crm_tui.services.customers.listing import _rows
from crm_tui.services.customers.model import TimelineEntry, WatchPage, WatchRow
from crm_tui.services.files import private_file
from crm_tui.store import search_index
from crm_tui.store.queries import customers_history as qh
from crm_tui.store.queries import customers_lists as ql

# ------------------------------------------------------------------------------------------------
# Customer rights (R-CUST-13) and the list export (R-CUST-12)
# ------------------------------------------------------------------------------------------------


def _full_record(s: Session, customer_id: int, actor: Actor) -> tuple[dict[str, Any], list[str]]:
    """(the customer's data as ``actor`` may see it, the sensitive fields it holds whole)."""
    row = _load_row(s, customer_id)
    vis = _visibility(actor, row["owner_id"], _staff_of(s, customer_id))
    names = _staff_names(s, [row["owner_id"], *_staff_of(s, customer_id)])
    archive = {f_: _plain(row.get(f_)) for f_ in fields_of(row["kind"])
               if f_ not in ("owner", "staff_contacts", "tags")}
    archive.update(number=row["number"], kind=row["kind"], grade=row["grade"], owner=names.get(row["owner_id"]),
                   staff_contacts=[names.get(i) for i in _staff_of(s, customer_id)], tags=_tags_of(s, customer_id),
                   false_info=row["false_info"], false_info_note=row["false_info_note"],
                   business_stopped=row["business_stopped"], created_at=_plain(_dt(row["created_at"])),
                   updated_at=_plain(_dt(row["updated_at"])))
    for f_ in (masking.ID_NUMBER, masking.BANK_ACCOUNT):
        if archive.get(f_) and vis.masked(f_):
            archive[f_] = masking.mask(f_, archive[f_])
    phones = [{"number": mask_phone(p["national"]) if vis.masked(masking.PHONES) else _display_phone(p["national"]),
               "kind": p["kind"], "label": p["label"], "primary": bool(p["is_primary"]),
               "shared_reason": p["shared_reason"]} for p in _phones_of(s, customer_id)]
    consents = [dict(zip(("purpose", "scope", "method", "given_at", "withdrawn_at"), (r[0], r[1], r[2], str(r[3]),
                                                                                    r[4] and str(r[4]))))
                for r in qh.export_consents(s, customer_id)]
    contacts = [dict(zip(("at", "method", "participants", "summary", "feedback", "next_action"),
                         (str(r[0]), *r[1:])))
                for r in qh.export_contacts(s, customer_id)]
    history: list[TimelineEntry] = []
    for source in _TIMELINE.values():
        history.extend(source(s, customer_id, None, 100_000))
    history.sort(key=lambda e: e.key)
    known = _known_sensitive(s, customer_id, row)
    history, _shown = _apply_policy(history, vis, known)
    if vis.any_masked:
        scrub = masking.Scrubber({f_: v for f_, v in known.items() if vis.masked(f_)})
        contacts = [scrub.value(c) for c in contacts]
    shown = [f_ for f_ in vis.whole if known.get(f_)]
    return {"archive": archive, "phones": phones, "consents": consents, "contacts": contacts,
            "history": [{"at": _plain(e.at), "kind": e.kind, "title": e.title, "body": e.body, "staff": e.staff}
                        for e in history]}, shown


def export_customer(svc: Services, actor: Actor, customer_id: int, path: str | Path, fmt: str = "json") -> Path:
    """Write one customer's complete data (archive, phones, consents, contacts, history) to
    ``path`` as JSON or XLSX (0600), for the customer's right to see their data. Needs
    customer.export_one; audited (with the sensitive fields written whole). The masking policy
    holds here too: values the exporter may not see by default are masked, in the history too."""
    svc.require(actor, "customer.export_one", customer=customer_id)
    if fmt not in ("json", "xlsx"):
        raise ValidationError("fmt", "Choose one of: {options}", options="json, xlsx")
    target = Path(path)
    with svc.store.read() as s:
        record, shown = _full_record(s, customer_id, actor)
    if fmt == "json":
        with private_file(target, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, indent=2, default=str))
    else:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = _("Archive")[:31]
        for k, v in record["archive"].items():
            ws.append([_label(k) if k in FIELD_LABELS else k, _value_text(k, v)])
        for title, key in ((_("Phones"), "phones"), (_("Consents"), "consents"), (_("Contacts"), "contacts"),
                           (_("History"), "history")):
            sheet = wb.create_sheet(title[:31])
            items = record[key]
            if items:
                cols = list(items[0])
                sheet.append(cols)
                for it in items:
                    sheet.append([_value_text(c, it[c]) if not isinstance(it[c], str) else it[c] for c in cols])
        with private_file(target) as fh:
            wb.save(fh)
    with svc.write(actor) as tx:
        tx.audit("customer.export_one", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": record["archive"]["number"], "format": fmt, "unmasked": sorted(shown)})
    return target


#: Other areas' personal texts about a customer (complaints, feedback, ...), destroyed with the archive:
#: (tx, customer_id) -> names of what was cleared. Areas register with :func:`register_erase_hook`.
EraseHook = Callable[[Tx, int], list[str]]
_ERASE_HOOKS: dict[str, EraseHook] = {}


def register_erase_hook(name: str) -> Callable[[EraseHook], EraseHook]:
    def deco(fn: EraseHook) -> EraseHook:
        _ERASE_HOOKS[name] = fn
        return fn

    return deco


def erase_customer(svc: Services, actor: Actor, customer_id: int, reason: str, *,
                   approval_id: int | None = None) -> None:
    """Destroy the customer's personal data (R-CUST-13): personal fields emptied, phones deleted,
    consent purposes and contact-log texts removed, the personal values in the audit trail and the
    search terms purged; the number, classification and counts stay for statistics, and the audit
    chain still verifies. Needs customer.erase and, when the setting asks for it, an approved
    request (``approval_id``, R-SEC-2). Do not write the customer's name in ``reason``.
    Every connection has ``secure_delete`` on, and the WAL is checkpointed (TRUNCATE) afterwards;
    the customer number goes into the erasure ledger, re-applied after any restore."""
    from crm_tui.services import approvals, erasure

    svc.require(actor, "customer.erase", customer=customer_id)
    clean_reason = clean_text(reason, "reason", max_len=500, required=True)
    _load_areas()
    with svc.write(actor) as tx:
        number = str(_load_row(tx, customer_id)["number"])
        approvals.use(tx, svc, "customer.erase", approval_id, number)
        erase_in(tx, customer_id, clean_reason)
        erasure.record(tx, number)
    erasure.after_erase(svc, {number: tx.now})


def erase_in(tx: Tx, customer_id: int, clean_reason: str, *, action: str = "customer.erase") -> str:
    """The erasure itself, inside the caller's transaction (also used to re-apply the erasure
    ledger after a restore, services.erasure). Returns the customer number."""
    _load_areas()
    cur = _load_row(tx, customer_id)
    phones = [p["national"] for p in _phones_of(tx, customer_id)]
    search_index.remove_terms(tx.session, customer_id, _terms(cur, phones))
    cleared = sorted(f_ for f_ in PERSONAL_FIELDS if f_ != "phones" and cur.get(f_)) + (["phones"] if phones else [])
    ql.erase_rows(tx.session, customer_id, PERSONAL_FIELDS, tx.actor.staff_id, tx.now)
    _unshare_lonely(tx, phones)
    ql.erase_parts(tx.session, customer_id, tx.now)
    for hook in _ERASE_HOOKS.values():
        cleared += hook(tx, customer_id)
    tx.audit(action, entity="customer", entity_id=customer_id, customer_id=customer_id,
             details={"number": cur["number"], "reason": clean_reason, "fields": cleared})
    return str(cur["number"])


def vacuum(svc: Services, actor: Actor) -> None:
    """Rewrite the database file so erased data leaves no trace in free pages or the WAL.
    Takes a while on a large file and blocks other writers meanwhile. Needs customer.erase."""
    svc.require(actor, "customer.erase")
    ql.vacuum(svc.store.engine)
    with svc.write(actor) as tx:
        tx.audit("database.vacuum")


def past_retention(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> WatchPage:
    """Archives with no activity for the policy's retention period, to be erased (R-CUST-13).
    Needs customer.erase."""
    svc.require(actor, "customer.erase")
    years = load_policy().retention_years
    now = svc.now()
    try:
        cutoff = now.replace(year=now.year - years)
    except ValueError:  # 29 February
        cutoff = now.replace(year=now.year - years, day=28)
    with svc.store.read() as s:
        rows, nxt = ql.past_retention_page(s, cutoff.isoformat(sep=" ", timespec="microseconds"), cursor, limit)
        crow = {r.id: r for r in _rows(s, [r[1] for r in rows])}
    return WatchPage([WatchRow(crow[r[1]], _("Last activity {date}", date=str(r[0])[:10]), _dt(r[0]))
                      for r in rows if r[1] in crow], nxt)
