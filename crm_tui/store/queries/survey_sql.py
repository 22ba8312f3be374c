"""The SQL of a survey's interval and category filter, shared by store/queries/surveys and
store/queries/summary (a leaf module: both import it, it imports neither)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def survey_filters(prefix: str, default_days: int, by_grade: Mapping[str, int], categories: Sequence[str],
                   params: dict[str, Any]) -> tuple[str, str]:
    """(the survey interval in days of a row's grade, `` AND <category> IN (...)`` or ""), for columns
    named ``<prefix>grade`` / ``<prefix>category``; their parameters go into ``params``. One shape for
    the list and count of store/queries/surveys and the home summary's count
    (store/queries/summary.survey_due_count)."""
    params["default"] = default_days
    cases = []
    for i, (grade, days) in enumerate(sorted(by_grade.items())):
        params[f"g{i}"], params[f"d{i}"] = grade, days
        cases.append(f"WHEN :g{i} THEN :d{i}")
    days_sql = f"CASE {prefix}grade {' '.join(cases)} ELSE :default END" if cases else ":default"
    if not categories:
        return days_sql, ""
    for i, cat in enumerate(categories):
        params[f"k{i}"] = cat
    return days_sql, f" AND {prefix}category IN ({', '.join(f':k{i}' for i in range(len(categories)))})"
