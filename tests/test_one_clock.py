"""One clock (issue 16): business time comes from the injected clock, never from the machine's.

The demo data, the deadlines and the reports must come out the same on any real date, or the suite
fails a week after a snapshot was recorded (it did: a demo birth date moved from 1962-05-01 to
1962-04-26). The static test finds every read of the real date or time outside ``crm_tui/clock.py``;
the faketime test generates demo customers under three real dates and compares them.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "crm_tui"
CLOCK_MODULE = PACKAGE / "clock.py"

# Reads of the real clock: class/module name -> attributes.
_REAL_CLOCK = {
    "datetime": {"now", "today", "utcnow"},
    "date": {"today"},
    "time": {"time", "time_ns", "localtime", "gmtime", "ctime", "asctime", "strftime"},
}
# Faker providers whose default range ends (or starts) at the real "now".
_FAKER_FROM_TODAY = {
    "date_of_birth", "date_this_century", "date_this_decade", "date_this_year", "date_this_month",
    "date_time_this_century", "date_time_this_decade", "date_time_this_year", "date_time_this_month",
    "past_date", "past_datetime", "future_date", "future_datetime", "date_between", "date_time_between",
    "date_time", "date_time_ad", "date", "time", "date_object", "time_object", "unix_time", "iso8601",
    "year", "month", "month_name", "day_of_month", "day_of_week", "time_series", "am_pm", "century",
}


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local names bound to the datetime/date classes and the time module (``from datetime import
    datetime as dt`` makes ``dt`` mean ``datetime``)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "datetime":
            for a in node.names:
                if a.name in ("datetime", "date"):
                    names[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            for a in node.names:
                if a.name in _REAL_CLOCK["time"]:
                    names[a.asname or a.name] = "time." + a.name
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "time":
                    names[a.asname or "time"] = "time"
                elif a.name == "datetime":
                    names[a.asname or "datetime"] = "datetime-module"
    return names


def _receiver(node: ast.expr, aliases: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and aliases.get(node.value.id) == "datetime-module" and node.attr in ("datetime", "date")):
        return node.attr
    return None


def _fakerish(node: ast.expr) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    return "fake" in name.lower()


def real_clock_reads(source: str, filename: str = "<src>") -> list[str]:
    """``file:line what`` for each read of the real clock in ``source``."""
    tree = ast.parse(source, filename)
    aliases = _aliases(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            kind = _receiver(node.value, aliases)
            if kind is not None and kind in _REAL_CLOCK and node.attr in _REAL_CLOCK[kind]:
                found.append(f"{filename}:{node.lineno} {kind}.{node.attr}")
            elif node.attr in _FAKER_FROM_TODAY and _fakerish(node.value):
                found.append(f"{filename}:{node.lineno} Faker {node.attr}() counts from the real date")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if aliases.get(node.func.id, "").startswith("time."):
                found.append(f"{filename}:{node.lineno} {aliases[node.func.id]}")
    return sorted(found, key=lambda f: int(f.split(' ')[0].rsplit(':', 1)[1]))


def test_the_checker_finds_each_kind_of_real_clock_read() -> None:
    src = (
        "import time\nimport datetime as dtm\nfrom datetime import date, datetime as dt\n"
        "from time import time as now_s\n"
        "a = date.today()\nb = dt.now()\nc = time.time()\nd = dtm.datetime.utcnow()\n"
        "e = fake.date_of_birth(minimum_age=20)\nf = self.faker.past_date()\ng = now_s()\n"
        "clock = dt.now\n"
        "ok1 = time.monotonic()\nok2 = dt(2026, 1, 1)\nok3 = date.fromisoformat('2026-01-01')\n"
        "ok4 = fake.name()\nok5 = rnd.date\n"
    )
    hits = real_clock_reads(src)
    assert [h.split(" ", 1)[0].split(":")[1] for h in hits] == ["5", "6", "7", "8", "9", "10", "11", "12"], hits


def test_no_module_but_the_clock_reads_the_real_time() -> None:
    """Business time comes from ``Services.clock``; the wall clock only through crm_tui/clock.py."""
    offenders: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == CLOCK_MODULE:
            continue
        offenders += real_clock_reads(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not offenders, "read the injected clock (svc.now(), tx.now) or crm_tui.clock instead:\n" + "\n".join(offenders)


_DEMO_DIGEST = """
import hashlib, json, random, sys
from datetime import datetime
from faker import Faker
from crm_tui.domain.customers import load_policy
from crm_tui.demo import customers as d
rnd = random.Random(d.DEFAULT_SEED)
fake = Faker("zh_CN"); fake.seed_instance(d.DEFAULT_SEED)
custs = d._generate(rnd, fake, datetime(2026, 11, 23, 10, 30), [(1, "jingli"), (2, "jingli2")], 300, True,
                    load_policy(), (set(), set()))
rows = [(c.kind, c.created_at.isoformat(), sorted((k, str(v)) for k, v in c.values.items()), c.phones) for c in custs]
print(hashlib.sha256(json.dumps(rows, ensure_ascii=False, default=str).encode()).hexdigest())
"""


@pytest.mark.skipif(shutil.which("faketime") is None, reason="libfaketime's `faketime` is not installed (apt-get install faketime; .ci/run does)")
def test_demo_customers_are_the_same_on_any_real_date(tmp_path: Path) -> None:
    """The demo recipe under three real dates (libfaketime) with one injected clock: the same data."""
    digests = {}
    for when in ("2026-11-23 10:30:00", "2027-02-10 10:00:00", "2031-06-30 23:59:00"):
        out = subprocess.run(["faketime", when, sys.executable, "-c", _DEMO_DIGEST], cwd=ROOT, capture_output=True,
                             text=True, timeout=300, check=False)
        assert out.returncode == 0, out.stderr[-2000:]
        digests[when] = out.stdout.strip()
    assert len(set(digests.values())) == 1, digests
