"""What the reports return: the figures of a week, a period, a staff member, the distributions and
the pack (definitions in the package's docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from crm_tui.domain import reports as dr
from crm_tui.services import home

WEEKS = 12  # weeks of history in the dashboard charts


@dataclass(frozen=True)
class WeekRow:
    week: date  # Monday
    new_customers: int
    complaints: int
    complaints_within: int
    satisfaction: float | None  # complaint return visits
    satisfaction_n: int
    survey: float | None  # satisfaction surveys (R-CUST-15)
    survey_n: int
    complaints_decided: int = 0  # tickets whose time limits are settled (met, missed or overdue now)

    @property
    def within_share(self) -> float | None:
        return dr.share(self.complaints_within, self.complaints_decided)


@dataclass(frozen=True)
class SourceRow:
    source: str  # label
    cards: int
    won: int
    lost: int

    @property
    def conversion(self) -> float | None:
        return dr.share(self.won, self.cards)


@dataclass(frozen=True)
class Distribution:
    """Active customers by category (rows) and grade (columns), labels in the UI language."""

    categories: list[str]
    grades: list[str]
    counts: dict[tuple[str, str], int]

    def by_category(self) -> list[tuple[str, int]]:
        return [(c, sum(self.counts.get((c, g), 0) for g in self.grades)) for c in self.categories]

    def by_grade(self) -> list[tuple[str, int]]:
        return [(g, sum(self.counts.get((c, g), 0) for c in self.categories)) for g in self.grades]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Summary:
    """Headline figures of one period."""

    period: dr.Period
    new_customers: int
    complaints: int
    complaints_within: int
    complaints_decided: int
    complaints_closed: int
    satisfaction: float | None
    visits: int
    cards_opened: int
    cards_won: int
    cards_lost: int
    grade_changes: int

    @property
    def within_share(self) -> float | None:
        """Of the tickets whose limits are settled; none settled yet: no share (a dash), not 100 %."""
        return dr.share(self.complaints_within, self.complaints_decided)


@dataclass
class StaffRow:
    staff_id: int
    name: str
    archives: int = 0
    complete: int = 0
    past_deadline: int = 0
    new_archives: int = 0
    register_lines: int = 0
    register_with_source: int = 0
    visits: int = 0
    visits_due: int = 0
    visits_on_time: int = 0
    cards_overdue: int = 0
    registered: int = 0  # tickets this person registered (received_by)
    tickets: int = 0  # tickets this person handles (assignee)
    respond_decided: int = 0
    respond_met: int = 0
    resolve_decided: int = 0
    resolve_met: int = 0
    respond_hours: float | None = None
    resolve_hours: float | None = None
    satisfaction: float | None = None
    satisfaction_n: int = 0
    grade_filed: int = 0
    grade_approved: int = 0
    grade_applied: int = 0
    cards_won: int = 0  # follow-up results recorded in the period, by the card's consultant
    cards_lost: int = 0
    corrections: int = 0  # fields of this clerk's archives corrected soon after entry (services.accuracy)
    refusals: int = 0  # saves of this clerk refused for invalid fields

    @property
    def completeness(self) -> float | None:
        return dr.share(self.complete, self.archives)

    @property
    def source_share(self) -> float | None:
        return dr.share(self.register_with_source, self.register_lines)

    @property
    def on_time_share(self) -> float | None:
        return dr.share(self.visits_on_time, self.visits_due)

    @property
    def respond_share(self) -> float | None:
        return dr.share(self.respond_met, self.respond_decided)

    @property
    def resolve_share(self) -> float | None:
        return dr.share(self.resolve_met, self.resolve_decided)

    @property
    def grade_handled(self) -> int:
        return self.grade_filed + self.grade_approved + self.grade_applied

    def empty(self) -> bool:
        return not any((self.archives, self.new_archives, self.register_lines, self.visits, self.cards_overdue,
                        self.registered, self.tickets, self.satisfaction_n, self.grade_handled, self.cards_won,
                        self.cards_lost, self.corrections, self.refusals))


@dataclass(frozen=True)
class RatingRow:
    code: str | None  # None: not rated yet
    label: str
    customers: int
    credit_limit: int | None
    term_days: int | None
    prepayment_pct: int | None
    response: str = ""  # risk ratings: the risk response the rating implies (R-KPI-2)


@dataclass(frozen=True)
class Ratings:
    """R-KPI-2: active customers by credit rating and by risk rating, with the measures each implies."""

    credit: list[RatingRow]
    risk: list[RatingRow]


@dataclass(frozen=True)
class ReviewRow:
    """One line of the follow-up review (R-FU-5): cards worked in the period."""

    label: str
    new: int = 0  # opened in the period
    existing: int = 0  # opened before, still open at the period's start
    visits: int = 0
    won: int = 0  # results recorded in the period
    lost: int = 0

    @property
    def total(self) -> int:
        return self.new + self.existing


@dataclass(frozen=True)
class CardReview:
    """The weekly review of follow-up cards (定期盘点, R-FU-5): new against existing cards, cards by
    intent level and per consultant, for the cards open at some time in the period (void cards
    left out). The level is the card's level now."""

    total: ReviewRow
    levels: list[ReviewRow]
    staff: list[ReviewRow]


@dataclass(frozen=True)
class Dashboard:
    today: date
    scope_own: bool  # True: the actor's own customers/cards/tickets only
    items: list[home.WorkItem]
    week: Summary
    weeks: list[WeekRow]
    distribution: Distribution
    sources: list[SourceRow]


@dataclass(frozen=True)
class Pack:
    """The weekly or monthly review pack (定期盘点): the tables and charts above for one period."""

    period: dr.Period
    made_at: datetime
    summary: Summary
    previous: Summary
    weeks: list[WeekRow]
    distribution: Distribution
    sources: list[SourceRow]
    staff: list[StaffRow]
    ratings: Ratings
    complaint_categories: list[tuple[str, int]] = field(default_factory=list)
    review: CardReview | None = None
