"""The masking policy (R-SEC-2 least privilege, R-CUST-6 sensitive items, R-SEC-3 audited views).

One policy decides, by field, role (its permissions) and the viewer's relation to the customer,
whether a sensitive value is shown whole or masked. The services apply it to every output: the
archive and its edit form, the history, search rows, exports, the audit trail, notifications.

- Sensitive fields: the ID number, the bank account, the phones.
- A role without ``customer.view_sensitive`` (front desk, internal control, administrators) never
  sees them whole, not even through a reveal.
- A role with it sees them whole by default only for the customers it is responsible for (owner)
  or in contact with (other staff in contact); an A/B cover counts as the absent colleague.
  For every other customer the values are masked, and an explicit reveal (a reason, an audit row,
  that view only) shows one of them.
- Lists (search rows, the front-desk register's lines, list exports) show every sensitive value
  masked, for every role: a value is seen whole only in one record's own view (an archive, its
  edit form, its history, one customer's export, one register line), where that view is audited.
- A front-desk register line (来店/来电登记) follows its archive once linked to one; before that the
  line's consultant stands where the owner would (they follow the visitor up).
- Free text (history lines, contact notes, audit details) is scrubbed: the customer's own
  sensitive values, present and past, and anything shaped like an ID number, a mobile phone or a
  bank account, are masked for a viewer who may not see them.

Pure: no Textual, no SQLAlchemy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crm_tui.domain.customers import mask_bank_account
from crm_tui.domain.validation import mask_id_number, mask_phone

#: The sensitive fields, as the services name them (``phones`` = every phone of the archive).
ID_NUMBER = "id_number"
BANK_ACCOUNT = "bank_account"
PHONES = "phones"
SENSITIVE_FIELDS = (ID_NUMBER, BANK_ACCOUNT, PHONES)

OWNER = "owner"
CONTACT = "contact"  # one of the other staff in contact (R-CUST-10)
OTHER = "other"
RELATIONS = (OWNER, CONTACT, OTHER)

VIEW_PERMISSION = "customer.view_sensitive"

#: field -> the relations for which a role holding VIEW_PERMISSION sees the value whole by default.
DEFAULT_UNMASKED: Mapping[str, frozenset[str]] = {
    ID_NUMBER: frozenset({OWNER, CONTACT}),
    BANK_ACCOUNT: frozenset({OWNER, CONTACT}),
    PHONES: frozenset({OWNER, CONTACT}),
}
#: field -> the relations for which such a role may reveal the value (with a reason, audited).
REVEALABLE: Mapping[str, frozenset[str]] = {f: frozenset(RELATIONS) for f in SENSITIVE_FIELDS}


def relation(staff_ids: Iterable[int | None], owner_id: int | None, contact_ids: Iterable[int]) -> str:
    """The viewer's relation to a customer. ``staff_ids``: the viewer and, during an A/B cover, the
    colleague covered for."""
    ids = {i for i in staff_ids if i is not None}
    if owner_id is not None and owner_id in ids:
        return OWNER
    if ids & set(contact_ids):
        return CONTACT
    return OTHER


def line_relation(staff_ids: Iterable[int | None], *, consultant_id: int | None, linked: bool,
                  owner_id: int | None = None, contact_ids: Iterable[int] = ()) -> str:
    """The viewer's relation to a front-desk register line: that of its archive when the line is
    linked to one, else the line's consultant counts as its owner."""
    if linked:
        return relation(staff_ids, owner_id, contact_ids)
    return relation(staff_ids, consultant_id, ())


def sees_whole(permissions: frozenset[str], field: str, rel: str) -> bool:
    """True when the value is shown unmasked by default (the view is then audited)."""
    return VIEW_PERMISSION in permissions and rel in DEFAULT_UNMASKED.get(field, frozenset())


def may_reveal(permissions: frozenset[str], field: str, rel: str) -> bool:
    return VIEW_PERMISSION in permissions and rel in REVEALABLE.get(field, frozenset())


@dataclass(frozen=True)
class Visibility:
    """What one viewer sees of one customer: the fields shown whole."""

    relation: str
    whole: frozenset[str]

    def masked(self, field: str) -> bool:
        return field not in self.whole

    @property
    def any_masked(self) -> bool:
        return any(f not in self.whole for f in SENSITIVE_FIELDS)


def visibility(permissions: frozenset[str], rel: str) -> Visibility:
    return Visibility(rel, frozenset(f for f in SENSITIVE_FIELDS if sees_whole(permissions, f, rel)))


NOBODY = Visibility(OTHER, frozenset())
#: What a row of a list (search, register lines, list exports) shows whole: nothing, for every role.
LISTING = NOBODY


def mask(field: str, value: str | None) -> str:
    """The masked form of a sensitive value ("" for none)."""
    if not value:
        return ""
    if field == ID_NUMBER:
        return mask_id_number(value)
    if field == BANK_ACCOUNT:
        return mask_bank_account(value)
    if field in (PHONES, "phone"):
        return mask_phone(value)
    return value


# -- free text -------------------------------------------------------------------------------------

_SEP = r"[\s\-]?"
#: An 18-character ID number (or 15 digits, the old form), not inside a longer run of digits.
_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{6}(?:\d{8}\d{3}[\dXx]|\d{9})(?![0-9A-Za-z])")
#: A mainland mobile number, with or without +86 and spaces/dashes between groups.
_MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d){8}(?!\d)")
#: A bank card or account: 12 to 19 digits, possibly grouped by spaces.
_ACCOUNT_RE = re.compile(r"(?<!\d)\d{4}(?:[\s\-]?\d){8,15}(?!\d)")


def _digits_pattern(value: str) -> str | None:
    chars = [c for c in value if c.isalnum()]
    if len(chars) < 7:
        return None
    return _SEP.join(re.escape(c) if not c.isalpha() else f"[{c.lower()}{c.upper()}]" for c in chars)


class Scrubber:
    """Masks sensitive values in free text: the known ones (a customer's ID numbers, accounts and
    phones, present and past) and anything shaped like them."""

    def __init__(self, known: Mapping[str, Iterable[str]] = {}) -> None:  # noqa: B006 - read only
        parts: list[tuple[str, str]] = []
        for field, values in known.items():
            for v in values:
                for piece in re.findall(r"[0-9A-Za-z][0-9A-Za-z\s\-]{5,}[0-9A-Za-z]", v or ""):
                    pat = _digits_pattern(piece)
                    if pat:
                        parts.append((field, pat))
        parts.sort(key=lambda p: -len(p[1]))
        self._known = [(f, re.compile(f"(?<![0-9A-Za-z]){p}(?![0-9A-Za-z])")) for f, p in parts]

    def text(self, value: str) -> str:
        if not value:
            return value
        for field, pat in self._known:
            value = pat.sub(lambda m, f=field: mask(f, re.sub(r"[\s\-]", "", m.group(0))), value)
        value = _ID_RE.sub(lambda m: mask(ID_NUMBER, m.group(0)), value)
        value = _MOBILE_RE.sub(lambda m: mask(PHONES, re.sub(r"[\s\-+]", "", m.group(0))[-11:]), value)
        value = _ACCOUNT_RE.sub(lambda m: mask(BANK_ACCOUNT, re.sub(r"[\s\-]", "", m.group(0))), value)
        return value

    def value(self, obj: Any) -> Any:
        """``text`` applied to every string inside lists, tuples and dicts (audit details)."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {k: self.value(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return type(obj)(self.value(v) for v in obj)
        return obj


GENERIC = Scrubber()


def scrubber(vis: Visibility, known: Mapping[str, Iterable[str]] = {}) -> Scrubber | None:  # noqa: B006
    """The scrubber for free text about one customer as a viewer with ``vis`` may see it (the known
    values of the masked fields, and anything shaped like one), or None when every field is whole."""
    if not vis.any_masked:
        return None
    return Scrubber({f: v for f, v in known.items() if vis.masked(f)})


def scrub(vis: Visibility, value: Any, known: Mapping[str, Iterable[str]] = {}) -> Any:  # noqa: B006
    """``value`` (text, or lists/dicts of text) as that viewer may see it."""
    s = scrubber(vis, known)
    return value if s is None else s.value(value)
