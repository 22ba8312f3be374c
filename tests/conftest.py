"""Fixtures shared by the whole suite.

- Messages are English in every test (``english``, autouse), so assertions on text are stable.
- ``tmp_data_dir``: a data folder path of the test's own (not created: ``crm-tui init`` makes it).
- ``cli_env`` / ``run_cli``: ``python -m crm_tui ...`` in a subprocess whose keyring is the
  keyrings.alt plaintext file under the test's tmp dir: a test never touches the user's keyring.
- ``cli_db``: a database made by ``crm-tui init`` (administrator ``admin``, password
  ``helpers.cli.PASSWORD``) in ``tmp_data_dir``, its key in the test's keyring file.
- ``services``: in-process Services on a fresh database whose key is held in memory, plus the
  signed-in administrator.
- ``@pytest.mark.slow`` marks soak runs (hundreds of kill -9 rounds, long random keyboard walks, the
  benchmark runner): the same checks as tests that always run, only many more times. They run with
  CRM_TUI_SLOW_TESTS=1 or ``-m slow`` and nowhere else: the README command, CI and a laptop run the
  same tests (CI used to switch them on through its ``CI`` variable, which pushed its run past its
  time limit while every local run skipped them).
- Staff passwords are hashed with argon2id at the lowest cost in the in-process tests (as Django's
  test settings do); the CLI subprocesses and ``test_rehash_on_login_when_parameters_change`` keep
  the real cost. A hash at the library's recommended cost is about 0.2 s CPU, and the suite signs
  in a few thousand times.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import cli


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CRM_TUI_SLOW_TESTS") or "slow" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="soak run: CRM_TUI_SLOW_TESTS=1 or -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id at its lowest cost for in-process tests (see the module docstring)."""
    from argon2 import PasswordHasher

    from crm_tui.services import staff

    real = staff._hasher
    staff._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    staff._hasher = real


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    from crm_tui.i18n import get_language, set_language

    before = get_language()
    set_language("en")
    yield
    set_language(before)


@pytest.fixture
def tmp_data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli_env(tmp_path: Path, tmp_data_dir: Path) -> dict[str, str]:
    return cli.make_env(tmp_path, tmp_data_dir)


@pytest.fixture
def run_cli(cli_env: dict[str, str]) -> Callable[..., Any]:
    """``run_cli(*args, input=None, env=None)`` -> CompletedProcess; env defaults to ``cli_env``."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None, **kw: Any):  # type: ignore[no-untyped-def]
        return cli.run_cli(*args, input=input, env=env if env is not None else cli_env, **kw)

    return run


@pytest.fixture(scope="session")
def _cli_db_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One ``crm-tui init`` per test worker; ``cli_db`` copies it (init costs seconds)."""
    root = tmp_path_factory.mktemp("cli-db-template")
    env = cli.make_env(root, root / "data")
    cli.init_db(env)
    # Second-person approval of restore, export and erase (R-SEC-2) is on by default; this template
    # has a single administrator, so it is switched off here and tested on in
    # tests/e2e/test_e2e_security_cli.py (which switches it back on).
    r = cli.run_cli("--user", "admin", "--password-stdin", "settings", "set", "approval.required", "",
                    input=f"{cli.PASSWORD}\n", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    key_hex = cli.get_key_hex(env, root / "data" / "crm.db")
    assert key_hex is not None
    return root / "data", key_hex


@pytest.fixture
def cli_db(_cli_db_template: tuple[Path, str], tmp_data_dir: Path, cli_env: dict[str, str]) -> Path:
    template, key_hex = _cli_db_template
    shutil.copytree(template, tmp_data_dir)
    db_file = tmp_data_dir / "crm.db"
    cli.set_key_hex(cli_env, db_file, key_hex)
    return db_file


@dataclass
class ServicesEnv:
    svc: Any  # crm_tui.services.context.Services
    admin: Any  # crm_tui.services.context.Actor
    place: Any  # crm_tui.services.system.Place
    password: str


@pytest.fixture
def services(tmp_data_dir: Path) -> Iterator[ServicesEnv]:
    from crm_tui.services import staff, system
    from crm_tui.store.keys import MemoryKeyStore

    place = system.Place(tmp_data_dir, MemoryKeyStore())
    system.init(place, "admin", cli.PASSWORD)
    svc = system.open_services(place)
    try:
        admin = staff.sign_in(svc, "admin", cli.PASSWORD).actor
        yield ServicesEnv(svc=svc, admin=admin, place=place, password=cli.PASSWORD)
    finally:
        svc.close()
