"""Roles and permissions (R-SEC-2): which role may do what. Data in data/roles.toml."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crm_tui.domain import config
from crm_tui.domain.errors import ValidationError
from crm_tui.i18n import get_language

FRONT_DESK = "front_desk"
CUSTOMER_MANAGER = "customer_manager"
SECTION_CHIEF = "section_chief"
DEPUTY_MANAGER = "deputy_manager"
INTERNAL_CONTROL = "internal_control"
ADMIN = "admin"


@dataclass(frozen=True)
class Role:
    code: str
    name_zh: str
    name_en: str
    permissions: frozenset[str]
    phone_change: str | None = None  # "direct" | "owner_confirms" | None (data/roles.toml)

    @property
    def name(self) -> str:
        return self.name_zh if get_language() == "zh_CN" else self.name_en


def all_roles() -> dict[str, Role]:
    raw = config.load("roles.toml")["roles"]
    return {
        code: Role(code, r["name"], r["name_en"], frozenset(r["permissions"]), r.get("phone_change"))
        for code, r in raw.items()
    }


def role_codes() -> list[str]:
    return list(all_roles())


def permissions_of(roles: Iterable[str]) -> frozenset[str]:
    table = all_roles()
    perms: set[str] = set()
    for r in roles:
        if r in table:
            perms |= table[r].permissions
    return frozenset(perms)


PHONE_CHANGE_MODES = ("direct", "owner_confirms")


def phone_change_mode(roles: Iterable[str]) -> str | None:
    """How these roles record a caller's new phone (``phone_change`` in data/roles.toml): "direct"
    when any role says so, else "owner_confirms" when any says that, else None."""
    table = all_roles()
    modes = {table[r].phone_change for r in roles if r in table}
    for mode in PHONE_CHANGE_MODES:
        if mode in modes:
            return mode
    return None


def all_permissions() -> frozenset[str]:
    return permissions_of(role_codes())


def parse_role(text: str, field: str = "roles") -> str:
    """Accept a role by code, Chinese or English name."""
    key = text.strip()
    for code, role in all_roles().items():
        if key.lower() in (code, role.name_en.lower()) or key == role.name_zh:
            return code
    raise ValidationError(
        field, "Unknown role '{role}'. Roles: {choices}", role=key,
        choices=("、" if get_language() == "zh_CN" else ", ").join(r.name for r in all_roles().values()),  # by name
    )


def role_label(code: str) -> str:
    role = all_roles().get(code)
    return role.name if role else code
