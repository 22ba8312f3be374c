"""Small Secret Service chores for tests/e2e/test_e2e_secret_service.py, run inside its D-Bus session.

  python -m tests.helpers.secret_service wait          until the service answers with an unlocked default collection
  python -m tests.helpers.secret_service lookup DB     JSON about the crm-tui item for DB (never the secret itself)
  python -m tests.helpers.secret_service lock          lock the default collection
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import secretstorage


def wait(timeout: float = 60) -> None:
    """60 s: on a loaded machine (the whole suite on 2 cores) gnome-keyring once took over 15 s to
    unlock its default collection, and the test failed for that alone."""
    deadline = time.monotonic() + timeout
    last: object = "no answer"
    while time.monotonic() < deadline:
        try:
            bus = secretstorage.dbus_init()
            if not secretstorage.check_service_availability(bus):
                last = "the service is not on the bus yet"
            elif secretstorage.get_default_collection(bus).is_locked():
                last = "the default collection is still locked"
            else:
                return
        except Exception as exc:  # noqa: BLE001 - the daemon is still starting
            last = exc
        time.sleep(0.05)
    raise SystemExit(f"the Secret Service did not come up unlocked within {timeout:.0f} s: {last!r}")


def lookup(db_file: str) -> None:
    from tests.helpers import sqlcipher4

    bus = secretstorage.dbus_init()
    items = list(secretstorage.search_items(bus, {"service": "crm-tui", "username": db_file}))
    report: dict[str, object] = {"found": len(items)}
    if items:
        secret = items[0].get_secret().decode()
        report["collection"] = items[0].item_path.rsplit("/", 1)[0]
        report["hex64"] = bool(re.fullmatch(r"[0-9a-f]{64}", secret))
        with tempfile.TemporaryDirectory() as tmp:  # the key opens the file with a second implementation
            plain = Path(tmp) / "plain.db"
            sqlcipher4.decrypt(Path(db_file), bytes.fromhex(secret), plain)
            conn = sqlite3.connect(plain)
            report["staff"] = conn.execute("SELECT count(*) FROM staff").fetchone()[0]
            conn.close()
    print(json.dumps(report))


def lock() -> None:
    bus = secretstorage.dbus_init()
    collection = secretstorage.get_default_collection(bus)
    collection.lock()
    print(json.dumps({"locked": collection.is_locked()}))


if __name__ == "__main__":
    {"wait": lambda: wait(), "lookup": lambda: lookup(sys.argv[2]), "lock": lambda: lock()}[sys.argv[1]]()
