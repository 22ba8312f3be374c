"""The archive as the profile pane shows it: labelled lines, flags first, masked values masked."""

from __future__ import annotations

from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services import holidays


def category_label(code: str | None) -> str:
    if not code:
        return ""
    opt = cs.policy().categories.get(code)
    return opt.label if opt else code


def profile_text(view: cs.CustomerView) -> str:
    """The archive as lines of text: label, value; masked values stay masked."""
    from rich.markup import escape

    from crm_tui.domain.customers import FIELD_LABELS

    lines = [f"[b]{escape(view.number)}  {escape(view.name)}[/b]   {_(KIND_LABELS.get(view.kind, view.kind))}"]
    flags = []
    if view.important:
        flags.append(_("important"))
    if view.false_info:
        flags.append(_("false information: {note}", note=view.false_info_note or ""))
    if view.business_stopped:
        flags.append(_("business stopped") + (f": {view.business_stop_note}" if view.business_stop_note else ""))
    if view.phone_inspection_since:
        flags.append(_("phone changed twice in a month: closer inspection due since {date}",
                       date=f"{view.phone_inspection_since:%Y-%m-%d}"))
    if view.owner_disabled:
        flags.append(_("The responsible staff member's account is disabled; hand over"))
    if view.contact_task_due:
        flags.append(_("second staff contact due by {date}", date=f"{view.contact_task_due:%Y-%m-%d}"))
    if view.needs_informing:
        flags.append(_("tell the customer their new contact"))
    if view.erased_at:
        flags.append(_("erased {date}", date=f"{view.erased_at:%Y-%m-%d}"))
    if flags:
        lines.append("[b $warning]" + escape(" · ".join(flags)) + "[/]")
    lines.append(_("Grade: {grade}   Owner: {owner}", grade=view.grade or "-", owner=view.owner or "-"))
    if view.staff_contacts:
        lines.append(_("Other staff in contact: {names}", names="、".join(n for _i, n in view.staff_contacts)))
    for phone in view.phones:
        shared = _(" (shared: {reason})", reason=phone.shared_reason) if phone.shared_reason else ""
        lines.append(f"{_('Phone')}: {escape(phone.number)}{escape(shared)}")
        if phone.shared_signatures:
            lines.append("  " + escape(phone.shared_signatures))
    if view.last_inspection:
        lines.append(escape(_("Last phone-change inspection: {what}", what=view.last_inspection)))
    for name, value in view.values.items():
        if value in (None, "") or name in ("name",):
            continue
        label = _(FIELD_LABELS.get(name, name))
        lines.append(f"{escape(label)}: {escape(_display(name, value))}")
    if view.tags:
        lines.append(f"{_('Tags')}: {escape(' '.join(view.tags))}")
    groups = cs.policy().deadline_groups
    for group, fields in view.missing.items():
        if fields:
            names = "、".join(_(FIELD_LABELS.get(f, f)) for f in fields)
            label = groups[group].label if group in groups else group
            lines.append("[$warning]" + escape(_("Missing ({group}): {fields}", group=label, fields=names)) + "[/]")
    if view.incomplete_due:
        lines.append(_("Complete by {date}", date=f"{view.incomplete_due:%Y-%m-%d}{holidays.mark(view.incomplete_due)}"))
    if view.credit_measures:
        m = view.credit_measures
        lines.append(_("Credit {rating}: limit {limit}, term {days} days, prepayment {pct}%",
                       rating=m.label, limit=f"{m.credit_limit:,}", days=m.term_days, pct=m.prepayment_pct))
    if view.risk_measures:  # R-KPI-2: the rating and the measures it implies
        m = view.risk_measures
        lines.append(escape(_("Risk rating {rating}: limit {limit}, term {days} days, prepayment {pct}%",
                              rating=m.label, limit=f"{m.credit_limit:,}", days=m.term_days, pct=m.prepayment_pct)))
        if m.response:
            lines.append(escape(_("Risk response: {measures}", measures=m.response)))
    for c in view.consents:
        state = _("withdrawn") if c.withdrawn_at else _("given")
        from crm_tui.domain.customers import CONSENT_SCOPES

        scope = _(CONSENT_SCOPES[c.scope]) if c.scope in CONSENT_SCOPES else c.scope
        lines.append(_("Consent {scope}: {state} {date}", scope=scope, state=state, date=c.given_at.isoformat()))
    lines.append(_("Created {at} by {who}; updated {uat} by {uwho}", at=f"{view.created_at:%Y-%m-%d %H:%M}",
                   who=view.created_by, uat=f"{view.updated_at:%Y-%m-%d %H:%M}", uwho=view.updated_by))
    return "\n".join(lines)


KIND_LABELS = {"person": N_("Person"), "org": N_("Organisation")}


def _display(name: str, value: object) -> str:
    p = cs.policy()
    tables = {"category": p.categories, "source": p.sources, "industry": p.industries, "size": p.sizes,
              "credit_rating": p.credit_ratings, "risk_rating": p.risk_ratings}
    if name in tables and str(value) in tables[name]:
        return tables[name][str(value)].label
    if name == "gender":
        from crm_tui.domain.customers import GENDERS

        return _(GENDERS.get(str(value), str(value)))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return, attr-defined]
    return str(value)
