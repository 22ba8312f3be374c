"""Choices and previews for the follow-up forms."""

from __future__ import annotations

from datetime import date


from crm_tui.domain import followups as fd
from crm_tui.domain.customers import load_policy as customer_policy
from crm_tui.services.context import Services
from crm_tui.services.followups.common import calendar

# ------------------------------------------------------------------------------------------------
# Choices for forms
# ------------------------------------------------------------------------------------------------


def level_choices(*, open_only: bool = False) -> list[tuple[str, str]]:
    return [(c, lvl.label) for c, lvl in fd.load_policy().levels.items() if not (open_only and lvl.ends)]


def visit_method_choices() -> list[tuple[str, str]]:
    return [(c, o.label) for c, o in fd.load_policy().visit_methods.items()]


def purchase_method_choices() -> list[tuple[str, str]]:
    return [(c, o.label) for c, o in fd.load_policy().purchase_methods.items()]


def source_choices() -> list[tuple[str, str]]:
    return [(c, o.label) for c, o in customer_policy().sources.items()]


def source_label(code: str | None) -> str:
    opt = customer_policy().sources.get(code or "")
    return opt.label if opt else (code or "")


def method_label(code: str) -> str:
    opt = fd.load_policy().visit_methods.get(code)
    return opt.label if opt else code


def preview_next_due(svc: Services, level: str, day: date | None = None) -> date | None:
    """The next visit date a visit today (or on ``day``) at ``level`` would set (for the form)."""
    lvl = fd.load_policy().levels.get(level)
    if lvl is None:
        return None
    return fd.next_visit_due(calendar(svc), day or svc.now().date(), lvl)
