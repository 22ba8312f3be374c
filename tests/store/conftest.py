from __future__ import annotations

from pathlib import Path

import pytest

from crm_tui.services import system
from tests.helpers.places import new_place


@pytest.fixture
def place(tmp_data_dir: Path) -> system.Place:
    """A new database with its first administrator, its key in memory (tests.helpers.places.key_of)."""
    return new_place(tmp_data_dir)
