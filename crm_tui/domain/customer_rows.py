"""Many customer rows checked at once (imports): :func:`domain.customers.validate_customer`'s
answers, with the work that repeats from row to row done once.

A file's rows have the same columns, and their values repeat (genders, tags, the responsible
colleague, addresses, common names). :class:`RowValidator` works out once per set of columns which
fields need a check at all (a field the file has no column for is blank on every row), and
remembers each field check's answer by (kind, field, value): a field's check depends on nothing
else (the day and the archive policy are fixed for a validator; a change of policy empties the
memo). The answers are those of :func:`validate_customer` (``partial`` off, no ``current``):
the same clean values in the same order, the same errors in the same order
(tests/domain/test_customer_rows.py compares them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from crm_tui.domain import customers as c
from crm_tui.domain.errors import ValidationError
from crm_tui.domain.validation import is_blank

_SPECIAL = frozenset(("important", "tags", "staff_contacts", "owner", "name"))  # checked even when absent
_LISTS = frozenset(("tags", "staff_contacts"))  # remembered as tuples, handed out as new lists
MEMO_MAX = 20_000  # answers remembered per field (cleared when full: unique values such as notes do not pile up)


class RowValidator:
    """``validate(raw, kind)`` == ``validate_customer(raw, kind, today)`` for many rows."""

    def __init__(self, today: date) -> None:
        self.today = today
        self._policy: Any = None
        self._memo: dict[tuple[str, str], dict[Any, tuple[bool, Any]]] = {}  # (kind, field) -> value -> answer
        self._shapes: dict[tuple[str, tuple[str, ...]], Any] = {}

    def _shape(self, kind: str, keys: tuple[str, ...]) -> Any:
        """For rows with columns ``keys``: the keys refused by name (in order; "other" ones only
        when not blank), the fields to check (in form order), the clean dict's template."""
        allowed = c.fields_of(kind)
        other = c._ORG_ONLY if kind == "person" else c._PERSON_ONLY
        refused: list[tuple[str, str]] = []
        for key in keys:
            if key in c.READ_ONLY:
                refused.append((key, "read_only"))
            elif key in other:
                refused.append((key, "other"))
            elif key not in allowed:
                refused.append((key, "unknown"))
        present = set(keys)
        checks = [(n, self._memo.setdefault((kind, n), {}), n in _LISTS)
                  for n in allowed if n in present or n in _SPECIAL]
        return refused, checks, dict.fromkeys(allowed)

    def validate(self, raw: Mapping[str, str | None], kind: str) -> tuple[dict[str, Any], list[ValidationError]]:
        if kind not in c.KINDS:
            return c.validate_customer(raw, kind, self.today)
        policy = c.load_policy()
        if policy is not self._policy:  # the answers depend on the policy's choices
            self._policy = policy
            for memo in self._memo.values():
                memo.clear()
        keys = tuple(raw)
        shape = self._shapes.get((kind, keys))
        if shape is None:
            shape = self._shapes[(kind, keys)] = self._shape(kind, keys)
        refused, checks, template = shape
        errors: list[ValidationError] = []
        for key, why in refused:  # as validate_customer's first loop, in the row's key order
            if why == "read_only":
                if key == "grade":
                    errors.append(ValidationError(
                        "grade", "The grade is changed only through a grade change application (R-GRD-4)"))
                else:
                    errors.append(ValidationError(key, "This field cannot be changed"))
            elif why == "other":
                if not is_blank(raw[key]):
                    if kind == "person":
                        errors.append(ValidationError(key, "This field is for organisations only"))
                    else:
                        errors.append(ValidationError(key, "This field is for persons only"))
            else:
                errors.append(ValidationError(key, "Unknown field {field}", field=key))
        clean = template.copy()  # every field of the kind, blank; the checked ones filled below
        for name, memo, is_list in checks:
            value = raw.get(name)
            try:
                hit = memo.get(value)
            except TypeError:  # an unhashable value: checked every time
                hit, memo = None, None  # type: ignore[assignment]
            if hit is None:
                hit = self._check(name, value, kind, policy)
                if memo is not None:
                    if len(memo) >= MEMO_MAX:
                        memo.clear()
                    memo[value] = hit
            if hit[0]:
                clean[name] = list(hit[1]) if is_list else hit[1]  # each row's lists are its own
            else:
                del clean[name]  # as validate_customer: a refused field is not in the clean values
                errors.append(hit[1])
        if kind == "person" and clean.get("id_number"):  # without one _check_id_against_birth does nothing
            c._check_id_against_birth(clean, {}, errors, False)
        return clean, errors

    def _check(self, name: str, value: Any, kind: str, policy: Any) -> tuple[bool, Any]:
        """One field's answer, as validate_customer's second loop: (True, clean value) or
        (False, the error). Lists are kept as tuples (copied out per row)."""
        try:
            if name == "important":
                out: Any = c._bool(value, name)
            elif name == "tags":
                out = tuple(c._tags(value, name))
            elif name == "staff_contacts":
                out = tuple(c._staff_tokens(value, name))
            elif name == "owner":
                tokens = c._staff_tokens(value, name)
                if len(tokens) > 1:
                    raise ValidationError(name, "Name one responsible staff member")
                out = tokens[0] if tokens else None
            elif value is None or is_blank(value):
                if name == "name":
                    raise ValidationError(name, "This field is required")
                out = None
            else:
                if not isinstance(value, str):
                    raise ValidationError(name, "Not a valid value")
                out = c._validator(name, kind, self.today, policy)(value, name)
        except ValidationError as e:
            e.__traceback__ = None  # kept in the memo: no frames held
            return False, e
        return True, out
