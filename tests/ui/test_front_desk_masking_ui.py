"""Signed in as the front desk, no ID number or full phone of a customer appears on any screen
(issue 19 done-when; R-SEC-2): a UI pass over the areas the front desk can open, reading every
table cell, text and field on each."""

from __future__ import annotations

import re

from sqlalchemy import text
from textual.widgets import DataTable, Input, Static

from crm_tui.services import customers as cs
from crm_tui.services.customers import PhoneInput
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text

SIZE = (160, 48)


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    parts = [app.screen.title or "", app.screen.sub_title or ""]
    for t in app.screen.query(DataTable):
        for row in range(t.row_count):
            parts += [str(c) for c in t.get_row_at(row)]
    parts += [str(w.render()) for w in app.screen.query(Static)]
    parts += [w.value for w in app.screen.query(Input)]
    return "\n".join(parts)


def secrets(svc) -> list[str]:  # type: ignore[no-untyped-def]
    with svc.store.read() as s:
        ids = [r[0] for r in s.execute(text("SELECT id_number FROM customer WHERE id_number IS NOT NULL"))]
        accounts = [r[0] for r in s.execute(text("SELECT bank_account FROM customer WHERE bank_account IS NOT NULL"))]
        phones = [r[0] for r in s.execute(text("SELECT national FROM customer_phone WHERE length(national) >= 11"))]
    return ids + accounts + phones


def leaked(shown: str, values: list[str]) -> list[str]:
    flat = re.sub(r"[\s\-]", "", shown).upper()
    return [v for v in values if re.sub(r"[\s\-]", "", v).upper() in flat]


async def test_r_sec_2_front_desk_sees_no_id_number_or_full_phone_anywhere(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    svc = ui_services
    chief = staff_actor(svc, "kezhang")
    body = "11010519800307123"
    from stdnum.cn import ric

    id1 = body + ric.calc_check_digit(body + "0")
    body2 = "11010519800307145"
    id2 = body2 + ric.calc_check_digit(body2 + "0")
    ref = cs.create_customer(svc, chief, "person", {"name": "欧阳测试", "id_number": id1},
                             phones=[PhoneInput("13912348765")],
                             consents=[cs.ConsentInput("身份核验", "sensitive", "signed_form")])
    cs.update_customer(svc, chief, ref.id, {"id_number": id2}, expected_version=1,
                       phones=[PhoneInput("13912348765"), PhoneInput("13698761234")])
    cs.add_contact(svc, chief, ref.id, "call", "新手机13698761234，身份证" + id2)
    values = secrets(svc)
    assert id2 in values and len(values) > 50
    app = make(svc)
    seen: dict[str, str] = {}
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        for key in ("f10", "f3", "f4"):
            await pilot.press(key)
            await settle(pilot)
            seen[type(app.screen).__name__] = screen_text(app)
        await pilot.press("f2")
        await settle(pilot)
        seen["list"] = screen_text(app)
        await type_text(pilot, "欧阳测试")
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "CustomerDetailScreen"
        seen["detail"] = screen_text(app)
        assert "欧阳测试" in seen["detail"] and id2[:6] in seen["detail"]  # the masked ID and history show
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert type(app.screen).__name__ == "CustomerFormScreen"
        seen["form"] = screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        if type(app.screen).__name__ == "ConfirmDialog":
            await pilot.press("y")
            await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+w")
        await settle(pilot)
        for key in ("1", "2", "3", "4"):
            await pilot.press(key)
            await settle(pilot)
            seen[f"watch {key}"] = screen_text(app)
    found = {name: leaked(shown, values) for name, shown in seen.items() if leaked(shown, values)}
    assert found == {}
    assert len(seen) >= 10
