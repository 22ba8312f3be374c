"""Grade changes (issue 8, R-GRD-1..4): the grade standard, applications with two approvals, the
apply step (the ONLY writer of ``customer.grade``), the filing with internal control (内管备案),
queues, review periods with bulk filing, home-screen counts and the customer timeline.

Every function takes ``(svc, actor, ...)`` and checks the permission first (a refusal raises
``PermissionDenied`` and leaves a ``permission.denied`` audit row). Separation of duties
(crm_tui/domain/grades.check_duties) is checked on top of the permission; a refusal on those
grounds leaves a ``grade.duty_refused`` audit row. Each step writes its change and its audit entry
in one transaction; reasons and comments go to ``audit_value`` (erasable with the customer).

Permissions (data/roles.toml): grade.view (read, queues), grade.apply (file an application),
grade.approve_chief, grade.approve_deputy, grade.apply_change, grade.acknowledge, grade.review
(review a closed period, bulk filing), grade.period_manage (open/close periods),
grade.standard_edit (the standard).

The use cases, by module: ``common`` (result types, the standard in force, loading rows, duties),
``applications`` (filing, decisions, apply, acknowledge), ``queues`` (one application, queues,
counts, home items, timeline), ``review`` (review periods, candidates, bulk filing),
``grade_standard`` (R-GRD-1 proposals and approvals), ``contacts`` (the contact plan) and
``reports`` (report, export, erasure). Their SQL is in ``crm_tui/store/queries/grades.py``.
Every name stays importable from here.
"""

from __future__ import annotations

from crm_tui.domain import grades as dg
from crm_tui.services.grades.common import (
    QUEUES, ApplicationRow, ApplicationView, BulkResult, Candidate, CandidatePage, Page, Period, Report, Step,
    _app, _calendar, _customer, _d, _dt, _is_late, _me, _names, _parties, _period_row, _policy_codes, _refuse_duty,
    _sess, _standard_in, allowed_actions, contact_days, grade_choices, standard,
)
from crm_tui.services.grades.applications import (
    _decide, _insert_application, _insert_filing, _insert_history, acknowledge, apply_change, approve_chief,
    approve_deputy, file_application, reject_chief, reject_deputy,
)
from crm_tui.services.grades.queues import (
    _STEP_TITLES, _count, _home_items, _queue_where, _rows, _step_comments, _timeline_source, customer_history,
    get_application, queue, queue_counts,
)
from crm_tui.services.grades.review import (
    close_period, file_bulk, mark_reviewed, open_period, periods, review_candidates,
)
from crm_tui.services.grades.grade_standard import (
    STANDARD_STATES, StandardChange, _change_row, _checked_standard, _deny_standard, _standard_dict,
    _write_standard, decide_standard_change, save_standard, standard_as_dict, standard_changes,
)
from crm_tui.services.grades.contacts import ContactDue, contact_plan
from crm_tui.services.grades.reports import _erase_grade_texts, export_report, report
