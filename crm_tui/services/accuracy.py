"""Accuracy of information entry (R-KPI-1): refused saves are recorded, corrections are counted.

Definitions come from ``data/metrics.toml`` [accuracy]:

- A *refusal* is a save of one of ``refused_forms`` that the services refused with validation
  errors (the message shown next to the field). It is recorded as one audit line
  ``entry.refused`` (the form and the names of the refused fields; never the typed values), in a
  transaction of its own, so nothing of the refused record is written. Counted per clerk who tried.
- A *correction* is a field of an archive changed (``customer.update``) within ``correction_days``
  of the archive's entry, fields in ``ignore_fields`` left out. Counted per clerk who entered the
  archive, whoever corrected it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from crm_tui.domain import config
from crm_tui.domain.errors import CrmError, ValidationErrors
from crm_tui.services.context import Actor, Services

REFUSED = "entry.refused"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class AccuracyRules:
    correction_days: int
    ignore_fields: tuple[str, ...]
    refused_forms: tuple[str, ...]


@cache
def rules() -> AccuracyRules:
    raw = config.load("metrics.toml")["accuracy"]
    return AccuracyRules(int(raw["correction_days"]), tuple(raw.get("ignore_fields", ())),
                         tuple(raw.get("refused_forms", ())))


def record_refusal(svc: Services, actor: Actor, form: str, errors: ValidationErrors) -> None:
    """One audit line for a refused save (the form and the refused fields' names)."""
    if form not in rules().refused_forms or actor.staff_id is None:
        return
    fields = sorted({e.field for e in errors.errors if getattr(e, "field", None)})
    try:
        with svc.write(actor) as tx:
            tx.audit(REFUSED, entity="form", entity_id=form, details={"form": form, "fields": fields})
    except (CrmError, SQLAlchemyError):
        pass  # the refusal the clerk sees matters more than its count


def refusals_recorded(form: str) -> Callable[[F], F]:
    """Decorate a service ``fn(svc, actor, ...)``: a ValidationErrors it raises is recorded first."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(svc: Services, actor: Actor, *args: Any, **kwargs: Any) -> Any:
            try:
                return fn(svc, actor, *args, **kwargs)
            except ValidationErrors as e:
                record_refusal(svc, actor, form, e)
                raise

        return inner  # type: ignore[return-value]

    return wrap
