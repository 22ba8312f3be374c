"""Password policy (R-SEC-1): long enough, not trivial, not the user name, changed periodically."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from crm_tui.domain.errors import ValidationError

_COMMON = {"12345678", "123456789", "password", "password1", "qwerty123", "11111111", "abc12345", "88888888"}
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand


def check_policy(password: str, *, username: str, min_length: int, old_password: str | None = None) -> None:
    field = "password"
    if len(password) < min_length:
        raise ValidationError(field, "The password needs at least {n} characters.", n=min_length)
    if len(password) > 128:
        raise ValidationError(field, "The password may have at most {n} characters.", n=128)
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise ValidationError(field, "The password may not contain control characters.")
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        raise ValidationError(field, "The password needs both letters and digits.")
    if password.lower() in _COMMON or len(set(password)) < 4:
        raise ValidationError(field, "The password is too easy to guess.")
    if username and username.lower() in password.lower():
        raise ValidationError(field, "The password may not contain the user name.")
    if old_password is not None and password == old_password:
        raise ValidationError(field, "The new password must differ from the old one.")


def one_time_password() -> str:
    """Shown once to the administrator who opened the account; must be changed at first sign-in."""
    groups = ["".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3)]
    return "-".join(groups) + str(secrets.randbelow(10))


def password_expired(set_at: datetime, now: datetime, max_age_days: int) -> bool:
    return max_age_days > 0 and now - set_at > timedelta(days=max_age_days)
