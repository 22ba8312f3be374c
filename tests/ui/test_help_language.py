"""Issue 21, Chinese throughout: F1 on every area and form lists its keys in the UI language: no
English words in zh_CN other than key names (Textual's own widget keys are translated or hidden),
and no Chinese in English. An open drop-down's footer says 收起列表, not 'Dismiss menu'."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Select, Static

from crm_tui.ui.screens.help import HelpScreen
from tests.ui.conftest import make, settle, sign_in, staff_actor

SIZE = (120, 36)
# key names, file formats and codes a Chinese clerk reads as they are
ALLOWED = {"tab", "shift", "enter", "esc", "ctrl", "space", "pgup", "pgdn", "home", "end", "up", "down", "left",
           "right", "delete", "backspace", "insert", "xlsx", "txt", "csv", "id", "kh", "ctrl+p", "ctrl+l",
           "ab",  # AB岗, the regulations' own word (R-SEC-7)
           *(f"f{i}" for i in range(1, 13))}

AREAS = [("jingli", "f2"), ("jingli", "f3"), ("kezhang", "f4"), ("kezhang", "f5"), ("kezhang", "f6"),
         ("admin", "f7"), ("neiguan", "f8"), ("admin", "f9"), ("admin", "f11"), ("qiantai", "f10")]


def _help_lines(app) -> list[str]:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, HelpScreen)
    text = "\n".join(str(w.render()) for w in screen.query(Static))
    return [ln for ln in text.splitlines() if ln.strip()]


def _english_words(lines: list[str]) -> set[str]:
    words = set()
    for ln in lines:
        parts = re.split(r"\s{2,}", ln.strip(), maxsplit=1)  # the key column, then what it does
        desc = parts[-1]
        for w in re.findall(r"[A-Za-z][A-Za-z+]+", desc):
            if w.lower() not in ALLOWED:
                words.add(w)
    return words


async def _f1(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    await pilot.press("f1")
    await settle(pilot)
    lines = _help_lines(pilot.app)
    await pilot.press("escape")
    await settle(pilot)
    return lines


@pytest.mark.parametrize(("user", "key"), AREAS)
async def test_f1_of_every_area_has_no_english_in_chinese(ui_services, zh, user: str, key: str) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services, lang="zh_CN")
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, user)
        await pilot.press(key)
        await settle(pilot)
        lines = await _f1(pilot)
        assert len(lines) > 3
        assert not _english_words(lines), (type(app.screen).__name__, _english_words(lines), lines)


async def test_f1_on_the_forms_has_no_english_in_chinese_and_no_chinese_in_english(ui_services) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.i18n import set_language
    from crm_tui.services import customers as cs
    from crm_tui.services import followups as fu
    from crm_tui.ui.screens.complaints import TicketFormScreen
    from crm_tui.ui.screens.customer_form import CustomerFormScreen
    from crm_tui.ui.screens.followups import CardFormScreen, VisitForm
    from crm_tui.ui.screens.grades import ApplicationFormScreen
    from crm_tui.ui.screens.register import RegisterScreen

    jingli = staff_actor(ui_services, "jingli")
    cid = cs.create_customer(ui_services, jingli, "person", {"name": "欧阳青"}).id
    card = fu.create_card(ui_services, jingli, cid, {"first_reception_date": "2026-11-23", "intent_level": "H",
                                                     "source": "walk_in", "first_reception_summary": "到店"})
    forms = [lambda: CustomerFormScreen(ui_services, jingli, None), lambda: CustomerFormScreen(ui_services, jingli, cid),
             lambda: CardFormScreen(ui_services, jingli, customer_id=cid), lambda: VisitForm(ui_services, jingli, card.id, "H"),
             lambda: RegisterScreen(ui_services, jingli), lambda: ApplicationFormScreen(ui_services, jingli, cid),
             lambda: TicketFormScreen(ui_services, jingli, customer=(cid, "欧阳青"))]
    try:
        for lang in ("zh_CN", "en"):
            set_language(lang)
            app = make(ui_services, lang=lang)
            async with app.run_test(size=SIZE) as pilot:
                await sign_in(pilot, "jingli")
                await settle(pilot)
                for build in forms:
                    app.push_screen(build())
                    await settle(pilot)
                    lines = await _f1(pilot)
                    name = type(app.screen).__name__
                    if lang == "zh_CN":
                        assert not _english_words(lines), (name, _english_words(lines), lines)
                    else:
                        assert not [ln for ln in lines if re.search(r"[\u4e00-\u9fff]", ln)], (name, lines)
                        assert any("Save" in ln or "File application" in ln for ln in lines), (name, lines)
                    app.pop_screen()
                    await settle(pilot)
    finally:
        set_language("zh_CN")


async def test_an_open_drop_down_says_so_in_chinese(ui_services, zh) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.customer_form import CustomerFormScreen

    app = make(ui_services, lang="zh_CN")
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await settle(pilot)
        app.push_screen(CustomerFormScreen(ui_services, staff_actor(ui_services, "jingli"), None))
        await settle(pilot)
        app.screen.query_one("#kind", Select).focus()
        await pilot.press("enter")
        await settle(pilot)
        shown = {b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}
        assert "收起列表" in shown and "Dismiss menu" not in shown, shown
