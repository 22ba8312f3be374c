"""The pack as tables (shared by the XLSX and the text versions) and as printable text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crm_tui.domain import reports as dr
from crm_tui.i18n import _
from crm_tui.services.reports.model import Dashboard, Distribution, Pack, RatingRow, ReviewRow, SourceRow, StaffRow


def summary_table(p: Pack) -> tuple[list[str], list[list[Any]]]:
    cur, prev = p.summary, p.previous
    rows = [
        [_("New customers"), cur.new_customers, prev.new_customers],
        [_("Complaints received"), cur.complaints, prev.complaints],
        [_("Complaints within the time limits"), dr.ratio(cur.complaints_within, cur.complaints_decided),
         dr.ratio(prev.complaints_within, prev.complaints_decided)],
        [_("Complaints closed"), cur.complaints_closed, prev.complaints_closed],
        [_("Average handling satisfaction (1-5)"), dr.num(cur.satisfaction, 2), dr.num(prev.satisfaction, 2)],
        [_("Follow-up visits"), cur.visits, prev.visits],
        [_("Follow-up cards opened"), cur.cards_opened, prev.cards_opened],
        [_("Cards won"), cur.cards_won, prev.cards_won],
        [_("Cards lost"), cur.cards_lost, prev.cards_lost],
        [_("Grade changes applied"), cur.grade_changes, prev.grade_changes],
    ]
    return [_("Figure"), _("This period"), _("Previous period")], rows


def weeks_table(p: Pack | Dashboard) -> tuple[list[str], list[list[Any]]]:
    return ([_("Week of"), _("New customers"), _("Complaints"), _("Within limits"), _("Satisfaction"),
             _("Survey score")],
            [[f"{w.week:%m-%d}", w.new_customers, w.complaints, dr.pct(w.within_share), dr.num(w.satisfaction, 2),
              dr.num(w.survey, 2)] for w in p.weeks])


def distribution_table(d: Distribution) -> tuple[list[str], list[list[Any]]]:
    return ([_("Category"), *d.grades, _("Total")],
            [[c, *(d.counts.get((c, g), 0) for g in d.grades), n] for c, n in d.by_category()]
            + [[_("Total"), *(n for _g, n in d.by_grade()), d.total]])


def sources_table(rows: Iterable[SourceRow]) -> tuple[list[str], list[list[Any]]]:
    return ([_("Information source"), _("Cards"), _("Won"), _("Lost"), _("Conversion")],
            [[r.source, r.cards, r.won, r.lost, dr.pct(r.conversion)] for r in rows])


def staff_table(rows: Iterable[StaffRow]) -> tuple[list[str], list[list[Any]]]:
    """R-KPI-1 per staff member. Shares carry their counts (``— (0)`` when there is nothing to
    divide); hours are working hours."""
    return ([_("Staff"), _("Archives"), _("Complete"), _("Past deadline"), _("New archives"), _("Corrections"),
             _("Refused saves"), _("Register lines"), _("Source filled"), _("Visits"), _("Visits on time"),
             _("Overdue cards"), _("Cards won"), _("Cards lost"), _("Tickets registered"), _("Tickets handled"),
             _("Responded in limit"), _("Fed back in limit"), _("Working hours to respond"),
             _("Working hours to feed back"), _("Satisfaction"), _("Grade applications handled")],
            [[r.name, r.archives, dr.ratio(r.complete, r.archives), r.past_deadline, r.new_archives, r.corrections,
              r.refusals, r.register_lines, dr.ratio(r.register_with_source, r.register_lines), r.visits,
              dr.ratio(r.visits_on_time, r.visits_due), r.cards_overdue, r.cards_won, r.cards_lost, r.registered,
              r.tickets, dr.ratio(r.respond_met, r.respond_decided), dr.ratio(r.resolve_met, r.resolve_decided),
              dr.num(r.respond_hours), dr.num(r.resolve_hours), dr.num(r.satisfaction, 2), r.grade_handled]
             for r in rows])


def review_table(rows: Iterable[ReviewRow], title: str) -> tuple[list[str], list[list[Any]]]:
    """One table of the follow-up review (R-FU-5)."""
    return ([title, _("Opened in the period"), _("Existing cards"), _("Total"), _("Visits"), _("Won"), _("Lost")],
            [[r.label, r.new, r.existing, r.total, r.visits, r.won, r.lost] for r in rows])


def ratings_table(rows: Iterable[RatingRow], title: str) -> tuple[list[str], list[list[Any]]]:
    rows = list(rows)
    response = any(r.response for r in rows)  # the risk table: and the risk response (R-KPI-2)
    return ([title, _("Customers"), _("Credit limit (yuan)"), _("Payment term (days)"), _("Prepayment")]
            + ([_("Risk response")] if response else []),
            [[r.label, r.customers, dr.amount(r.credit_limit),
              "—" if r.term_days is None else r.term_days,
              "—" if r.prepayment_pct is None else dr.Figure(f"{r.prepayment_pct}%", r.prepayment_pct / 100, "0%")]
             + ([r.response or "—"] if response else [])
             for r in rows])


def _title(p: Pack) -> str:
    kind = _("Weekly review") if p.period.kind == "week" else _("Monthly review")
    return f"{kind} {p.period.label()}"


def pack_text(p: Pack) -> str:
    """The pack as plain text that prints well: aligned tables (Chinese takes two columns) and
    '#' bar charts, sections separated by blank lines; no colours, no box-drawing characters."""
    out = [_title(p), _("Made {at}", at=f"{p.made_at:%Y-%m-%d %H:%M}"), ""]

    def section(title: str, lines: list[str]) -> None:
        out.extend([title, "=" * max(8, len(title) * 2), *lines, ""])

    section(_("Summary"), dr.text_table(*summary_table(p)))
    section(_("By week"), dr.text_table(*weeks_table(p)))
    section(_("New customers per week"), dr.text_bars([(f"{w.week:%m-%d}", w.new_customers) for w in p.weeks]))
    section(_("Complaints within the time limits per week"),
            dr.text_bars([(f"{w.week:%m-%d}", None if w.within_share is None else round(w.within_share * 100))
                          for w in p.weeks], fmt="{}%"))
    section(_("Complaints by category"), dr.text_table([_("Complaint category"), _("Complaints")],
                                                      [list(r) for r in p.complaint_categories]))
    section(_("Customers by category and grade"), dr.text_table(*distribution_table(p.distribution)))
    if p.review is not None:
        section(_("Follow-up cards: new and existing"), dr.text_table(*review_table([p.review.total], _("Cards"))))
        section(_("Follow-up cards by intent level"), dr.text_table(*review_table(p.review.levels, _("Intent level"))))
        section(_("Follow-up cards by consultant"), dr.text_table(*review_table(p.review.staff, _("Consultant"))))
    section(_("Follow-up conversion by source"), dr.text_table(*sources_table(p.sources)))
    section(_("Staff metrics"), dr.text_table(*staff_table(p.staff)))
    section(_("Credit rating"), dr.text_table(*ratings_table(p.ratings.credit, _("Credit rating"))))
    section(_("Risk rating"), dr.text_table(*ratings_table(p.ratings.risk, _("Risk rating"))))
    return "\n".join(out).rstrip() + "\n"
