"""The weekly review (定期盘点, R-FU-5) and its export."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from crm_tui.domain import followups as fd
from crm_tui.domain.customers import load_policy as customer_policy
from crm_tui.i18n import _
from crm_tui.services.context import Actor, Services
from crm_tui.services.files import private_file
from crm_tui.services.followups.common import ReviewRow, SourceRow, WeeklyReview, week_bounds
from crm_tui.store.queries.followups import stats as qs

# ------------------------------------------------------------------------------------------------
# Weekly review (R-FU-5)
# ------------------------------------------------------------------------------------------------


def weekly_review(svc: Services, actor: Actor, week_of: date | None = None) -> WeeklyReview:
    """定期盘点: open cards by intent level and consultant, new cards and visits in the week, overdue
    count (as of the week's end or today), and conversion by information source (cards opened in
    the week, won / lost). Needs followup.supervise."""
    svc.require(actor, "followup.supervise")
    today = svc.now().date()
    start, end = week_bounds(week_of or today)
    asof = min(end, today)
    levels = [c for c, lvl in fd.load_policy().levels.items() if not lvl.ends]
    with svc.store.read() as s:
        staff_rows: dict[int, dict[str, Any]] = {}

        def row(sid: int, name: str) -> dict[str, Any]:
            return staff_rows.setdefault(sid, {"name": name, "levels": {}, "open": 0, "new": 0, "visits": 0,
                                               "overdue": 0})

        for sid, name, lvl, n, late in qs.open_cards_by_owner_level(s, asof.isoformat()):
            r = row(sid, name)
            r["levels"][lvl] = int(n)
            r["open"] += int(n)
            r["overdue"] += int(late or 0)
        for sid, name, n in qs.new_cards_by_owner(s, start.isoformat(), end.isoformat()):
            row(sid, name)["new"] = int(n)
        for sid, name, n in qs.visits_by_staff(s, start.isoformat(), (end + timedelta(days=1)).isoformat()):
            row(sid, name)["visits"] = int(n)
        # R-FU-5: under the week's heading, the cards opened in that week (not every card before it).
        src = qs.cards_by_source(s, start.isoformat(), end.isoformat())
        from crm_tui.domain.reports import Period
        from crm_tui.services.reports import card_review

        cards = card_review(s, Period.of("week", start))
    sources = customer_policy().sources
    return WeeklyReview(
        week_start=start, week_end=end, levels=levels, cards=cards,
        staff=[ReviewRow(r["name"], r["levels"], r["open"], r["new"], r["visits"], r["overdue"])
               for _sid, r in sorted(staff_rows.items())],
        sources=[SourceRow(sources[c].label if c in sources else (c or "—"), int(n), int(w or 0), int(lo or 0))
                 for c, n, w, lo in src])


def export_review(svc: Services, actor: Actor, path: str | Path, week_of: date | None = None) -> Path:
    """The weekly review as an XLSX workbook (two sheets). Audited."""
    review = weekly_review(svc, actor, week_of)
    from openpyxl import Workbook

    target = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = _("By consultant")[:31]
    ws.append([_("Week {start} to {end}", start=review.week_start.isoformat(), end=review.week_end.isoformat())])
    ws.append([_("Consultant"), *review.levels, _("Open cards"), _("New cards"), _("Visits"), _("Overdue"),
               _("Overdue rate")])
    for r in review.staff:
        ws.append([r.staff, *(r.by_level.get(lvl, 0) for lvl in review.levels), r.open_cards, r.new_cards, r.visits,
                   r.overdue, round(r.overdue_rate, 3)])
    ws2 = wb.create_sheet(_("By source")[:31])
    ws2.append([_("Information source"), _("Cards"), _("Won"), _("Lost"), _("Conversion")])
    for sr in review.sources:
        ws2.append([sr.source, sr.cards, sr.won, sr.lost, round(sr.conversion, 3)])
    with private_file(target) as fh:
        wb.save(fh)
    with svc.write(actor) as tx:
        tx.audit("followup.review_export", details={"week": review.week_start.isoformat(), "file": target.name})
    return target

