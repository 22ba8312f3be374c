"""The archive's history (timeline): registered sources, masked for the viewer."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain import masking
from crm_tui.domain.customers import (
    CONSENT_SCOPES,
    FIELD_LABELS,
    GENDERS,
    load_policy,
)
from crm_tui.i18n import N_, _
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.customers.common import (
    _audit_unmasked,
    _dt,
    _load_areas,
    _load_row,
    _phones_of,
    _sess,
    _staff_of,
    _visibility,
)
from crm_tui.services.customers.model import TimelineEntry
from crm_tui.store.queries import customers_history as qh

# ------------------------------------------------------------------------------------------------
# Timeline
# ------------------------------------------------------------------------------------------------

#: (session, customer_id, before (entries at or before it; None = newest), limit) -> entries.
TimelineSource = Callable[[Session, int, datetime | None, int], list[TimelineEntry]]
_TIMELINE: dict[str, TimelineSource] = {}


def register_timeline_source(name: str) -> Callable[[TimelineSource], TimelineSource]:
    """Register a source of timeline entries (follow-ups, complaints, grade changes add theirs).

    A source returns at most ``limit`` entries of one customer, newest first, none later than
    ``before``; set ``key`` with :func:`timeline_key` so paging is stable.
    """
    def deco(fn: TimelineSource) -> TimelineSource:
        _TIMELINE[name] = fn
        return fn

    return deco


def timeline_key(at: datetime, kind: str, ident: int) -> str:
    return f"{at.isoformat(sep=' ', timespec='microseconds')}|{kind}|{ident:012d}"


def timeline(svc: Services, actor: Actor, customer_id: int, *, before: str | None = None,
             limit: int = 100) -> list[TimelineEntry]:
    """Everything that happened to the customer, newest first: field changes (old -> new),
    contacts, consents, handovers and whatever later areas register. Page with
    ``before=<last entry's key>``. Needs customer.view."""
    entries, shown, number = _timeline(svc, actor, customer_id, before, limit)
    if shown:
        _audit_unmasked(svc, actor, customer_id, number, shown, "history")
    return entries


def _timeline(svc: Services, actor: Actor, customer_id: int, before: str | None,
              limit: int) -> tuple[list[TimelineEntry], list[str], str]:
    """(entries as ``actor`` may see them, the sensitive fields they show whole, the archive's number)."""
    svc.require(actor, "customer.view")
    _load_areas()
    limit = max(1, min(limit, 500))
    before_at = _dt(before.split("|", 1)[0]) if before else None
    entries: list[TimelineEntry] = []
    with svc.store.read() as s:
        row = _load_row(s, customer_id, allow_erased=True)
        for source in _TIMELINE.values():
            entries.extend(source(s, customer_id, before_at, limit + 1))
        vis = _visibility(actor, row["owner_id"], _staff_of(s, customer_id))
        known = _known_sensitive(s, customer_id, row)
    if before:
        entries = [e for e in entries if e.key < before]
    entries.sort(key=lambda e: e.key, reverse=True)
    entries, shown = _apply_policy(entries[:limit], vis, known)
    return entries, shown, str(row["number"])


def _known_sensitive(s: Session, customer_id: int, row: Mapping[str, Any]) -> dict[str, list[str]]:
    """The customer's sensitive values, present and past (history keeps the old ones)."""
    known: dict[str, list[str]] = {f_: [] for f_ in masking.SENSITIVE_FIELDS}
    for f_ in (masking.ID_NUMBER, masking.BANK_ACCOUNT):
        if row.get(f_):
            known[f_].append(str(row[f_]))
    known[masking.PHONES] += [p["national"] for p in _phones_of(s, customer_id)]
    for field, old, new in qh.past_sensitive(s, customer_id):
        known[field] += [v for v in (old, new) if v]
    return known


def text_policy(s: Session | Tx, actor: Actor, customer_id: int) -> Callable[[Any], Any]:
    """How free text about one customer typed outside the archive (a complaint, feedback, a note)
    reads under ``domain.masking``: the customer's values, present and past, and anything shaped like
    an ID number, phone or account, masked for every viewer. Whole values show only in the archive's
    own audited views (its history holds these texts too); ``actor`` is for the record."""
    row = _load_row(s, customer_id, allow_erased=True)
    scrub = masking.scrubber(masking.LISTING, _known_sensitive(_sess(s), customer_id, row))
    assert scrub is not None
    return scrub.value


def _apply_policy(entries: list[TimelineEntry], vis: masking.Visibility,
                  known: Mapping[str, list[str]]) -> tuple[list[TimelineEntry], list[str]]:
    """(entries as this viewer may see them, the sensitive fields they show whole)."""
    from dataclasses import replace

    if vis.any_masked:
        scrub = masking.Scrubber({f_: v for f_, v in known.items() if vis.masked(f_)})
        return [replace(e, title=scrub.text(e.title), body=scrub.text(e.body)) for e in entries], []
    shown = []
    for f_, values in known.items():
        probe = masking.Scrubber({f_: values})
        if values and any(probe.text(e.body) != e.body or probe.text(e.title) != e.title for e in entries):
            shown.append(f_)
    return entries, shown


_EXTRA_LABELS = {"shared_reason": N_("Reason for the shared phone"), "inspection_result": N_("Inspection result"),
                 "business_stop_note": N_("Why business was stopped"),
                 "phone_inspection": N_("Closer inspection due (phone changed twice)"),
                 "business_stopped": N_("Business stopped"), "false_info": N_("False information")}


def _label(field_name: str) -> str:
    return _(FIELD_LABELS.get(field_name) or _EXTRA_LABELS.get(field_name, field_name))


def _value_text(field_name: str, v: Any) -> str:
    if v is None or v == "" or v == []:
        return "—"
    pol = load_policy()
    tables: dict[str, Mapping[str, Any]] = {
        "category": pol.categories, "industry": pol.industries, "size": pol.sizes, "source": pol.sources,
        "credit_rating": pol.credit_ratings, "risk_rating": pol.risk_ratings,
    }
    if field_name in tables and v in tables[field_name]:
        return tables[field_name][v].label
    if field_name == "gender" and v in GENDERS:
        return _(GENDERS[v])
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if isinstance(v, list):
        return ", ".join(str(x) for x in v) or "—"
    return str(v)


_AUDIT_TITLES = {
    "customer.create": N_("Archive created"),
    "customer.update": N_("Archive changed"),
    "customer.false_info": N_("Marked as having given false information"),
    "customer.false_info_cleared": N_("False information mark lifted"),
    "customer.informed": N_("Customer told of the new contact person"),
    "customer.shared_phone_approved": N_("Shared phone approved"),
    "customer.shared_phone_signed": N_("Shared phone signed"),
    "customer.shared_phone_filed": N_("Shared phone filed with internal control"),
    "customer.shared_phone_joined": N_("Phone now shared with another customer; review due"),
    "customer.phone_inspected": N_("Closer inspection recorded (phone changed twice)"),
    "customer.business_stopped": N_("Business stopped"),
    "customer.business_resumed": N_("Business resumed"),
    "customer.erase": N_("Personal data erased"),
    "customer.consent_withdrawn": N_("Consent withdrawn"),
}


@register_timeline_source("change")
def _audit_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    rows = qh.audit_entries(s, customer_id, _AUDIT_TITLES, before, limit)
    if not rows:
        return []
    values: dict[int, dict[str, tuple[str | None, str | None]]] = {}
    for v in qh.audit_values(s, [r[0] for r in rows]):
        values.setdefault(v[0], {})[v[1]] = (v[2], v[3])
    users = {r[2] for r in rows}
    display = qh.staff_display_names(s, users) if users else {}
    out = []
    for audit_id, at, actor_name, action, details_json in rows:
        details = json.loads(details_json or "{}")
        lines = []
        for f_, (old, new) in sorted((details.get("changes") or {}).items()):
            lines.append(f"{_label(f_)}: {_value_text(f_, old)} → {_value_text(f_, new)}")
        # The fields: the commitments' keys, or (a row stored without them, issue 22) its values'.
        for f_ in sorted({*(details.get("personal") or {}), *values.get(audit_id, {})}):
            if f_ in values.get(audit_id, {}):
                old, new = values[audit_id][f_]
                lines.append(f"{_label(f_)}: {_value_text(f_, old)} → {_value_text(f_, new)}")
            else:
                lines.append(f"{_label(f_)}: " + _("(value erased)"))
        if "informed" in details:
            lines.append(_("Customer informed / consented: {answer}",
                           answer=_("yes") if details["informed"] else _("no")))
        if action == "customer.erase" and details.get("reason"):
            lines.append(_("Reason: {reason}", reason=details["reason"]))
        at_ = _dt(at)
        assert at_ is not None
        out.append(TimelineEntry(at_, "change", _(_AUDIT_TITLES[action]), "\n".join(lines),
                                 display.get(actor_name, actor_name), timeline_key(at_, "change", audit_id)))
    return out


@register_timeline_source("contact")
def _contact_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    rows = qh.contact_entries(s, customer_id, before, limit)
    methods = load_policy().contact_methods
    out = []
    for cid, at, method, participants, summary, feedback, next_action, staff in rows:
        lines = [summary or _("(summary erased)")]
        if participants:
            lines.append(_("Participants: {who}", who=participants))
        if feedback:
            lines.append(_("Customer feedback: {text}", text=feedback))
        if next_action:
            lines.append(_("Next action: {text}", text=next_action))
        at_ = _dt(at)
        assert at_ is not None
        title = methods[method].label if method in methods else method
        out.append(TimelineEntry(at_, "contact", title, "\n".join(lines), staff or "",
                                 timeline_key(at_, "contact", cid)))
    return out


@register_timeline_source("consent")
def _consent_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    rows = qh.consent_entries(s, customer_id, limit)
    methods = load_policy().consent_methods
    out = []
    for cid, purpose, scope, method, given_at, withdrawn_at, recorded_at, staff in rows:
        scope_label = _(CONSENT_SCOPES.get(scope, scope))
        how = methods[method].label if method in methods else method
        at_ = _dt(recorded_at)
        assert at_ is not None
        body = _("Purpose: {purpose}; given {date} ({how})", purpose=purpose or "—",
                 date=str(given_at)[:10], how=how)
        out.append(TimelineEntry(at_, "consent", _("Consent recorded: {scope}", scope=scope_label), body,
                                 staff or "", timeline_key(at_, "consent", cid)))
        w = _dt(withdrawn_at)
        if w is not None:
            out.append(TimelineEntry(w, "consent", _("Consent withdrawn: {scope}", scope=scope_label), "",
                                     staff or "", timeline_key(w, "consent-w", cid)))
    return [e for e in out if before is None or e.at <= before]


@register_timeline_source("handover")
def _handover_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    rows = qh.handover_entries(s, customer_id, limit)
    out = []
    for hid, at, a, b, note, by, informed_at in rows:
        at_ = _dt(at)
        assert at_ is not None
        body = note or ""
        if informed_at:
            body = (body + "\n" if body else "") + _("Customer told on {date}", date=str(informed_at)[:10])
        out.append(TimelineEntry(at_, "handover", _("Handed over from {old} to {new}", old=a, new=b), body,
                                 by or "", timeline_key(at_, "handover", hid)))
    return [e for e in out if before is None or e.at <= before]
