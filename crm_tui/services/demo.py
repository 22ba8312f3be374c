"""The demo database: one account per role (listed on the demo login screen) and area data."""

from __future__ import annotations

from crm_tui.services import staff
from crm_tui.services.context import Actor, Services

DEMO_PASSWORD = "demo1234"
DEMO_ACCOUNTS = [
    # username, display name, roles
    ("admin", "系统管理员", ["admin"]),
    ("qiantai", "李晓梅", ["front_desk"]),
    ("jingli", "王建国", ["customer_manager"]),
    ("jingli2", "赵丽华", ["customer_manager"]),
    ("kezhang", "陈志强", ["section_chief"]),
    ("fujingli", "刘伟", ["deputy_manager"]),
    ("neiguan", "孙静", ["internal_control"]),
]


def seed(svc: Services) -> None:
    """Fill an empty demo database. Each area adds its own data here."""
    first = staff.create_first_admin(svc, "admin", DEMO_PASSWORD, "系统管理员")
    admin = Actor(first, "admin", "系统管理员", frozenset({"admin"}))
    for username, display, roles in DEMO_ACCOUNTS[1:]:
        staff.add_user_with_password(svc, admin, username, roles, DEMO_PASSWORD, display)
    from crm_tui.services import demo_customers

    demo_customers.seed_customers(svc)
    from crm_tui.services import demo_followups

    demo_followups.seed_followups(svc)
    from crm_tui.services import demo_grades

    demo_grades.seed_grades(svc)
    from crm_tui.services import demo_complaints

    demo_complaints.seed_complaints(svc)


def demo_accounts() -> list[tuple[str, str, list[str]]]:
    return [(u, d, r) for u, d, r in DEMO_ACCOUNTS]
