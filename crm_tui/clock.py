"""The one place that reads the machine's clock.

Business time ("now" for deadlines, records, audit rows, reports, demo data) comes from the clock
the services were given (``Services.clock``, ``Services.now()``); tests inject a fixed or moving
clock, so the suite passes on any date (libfaketime runs it in other years). Everything else that
needs the wall clock - the default clock of a real start, the names of backup files made outside a
session - calls :func:`system_now` here. ``tests/test_one_clock.py`` fails if any other module of
crm_tui reads the real date or time (``date.today()``, ``datetime.now()``, ``time.time()``, or a
Faker date provider that counts from today). ``time.monotonic()`` measures durations and is fine.

Imports nothing from crm_tui, so every layer may use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

Clock = Callable[[], datetime]


def system_now() -> datetime:
    """The machine's local time, naive (as every stored time is)."""
    return datetime.now()


def system_seconds() -> float:
    """The machine's clock as a POSIX timestamp: the age of a file on disk, not business time."""
    return time.time()
