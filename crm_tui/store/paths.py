"""Where the data lives: platformdirs by default, ``--data-dir`` or ``CRM_TUI_DATA_DIR`` override."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "crm-tui"
DB_NAME = "crm.db"
ENV_DATA_DIR = "CRM_TUI_DATA_DIR"
SIDE_FILES = ("-wal", "-shm", "-journal")


def default_data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def resolve_data_dir(explicit: Path | str | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser().resolve()
    return default_data_dir().resolve()


def db_path(data_dir: Path) -> Path:
    return data_dir / DB_NAME


def ensure_private_dir(path: Path) -> Path:
    """Create the folder (and parents) and make the folder itself 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def tighten_file_modes(db_file: Path) -> None:
    """The database and its -wal/-shm files are readable by their owner only.

    Only a file whose mode differs is changed: a chmod sets the file's ctime even when the mode stays
    the same, and the start-up page check (store/pagecheck.py) reads a changed ctime as "changed
    outside crm-tui" and checks every page again (~17 s CPU at 1M customers, at every start)."""
    for suffix in ("", *SIDE_FILES):
        f = Path(str(db_file) + suffix)
        try:
            mode = f.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode != 0o600:
            os.chmod(f, 0o600)


def backups_dir(data_dir: Path) -> Path:
    return data_dir / "backups"
