"""The demo database: one account per role (listed on the demo login screen) and area data.

Demo data generators live in this package, one module per area (``customers``, ``followups``,
``grades``, ``complaints``). They sit above the services (``seed`` walks most of the data through the
real use cases) and below ``ui``/``cli`` (the ``demo`` command and the demo login screen). Their few
reads and the bulk customer inserts are in ``store/queries/demo.py``: this package holds no SQL."""

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
    from crm_tui.demo import customers

    customers.seed_customers(svc)
    from crm_tui.demo import followups

    followups.seed_followups(svc)
    from crm_tui.demo import grades

    grades.seed_grades(svc)
    from crm_tui.demo import complaints

    complaints.seed_complaints(svc)


def demo_accounts() -> list[tuple[str, str, list[str]]]:
    return [(u, d, r) for u, d, r in DEMO_ACCOUNTS]
