"""Snapshots at 80x24 of the screens and dialogs that had none at that size (issue 21, item 3): home
for each role, every area's lists, details and forms. Chinese, fixed clock and demo data; the
screens already snapshotted at 80x24 (login, kezhang's home, help, staff, lock, complaints, the
customer list and form, the follow-up queue and register, approvals, incidents, reports summary)
are in their own files. Keys from home, keyboard only; "open:NAME" opens an area without a key of
its own, as the palette does."""

from __future__ import annotations

import pytest

from tests.ui.conftest import make, settle, sign_in

SIZE = (80, 24)

SCREENS = {
    "home-front-desk": ("qiantai", []),
    "home-customer-manager": ("jingli", []),
    "home-deputy-manager": ("fujingli", []),
    "home-internal-control": ("neiguan", []),
    "home-admin": ("admin", []),
    "home-charts": ("jingli", ["c"]),
    "customer-detail": ("jingli", ["f2", "down", "enter"]),
    "watch-list-shared-phones": ("jingli", ["f2", "ctrl+w", "3"]),
    "followup-card": ("jingli", ["f3", "3", "enter"]),
    "followup-card-form": ("jingli", ["f3", "ctrl+n"]),
    "grades-to-approve": ("kezhang", ["f5"]),
    "grades-to-apply": ("kezhang", ["f5", "2"]),
    "grade-application": ("kezhang", ["f5", "enter"]),
    "grade-application-form": ("jingli", ["f5", "ctrl+n"]),
    "grade-standard": ("kezhang", ["f5", "ctrl+g"]),
    "grade-review": ("kezhang", ["f5", "ctrl+r"]),
    "reports-staff": ("kezhang", ["f6", "2"]),
    "reports-customers": ("kezhang", ["f6", "3"]),
    "reports-charts": ("kezhang", ["f6", "4"]),
    "staff-account-form": ("admin", ["f7", "a"]),
    "audit": ("neiguan", ["f8"]),
    "backup": ("admin", ["f9"]),
    "import": ("admin", ["f11"]),
    "calendar": ("admin", ["open:calendar"]),
    "calendar-day-form": ("admin", ["open:calendar", "a"]),
}


@pytest.mark.parametrize("name", list(SCREENS))
def test_screen_at_80x24(ui_services, zh, name, snap_compare) -> None:  # type: ignore[no-untyped-def]
    user, steps = SCREENS[name]

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, user)
        await pilot.press("f10")  # the customer manager with overdue visits starts on the due list
        await settle(pilot)
        for step in steps:
            if step.startswith("open:"):
                pilot.app.action_open(step[5:])
            else:
                await pilot.press(step)
            await settle(pilot)
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=SIZE, run_before=run_before)
