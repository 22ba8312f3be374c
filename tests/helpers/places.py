"""A new data folder with its database and first administrator, and its key (tests that work on the
file itself: backups, copies)."""

from __future__ import annotations

from pathlib import Path

from crm_tui.services import system
from crm_tui.store.keys import MemoryKeyStore
from tests.helpers import cli


def new_place(data_dir: Path) -> system.Place:
    place = system.Place(data_dir, MemoryKeyStore())
    system.init(place, "admin", cli.PASSWORD)
    return place


def key_of(place: system.Place) -> bytes:
    key = place.key_store.get(place.db_file)
    assert key is not None
    return key
