"""Who has the database open: every process that opens the store holds a shared ``flock`` on
``crm.db.lock`` beside it; a restore or a key rotation needs it exclusive, so it refuses while the
app (or any command) has the database open, and nothing opens it while the swap is under way.

``flock`` locks belong to an open file description, so two opens in one process exclude each other
exactly as two processes do (tests rely on that). The lock file holds no data.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from crm_tui.domain.errors import CrmError


class DatabaseInUse(CrmError):
    exit_code = 17


def lock_path(db_file: Path) -> Path:
    return Path(db_file).with_name(Path(db_file).name + ".lock")


class DbLock:
    """A held lock; ``release`` (or ``close`` of the store) lets it go. The OS releases it when the
    process dies, so a killed process never leaves the database locked."""

    def __init__(self, fd: int, exclusive: bool) -> None:
        self.fd: int | None = fd
        self.exclusive = exclusive

    def release(self) -> None:
        if self.fd is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None

    def __enter__(self) -> DbLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _open(db_file: Path) -> int:
    path = lock_path(db_file)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    old = os.umask(0o077)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    finally:
        os.umask(old)


def shared(db_file: Path) -> DbLock:
    """Taken when services open the store. Fails only while a restore or key rotation runs."""
    fd = _open(db_file)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DatabaseInUse(
            "A restore or key rotation is running on {path}; try again when it has finished.",
            path=str(db_file)) from None
    return DbLock(fd, exclusive=False)


def exclusive(db_file: Path) -> DbLock:
    """Taken by restore and key rotation: refuses while any other open of the database exists."""
    fd = _open(db_file)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DatabaseInUse(
            "Another crm-tui process has {path} open (the app, or a command). Close it and try again; "
            "nothing was changed.", path=str(db_file)) from None
    return DbLock(fd, exclusive=True)


def import_lock_path(db_file: Path, token: str) -> Path:
    return Path(db_file).with_name(f"{Path(db_file).name}.import-{token}.lock")


def hold_import(db_file: Path, token: str) -> DbLock:
    """Held (exclusive) by the process running an import for as long as it runs; the OS lets it go
    when the process dies, which is how the next start knows a batch was abandoned."""
    path = import_lock_path(db_file, token)
    old = os.umask(0o077)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    finally:
        os.umask(old)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh random token: nobody else holds it
    return DbLock(fd, exclusive=True)


def import_running(db_file: Path, token: str) -> bool:
    """Whether some process still holds the import's lock file."""
    path = import_lock_path(db_file, token)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def drop_import_lock(db_file: Path, token: str) -> None:
    try:
        import_lock_path(db_file, token).unlink()
    except FileNotFoundError:
        pass
