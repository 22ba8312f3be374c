"""Dashboard, staff metrics and the periodic review pack (R-KPI-1, R-KPI-2, R-FU-5, R-CMP-6).

Every figure is a SQL aggregate (GROUP BY over indexed ranges); Python only arranges the few
grouped rows. Definitions, so a number can be checked by hand:

- New customers: archives created in the week (erased ones still count: anonymous statistics).
- Complaints within limits: of the tickets received in the week, those whose respond and resolve
  limits were not missed and are not running past their deadline now.
- Satisfaction: average 1-5 score of complaint return visits made in the week (R-CMP-6), and of
  satisfaction surveys recorded in the week (R-CUST-15).
- Follow-up conversion by source: cards opened (card date) in the period (the pack) or the twelve
  weeks (the dashboard's chart), not void; won / cards.
- Archive completeness: the staff member's active customers with no required field missing;
  past deadline: incomplete archives whose maintenance deadline has passed (R-CUST-9).
- Visits on time: visits in the period that had a due date (set by the previous visit) and were
  made on or before it (R-FU-3). A card's first visit has no earlier due date and is not counted.
- Response / feedback hours (R-KPI-1): WORKING hours (branch calendar, business hours of
  data/complaints.toml, pauses left out) from receipt to assignment, and to the result fed back
  summed over every round (receipt -> feedback, each reopen -> the next feedback), so a reopen
  keeps the hours already spent; averaged over the handler's tickets received in the period. The
  within-limit shares use the working-hour limits the complaint service keeps (respond_met /
  resolve_met), of the tickets whose limits are settled: a ticket still inside its limits is
  neither within nor outside, and with none settled the share is a dash with its count, "— (0)".
- Registered / handled: tickets by who registered them (received_by) and by who handles them.
- Results per consultant: cards won / lost in the period (closed_at), by the card's owner; the
  summary's 成交/战败 count the same way, 新建 the cards opened in the period (R-FU-5).
- Accuracy: corrections and refused saves per clerk, as services/accuracy.py defines them.
- Follow-up review (R-FU-5): cards open at some time in the period, new (opened in it) against
  existing, by intent level and by consultant, with the period's visits and results.

Branch figures need ``report.view``; without it the dashboard shows the actor's own customers,
cards and tickets only.
"""

from __future__ import annotations

from crm_tui.i18n import N_
from crm_tui.services.context import PERMISSION_LABELS

PERMISSION_LABELS.setdefault("report.view", N_("view reports"))

from crm_tui.services.reports.model import (  # noqa: E402, F401
    WEEKS,
    CardReview,
    Dashboard,
    Distribution,
    Pack,
    RatingRow,
    Ratings,
    ReviewRow,
    SourceRow,
    StaffRow,
    Summary,
    WeekRow,
)
from crm_tui.services.reports.figures import (  # noqa: E402, F401
    _AVERAGES,
    _calendar,
    _complaint_categories,
    _counts,
    _distribution,
    _dt,
    _ratings,
    _sources,
    _staff,
    _summary,
    _ticket_hours,
    _ts,
    _weeks,
    card_review,
    dashboard,
    pack,
    ratings,
    staff_metrics,
)
from crm_tui.services.reports.tables import (  # noqa: E402, F401
    _title,
    distribution_table,
    pack_text,
    ratings_table,
    review_table,
    sources_table,
    staff_table,
    summary_table,
    weeks_table,
)
from crm_tui.services.reports.export import _cell, _target, _widths, _write_error, export_text, export_xlsx  # noqa: E402, F401

__all__ = [
    "WEEKS", "CardReview", "Dashboard", "Distribution", "Pack", "RatingRow", "Ratings", "ReviewRow", "SourceRow",
    "StaffRow", "Summary", "WeekRow", "card_review", "dashboard", "distribution_table", "export_text", "export_xlsx",
    "pack", "pack_text", "ratings", "ratings_table", "review_table", "sources_table", "staff_metrics", "staff_table",
    "summary_table", "weeks_table",
]
