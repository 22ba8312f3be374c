"""The check of every page at open (issue 17, store/pagecheck.py): a damaged page anywhere in crm.db
stops the open as damage - not a wrong key - even when nothing at start reads that page; an open of
a file unchanged since the last process closed it does not read every page again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crm_tui.services import system
from crm_tui.store import db, pagecheck
from crm_tui.store.keys import MemoryKeyStore

PAGE = 4096


def _filled(tmp_data_dir: Path) -> tuple[system.Place, Path, bytes]:
    place = system.Place(tmp_data_dir, MemoryKeyStore())
    db_file = system.create_empty(place)
    key = place.key_store.get(db_file)
    assert key is not None
    conn = db.raw_connect(db_file, key)
    conn.execute("CREATE TABLE filler (x BLOB)")
    for _ in range(60):  # pages no start reads
        conn.execute("INSERT INTO filler VALUES (randomblob(3000))")
    conn.close()
    db.open_store(tmp_data_dir, place.key_store).close()
    return place, db_file, key


def _flip_page(db_file: Path, page: int, *, keep_times: bool) -> None:
    st = db_file.stat()
    data = bytearray(db_file.read_bytes())
    data[(page - 1) * PAGE + 1000] ^= 0x01
    db_file.write_bytes(bytes(data))
    if keep_times:
        os.utime(db_file, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_a_closed_sound_file_is_stamped_and_an_unchanged_one_is_not_read_again(tmp_data_dir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    place, db_file, _key = _filled(tmp_data_dir)
    assert pagecheck.unchanged_since_check(db_file)
    read: list[Path] = []
    real = pagecheck.failing_pages
    monkeypatch.setattr(pagecheck, "failing_pages", lambda f, k: read.append(f) or real(f, k))
    db.open_store(tmp_data_dir, place.key_store).close()
    assert read == []  # unchanged: no page read at open
    os.utime(db_file)  # anything done to the file from outside: checked again
    db.open_store(tmp_data_dir, place.key_store).close()
    assert read == [db_file.resolve()] or read == [db_file]


def test_an_open_leaves_the_stamped_file_as_it_was(tmp_data_dir) -> None:  # type: ignore[no-untyped-def]
    """The open itself changes nothing the stamp covers (a chmod to the mode the file already has
    changed its ctime): an app killed at its login screen is not read in full at the next start
    (~17 s CPU at 1M customers, benchmarks' cold start). A file with a looser mode is still tightened."""
    place, db_file, _key = _filled(tmp_data_dir)
    before = pagecheck.file_state(db_file)
    store = db.open_store(tmp_data_dir, place.key_store)
    try:
        assert pagecheck.file_state(db_file) == before
    finally:
        store.close()
    os.chmod(db_file, 0o644)
    db.open_store(tmp_data_dir, place.key_store).close()
    assert db_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("keep_times", [False, True], ids=["plain", "mtime-put-back"])
def test_a_damaged_middle_page_stops_the_open_as_damage(tmp_data_dir, keep_times) -> None:  # type: ignore[no-untyped-def]
    place, db_file, _key = _filled(tmp_data_dir)
    page = db.page_count(db_file) // 2 + 1
    _flip_page(db_file, page, keep_times=keep_times)
    damaged = db_file.read_bytes()
    with pytest.raises(db.DatabaseDamaged) as e:
        db.open_store(tmp_data_dir, place.key_store)
    assert e.value.pages == (page,)
    assert e.value.diagnosis.verdict == "damaged"  # type: ignore[attr-defined]
    assert db_file.read_bytes() == damaged  # nothing changed
    assert not pagecheck.stamp_path(db_file).exists()
    with pytest.raises(db.DatabaseDamaged):  # and again at the next open
        db.open_store(tmp_data_dir, place.key_store)


def test_the_services_say_it_with_the_restore_command(tmp_data_dir) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.services.damage import DamagedDatabase

    place, db_file, _key = _filled(tmp_data_dir)
    page = db.page_count(db_file) - 1
    _flip_page(db_file, page, keep_times=False)
    with pytest.raises(DamagedDatabase) as e:
        system.open_services(place)
    assert e.value.exit_code == 19
    assert f"page(s) {page} fail their check" in e.value.message and "not a wrong key" in e.value.message


def test_while_another_process_has_it_open_the_open_does_not_check(tmp_data_dir) -> None:  # type: ignore[no-untyped-def]
    """The file in use elsewhere is live: its pages are checked as they are read; the last to close stamps."""
    place, db_file, _key = _filled(tmp_data_dir)
    first = db.open_store(tmp_data_dir, place.key_store)
    os.utime(db_file)
    second = db.open_store(tmp_data_dir, place.key_store)  # not alone: no check, no stamp
    assert not pagecheck.unchanged_since_check(db_file)
    second.close()
    assert not pagecheck.unchanged_since_check(db_file)  # the first still has it open
    first.close()
    assert pagecheck.unchanged_since_check(db_file)
