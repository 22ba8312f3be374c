"""The damage screen (issue 17): ``crm-tui`` in a terminal on a database with a damaged middle page -
after the day's backup was taken, so no copy reads every page at start - shows what is damaged, never
a wrong key, and offers the restore of the newest verified backup there; a restore with an
administrator's password as it is in the backup replaces the broken file (kept aside) and Enter
starts the app. Real SQLCipher files, keyboard only."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from crm_tui.services import backup as backup_svc
from crm_tui.services import system
from crm_tui.services.damage import DamagedDatabase
from crm_tui.store import db
from crm_tui.ui import launch
from crm_tui.ui.damage import damage_app
from tests.ui.conftest import settle, staff_actor, type_text

PAGE = 4096


def _text(app) -> str:  # type: ignore[no-untyped-def]
    """What the screen's texts say (labels, the report, the message), in one line."""
    from textual.widgets import Static

    return " ".join(" ".join(str(w.render()) for w in app.screen.query(Static) if w.display).split())


@pytest.fixture
def damaged(ui_services):  # type: ignore[no-untyped-def]
    """The demo database with today's manual backup, closed, then one byte of a middle page flipped."""
    svc = ui_services
    row, _notes = backup_svc.backup_now(svc, staff_actor(svc, "admin"))
    db_file: Path = svc.store.db_file
    ks = svc.store_key_store if hasattr(svc, "store_key_store") else None
    svc.close()
    data = bytearray(db_file.read_bytes())
    page = len(data) // PAGE // 2 + 1
    data[(page - 1) * PAGE + 1000] ^= 0x01
    db_file.write_bytes(bytes(data))
    return db_file, page, row


def _place(ui_services, db_file: Path):  # type: ignore[no-untyped-def]
    from crm_tui.store.keys import MemoryKeyStore

    ks = MemoryKeyStore()
    ks.put(db_file, ui_services.store.key)
    return SimpleNamespace(data_dir=db_file.parent, key_store=ks)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)], ids=["120x36", "80x24"])
async def test_the_start_shows_the_damage_and_a_restore_there_replaces_the_file(
        ui_services, damaged, en, size) -> None:  # type: ignore[no-untyped-def]
    db_file, page, backup_row = damaged
    place = _place(ui_services, db_file)
    with pytest.raises(DamagedDatabase) as e:
        launch.prepare_app(place)  # what `crm-tui` does first
    broken = db_file.read_bytes()
    app = damage_app(place.data_dir, place.key_store, e.value)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        shown = _text(app)
        assert "The database file is damaged" in shown
        assert "not a wrong key" in shown
        assert "Restore crm-" in shown  # the offer names the newest verified backup
        # a wrong password: said, nothing moved
        await type_text(pilot, "admin")
        await pilot.press("enter")
        await type_text(pilot, "wrong-password")
        await pilot.press("enter")
        await settle(pilot)
        assert "Wrong user name or password" in _text(app)
        assert db_file.read_bytes() == broken and not list(db_file.parent.glob("damaged-*.db"))
        # the right one, as it is in the backup
        assert app.screen.focused.id == "damage-password"  # emptied, the cursor in it
        await type_text(pilot, "demo1234")
        await pilot.press("ctrl+s")
        await settle(pilot)
        shown = _text(app)
        assert "Restored crm-" in shown and "The damaged database is kept as" in shown, shown
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_value is True
    kept = list(db_file.parent.glob("damaged-*.db"))
    assert len(kept) == 1 and kept[0].read_bytes() == broken
    assert db.diagnose(db_file, place.key_store.get(db_file)).ok
    svc = system.open_services(system.Place(place.data_dir, place.key_store))
    svc.close()


async def test_leaving_the_damage_screen_changes_nothing(ui_services, damaged, en) -> None:  # type: ignore[no-untyped-def]
    db_file, page, _row = damaged
    place = _place(ui_services, db_file)
    with pytest.raises(DamagedDatabase) as e:
        launch.prepare_app(place)
    assert f"page(s) {page} fail their check" in e.value.message
    broken = db_file.read_bytes()
    app = damage_app(place.data_dir, place.key_store, e.value)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()
    assert not app.return_value
    assert db_file.read_bytes() == broken
    # and without a terminal `crm-tui` raises it again: start.py prints it and exits 19
    with pytest.raises(DamagedDatabase):
        launch.run_app(place, interactive=False)
