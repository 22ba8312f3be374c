"""A session whose password is one-time or expired can do nothing but change it or sign out
(issue 19 item 2, R-SEC-1): the check is in the services, so TUI and CLI alike are held to it."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from crm_tui.domain.errors import PasswordChangeRequired
from crm_tui.services import staff
from crm_tui.services.context import Actor
from tests.services.conftest import Crm

#: Service modules whose public use cases take (svc, actor, ...).
MODULES = ("audit", "backup", "complaints", "customer_forms", "customers", "followups", "grades", "home",
           "importing", "reports", "settings", "staff")
#: What a must-change session may still do.
ALLOWED = {("staff", "change_password"), ("staff", "record_event"), ("staff", "check_password")}


def _dummy(param: inspect.Parameter, tmp: Path) -> object:
    name = param.name
    ann = str(param.annotation)
    if "date" in name or "day" in name or "week_of" in name or ann.startswith("date"):
        return date(2026, 11, 20)
    if name in ("start", "end", "at") or "datetime" in ann:
        return datetime(2026, 11, 20, 10, 0)
    if "path" in name or "Path" in ann:
        return tmp / "x.xlsx"
    if "id" in name or "int" in ann or name in ("limit", "n"):
        return 1
    if "Sequence" in ann or "list" in ann:
        return []
    if "Mapping" in ann or "dict" in ann:
        return {}
    if "bool" in ann:
        return False
    return "x"


def use_cases():  # type: ignore[no-untyped-def]
    for mod_name in MODULES:
        mod = importlib.import_module(f"crm_tui.services.{mod_name}")
        for name, fn in vars(mod).items():
            if name.startswith("_") or not inspect.isfunction(fn) or \
                    fn.__module__.split(".")[:mod.__name__.count(".") + 1] != mod.__name__.split("."):
                continue  # not defined in the module (or, for a package, in one of its modules)
            params = list(inspect.signature(fn).parameters.values())
            if len(params) >= 2 and params[0].name == "svc" and params[1].name == "actor":
                if (mod_name, name) not in ALLOWED:
                    yield mod_name, name, fn


def pending(actor: Actor) -> Actor:
    return replace(actor, must_change_password=True)


def test_r_sec_1_every_use_case_refuses_a_session_that_must_change_its_password(crm: Crm, tmp_path: Path) -> None:
    """Each public use case, called as a session with a one-time password, raises
    PasswordChangeRequired before doing anything (other errors would mean it looked further)."""
    actor = pending(crm.actor("section_chief"))
    out = tmp_path / "out"
    out.mkdir()
    seen, leaks = 0, []
    for mod_name, name, fn in use_cases():
        params = list(inspect.signature(fn).parameters.values())[2:]
        args = [_dummy(p, out) for p in params if p.default is inspect.Parameter.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        kwargs = {p.name: _dummy(p, out) for p in params if p.default is inspect.Parameter.empty
                  and p.kind == p.KEYWORD_ONLY}
        seen += 1
        try:
            fn(crm.svc, actor, *args, **kwargs)
        except PasswordChangeRequired:
            continue
        except Exception as e:  # noqa: BLE001
            leaks.append(f"{mod_name}.{name}: {type(e).__name__}: {e}")
            continue
        leaks.append(f"{mod_name}.{name}: ran")
    assert seen > 100
    assert leaks == [], "\n".join(leaks)
    assert list(out.iterdir()) == []  # nothing exported


def test_sign_in_with_a_one_time_password_holds_the_session_to_the_change(crm: Crm) -> None:
    admin = crm.actor("admin")
    _sid, otp = staff.add_user(crm.svc, admin, "xinren", ["front_desk"], "新人", approval_note="王科长")
    signin = staff.sign_in(crm.svc, "xinren", otp)
    assert signin.must_change_password and signin.reason == "first" and signin.actor.must_change_password
    assert not signin.actor.can("customer.view")
    from crm_tui.services import customers as cs

    with pytest.raises(PasswordChangeRequired) as err:
        cs.search(crm.svc, signin.actor, "")
    assert "user passwd" in err.value.message
    assert crm.count("audit_log", "action = 'permission.denied' AND actor_name = 'xinren'"
                     " AND details LIKE '%password_change_required%'") == 1
    staff.record_event(crm.svc, signin.actor, "auth.logout", reason="sign_out")  # signing out is allowed
    after = staff.change_password(crm.svc, signin.actor, otp, "Chenli-pass-2026")
    assert not after.must_change_password and after.can("customer.view")
    assert cs.search(crm.svc, after, "").rows == []
    again = staff.sign_in(crm.svc, "xinren", "Chenli-pass-2026")
    assert not again.must_change_password and not again.actor.must_change_password


def test_an_expired_password_holds_the_session_too(crm: Crm) -> None:
    crm.clock.advance(days=int(crm.svc.setting("security", "password_max_age_days")) + 1)
    signin = staff.sign_in(crm.svc, "jingli", "Passw0rd-99")
    assert signin.reason == "expired" and signin.actor.must_change_password
    from crm_tui.services import home

    with pytest.raises(PasswordChangeRequired):
        home.today(crm.svc, signin.actor)
