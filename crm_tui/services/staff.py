"""Staff accounts (R-SEC-1), sign-in with lockout, password changes, A/B posts (R-SEC-7)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import text

from crm_tui.domain import passwords
from crm_tui.domain.errors import Conflict, CrmError, NotFound, ValidationError
from crm_tui.domain.roles import all_roles, parse_role
from crm_tui.i18n import N_
from crm_tui.services.context import Actor, Services, Tx

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class SignInFailed(CrmError):
    exit_code = 2


@dataclass(frozen=True)
class StaffRow:
    id: int
    username: str
    display_name: str
    roles: tuple[str, ...]
    active: bool
    must_change_password: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    password_set_at: datetime


@dataclass(frozen=True)
class SignIn:
    actor: Actor
    must_change_password: bool
    reason: str | None  # "first" | "expired" | None


def _dt(v: object) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


def _validate_username(username: str) -> str:
    name = username.strip()
    if not (2 <= len(name) <= 40) or not all(c.isalnum() or c in "._-" for c in name):
        raise ValidationError(
            "username", "A user name has 2 to 40 letters, digits, dots, dashes or underscores."
        )
    return name


def _validate_display_name(display_name: str) -> str:
    name = display_name.strip()
    if not (1 <= len(name) <= 40) or any(ord(c) < 32 for c in name):
        raise ValidationError("display_name", "A display name has 1 to 40 characters.")
    return name


def _roles_of(tx_or_session, staff_id: int) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    rows = tx_or_session.execute(text("SELECT role FROM staff_role WHERE staff_id = :i ORDER BY role"), {"i": staff_id})
    return tuple(r[0] for r in rows)


def _row(session, where: str, params: dict) -> StaffRow | None:  # type: ignore[no-untyped-def]
    r = session.execute(
        text(
            "SELECT id, username, display_name, active, must_change_password, locked_until, last_login_at,"
            f" password_set_at FROM staff WHERE {where}"
        ),
        params,
    ).first()
    if r is None:
        return None
    return StaffRow(
        id=r[0], username=r[1], display_name=r[2], roles=_roles_of(session, r[0]), active=bool(r[3]),
        must_change_password=bool(r[4]), locked_until=_dt(r[5]), last_login_at=_dt(r[6]),
        password_set_at=_dt(r[7]),  # type: ignore[arg-type]
    )


def _insert_staff(tx: Tx, username: str, display_name: str, roles: list[str], password: str,
                  must_change: bool, approval_note: str | None) -> int:
    username = _validate_username(username)
    display_name = _validate_display_name(display_name or username)
    codes = sorted({parse_role(r) for r in roles})
    if not codes:
        raise ValidationError("roles", "Give the account at least one role.")
    if tx.execute("SELECT 1 FROM staff WHERE username = :u", {"u": username}).first():
        raise Conflict("The user name '{username}' is taken (accounts are never deleted).", username=username)
    staff_id = tx.execute(
        "INSERT INTO staff (username, display_name, password_hash, password_set_at, must_change_password,"
        " active, failed_logins, approval_note, created_at, created_by_id)"
        " VALUES (:u, :d, :h, :now, :m, 1, 0, :a, :now, :by) RETURNING id",
        {"u": username, "d": display_name, "h": _hasher.hash(password), "now": tx.now, "m": must_change,
         "a": approval_note, "by": tx.actor.staff_id},
    ).scalar_one()
    for code in codes:
        tx.execute("INSERT INTO staff_role (staff_id, role) VALUES (:i, :r)", {"i": staff_id, "r": code})
    tx.audit("staff.create", entity="staff", entity_id=staff_id,
             details={"username": username, "display_name": display_name, "roles": codes,
                      "approval_note": approval_note})
    return staff_id


def count_staff(svc: Services) -> int:
    with svc.store.read() as s:
        return int(s.execute(text("SELECT count(*) FROM staff")).scalar_one())


def create_first_admin(svc: Services, username: str, password: str, display_name: str | None = None) -> int:
    """``crm-tui init``: the first administrator, allowed only while no account exists."""
    with svc.write(Actor.system()) as tx:
        if tx.execute("SELECT count(*) FROM staff").scalar_one():
            raise Conflict("Staff accounts already exist; sign in as an administrator to add more.")
        passwords.check_policy(password, username=username, min_length=svc.setting("security", "password_min_length"))
        return _insert_staff(tx, username, display_name or username, ["admin"], password, False, "crm-tui init")


def check_approver(actor: Actor, approval_note: str | None) -> str:
    """R-SEC-1: the department head who approved opening the account, required; not the person who
    opens it (two people, not one)."""
    approver = " ".join((approval_note or "").split())
    if not approver:
        raise ValidationError("approval", "An account is opened only on a department head's approval: name who "
                                          "approved it (for example 王科长 2026-12-01).")
    if len(approver) > 100:
        raise ValidationError("approval", "Too long: at most {max_len} characters (currently {length})",
                              max_len=100, length=len(approver))
    first = approver.split()[0].casefold()
    if first in {actor.username.casefold(), (actor.display_name or "").casefold()}:
        raise ValidationError("approval", "The department head approves the account, not the administrator "
                                          "who opens it.")
    return approver


def add_user(svc: Services, actor: Actor, username: str, roles: list[str], display_name: str | None = None,
             approval_note: str | None = None) -> tuple[int, str]:
    """An administrator opens an account on a department head's approval (R-SEC-1): ``approval_note``
    names who approved it and is required; the administrator opening the account cannot be its
    approver. Returns (id, one-time password shown once)."""
    otp = passwords.one_time_password()
    with svc.write(actor, "staff.manage") as tx:
        approver = check_approver(actor, approval_note)
        staff_id = _insert_staff(tx, username, display_name or username, roles, otp, True, approver)
    return staff_id, otp


def add_user_with_password(svc: Services, actor: Actor, username: str, roles: list[str], password: str,
                           display_name: str | None = None) -> int:
    """Demo data only: an account with a known password that need not be changed."""
    with svc.write(actor, "staff.manage") as tx:
        return _insert_staff(tx, username, display_name or username, roles, password, False, "demo")


def list_staff(svc: Services, actor: Actor | None = None, include_disabled: bool = True) -> list[StaffRow]:
    if actor is not None:
        svc.check_password_current(actor)
    with svc.store.read() as s:
        ids = [r[0] for r in s.execute(text(
            "SELECT id FROM staff" + ("" if include_disabled else " WHERE active") + " ORDER BY active DESC, username"))]
        return [r for i in ids if (r := _row(s, "id = :i", {"i": i}))]


def get_staff(svc: Services, username: str) -> StaffRow:
    with svc.store.read() as s:
        row = _row(s, "username = :u", {"u": username.strip()})
    if row is None:
        raise NotFound("No staff account named '{username}'.", username=username)
    return row


def _set_active(svc: Services, actor: Actor, username: str, active: bool) -> None:
    svc.check_password_current(actor)
    target = get_staff(svc, username)
    with svc.write(actor, "staff.manage", target=username) as tx:
        if not active:
            _check_may_disable(tx, actor, target)
        _write_active(tx, target, active)


def _check_may_disable(tx: Tx, actor: Actor, target: StaffRow) -> None:
    if target.id == actor.staff_id:
        raise Conflict("You cannot disable your own account.")
    if "admin" in target.roles:
        admins = tx.execute(
            "SELECT count(*) FROM staff s JOIN staff_role r ON r.staff_id = s.id AND r.role = 'admin'"
            " WHERE s.active AND s.id != :i", {"i": target.id}).scalar_one()
        if not admins:
            raise Conflict("This is the last active administrator; add another one first.")


def _write_active(tx: Tx, target: StaffRow, active: bool) -> None:
    tx.execute("UPDATE staff SET active = :a, disabled_at = :d, failed_logins = 0, locked_until = NULL"
               " WHERE id = :i", {"a": active, "d": None if active else tx.now, "i": target.id})
    tx.audit("staff.enable" if active else "staff.disable", entity="staff", entity_id=target.id,
             details={"username": target.username})


# -- leaving staff (R-CUST-11, R-SEC-1) ----------------------------------------------------------

#: What a leaver may still hold, in the order it is listed; each is handed over on disabling.
HOLDING_LABELS: dict[str, str] = {
    "customers": N_("customers they are responsible for"),
    "cards": N_("open follow-up cards"),
    "tickets": N_("complaint tickets assigned to them"),
    "applications": N_("pending grade change applications"),
    "contacts": N_("customers they are 'other staff in contact' for"),
    "covers": N_("A/B cover duties"),
}

_HOLDING_SQL: dict[str, str] = {
    "customers": "SELECT count(*) FROM customer WHERE owner_id = :s AND erased_at IS NULL",
    "cards": "SELECT count(*) FROM followup_card WHERE owner_id = :s AND status = 'open'",
    "tickets": "SELECT count(*) FROM complaint WHERE assignee_id = :s AND state IN ({tickets})",
    "applications": "SELECT count(*) FROM grade_application WHERE applicant_id = :s AND state IN ({applications})",
    "contacts": "SELECT count(*) FROM customer_staff cs JOIN customer c ON c.id = cs.customer_id"
                " WHERE cs.staff_id = :s AND c.erased_at IS NULL",
    "covers": "SELECT count(*) FROM ab_post WHERE (absent_id = :s OR backup_id = :s) AND revoked_at IS NULL"
              " AND end_date >= :today",
}


def _in_list(states: tuple[str, ...]) -> str:
    return ", ".join(f"'{x}'" for x in states)


def _holding_sql(kind: str) -> str:
    from crm_tui.domain import complaints as dc
    from crm_tui.domain import grades as dg

    return _HOLDING_SQL[kind].format(tickets=_in_list(dc.OPEN_STATES), applications=_in_list(dg.OPEN_STATES))


def _holdings(s, staff_id: int, today: date) -> dict[str, int]:  # type: ignore[no-untyped-def]
    out = {}
    for kind in HOLDING_LABELS:
        n = int(s.execute(text(_holding_sql(kind)), {"s": staff_id, "today": today}).scalar_one())
        if n:
            out[kind] = n
    return out


def holdings(svc: Services, actor: Actor, username: str) -> dict[str, int]:
    """What ``username`` still holds (kind -> count, only kinds with something), which must be handed
    over before the account is disabled. Needs staff.manage."""
    svc.require(actor, "staff.manage", target=username)
    target = get_staff(svc, username)
    with svc.store.read() as s:
        return _holdings(s, target.id, svc.now().date())


def holdings_text(held: dict[str, int]) -> str:
    from crm_tui.i18n import _

    return "; ".join(f"{_(HOLDING_LABELS[k])}: {n}" for k, n in held.items())


class StillHolds(Conflict):
    """Disabling refused: the account still holds work (R-CUST-11); ``held`` says what."""

    def __init__(self, name: str, held: dict[str, int]) -> None:
        super().__init__(N_("{name} still holds {what}. Hand them over first (--handover-to OTHER, or choose the"
                            " receiver in the staff screen); nothing was changed."), name=name,
                         what=holdings_text(held))
        self.held = held


def disable_user(svc: Services, actor: Actor, username: str, *, handover_to: str | None = None,
                 note: str = "") -> dict[str, int]:
    """Close a leaver's account (R-SEC-1). Refused (:class:`StillHolds`) while the account still holds
    customers, open cards, assigned tickets, pending grade applications, 'other staff in contact'
    rows or A/B cover duties, unless ``handover_to`` names an active colleague: then all of it moves
    to them and the account is disabled in one transaction, audited; the customers are marked to
    be told of their new contact (R-CUST-11). Returns what was handed over."""
    from crm_tui.domain.validation import clean_text

    svc.check_password_current(actor)
    target = get_staff(svc, username)
    clean_note = clean_text(note, "note", max_len=500, multiline=True) if note else None
    with svc.write(actor, "staff.manage", target=username) as tx:
        _check_may_disable(tx, actor, target)
        if not target.active:
            raise Conflict("{name}'s account is already disabled.", name=target.display_name)
        held = _holdings(tx.session, target.id, tx.now.date())
        if held and handover_to is None:
            raise StillHolds(target.display_name, held)
        if held:
            assert handover_to is not None
            receiver = _row(tx.session, "username = :u", {"u": handover_to.strip()})
            if receiver is None:
                raise ValidationError("handover_to", "No staff account named '{username}'.", username=handover_to)
            if receiver.id == target.id:
                raise ValidationError("handover_to", "Hand over to someone else")
            if not receiver.active:
                raise ValidationError("handover_to", "{name}'s account is disabled; choose an active colleague",
                                      name=receiver.display_name)
            _hand_over_all(tx, target, receiver, held, clean_note)
        _write_active(tx, target, False)
    return held


def _hand_over_all(tx: Tx, src: StaffRow, dst: StaffRow, held: dict[str, int], note: str | None) -> None:
    from crm_tui.domain import complaints as dc
    from crm_tui.domain import grades as dg
    from crm_tui.services import customers

    p = {"s": src.id, "d": dst.id, "now": tx.now, "by": tx.actor.staff_id, "today": tx.now.date()}
    if held.get("customers"):
        ids = [r[0] for r in tx.execute("SELECT id FROM customer WHERE owner_id = :s AND erased_at IS NULL"
                                        " ORDER BY id", p)]
        customers.handover_in(tx, src.id, dst.id, ids, note, from_staff=src.username, to_staff=dst.username,
                              all_=True)
    if held.get("cards"):
        tx.execute("UPDATE followup_card SET owner_id = :d, updated_at = :now, updated_by_id = :by, version = version + 1"
                   " WHERE owner_id = :s AND status = 'open'", p)
    if held.get("tickets"):
        rows = tx.execute(f"SELECT id, customer_id, state FROM complaint WHERE assignee_id = :s"
                          f" AND state IN ({_in_list(dc.OPEN_STATES)})", p).all()
        tx.execute(f"UPDATE complaint SET assignee_id = :d, updated_at = :now, version = version + 1"
                   f" WHERE assignee_id = :s AND state IN ({_in_list(dc.OPEN_STATES)})", p)
        for cid, customer_id, state in rows:
            tx.execute("INSERT INTO complaint_event (complaint_id, customer_id, at, actor_id, action, from_state,"
                       " to_state, note) VALUES (:c, :cu, :now, :by, 'reassign', :st, :st, :n)",
                       {**p, "c": cid, "cu": customer_id, "st": state, "n": dst.display_name})
    if held.get("applications"):
        tx.execute(f"UPDATE grade_application SET applicant_id = :d WHERE applicant_id = :s"
                   f" AND state IN ({_in_list(dg.OPEN_STATES)})", p)
    if held.get("contacts"):
        # the receiver takes the leaver's place among the other staff in contact, unless already
        # there or now the owner
        tx.execute("INSERT OR IGNORE INTO customer_staff (customer_id, staff_id)"
                   " SELECT cs.customer_id, :d FROM customer_staff cs JOIN customer c ON c.id = cs.customer_id"
                   " WHERE cs.staff_id = :s AND c.owner_id != :d", p)
        tx.execute("DELETE FROM customer_staff WHERE staff_id = :s", p)
    if held.get("covers"):
        # the leaver's own absences end; where the leaver was the backup, the receiver takes over
        tx.execute("UPDATE ab_post SET revoked_at = :now WHERE revoked_at IS NULL AND end_date >= :today"
                   " AND (absent_id = :s OR (backup_id = :s AND absent_id = :d))", p)
        tx.execute("UPDATE ab_post SET backup_id = :d WHERE revoked_at IS NULL AND end_date >= :today"
                   " AND backup_id = :s", p)
    tx.audit("staff.handover", entity="staff", entity_id=src.id,
             details={"username": src.username, "to": dst.username, "held": held, "note": note})


def enable_user(svc: Services, actor: Actor, username: str) -> None:
    _set_active(svc, actor, username, True)


def set_roles(svc: Services, actor: Actor, username: str, roles: list[str]) -> tuple[str, ...]:
    svc.check_password_current(actor)
    target = get_staff(svc, username)
    codes = sorted({parse_role(r) for r in roles})
    if not codes:
        raise ValidationError("roles", "Give the account at least one role.")
    with svc.write(actor, "staff.manage", target=username) as tx:
        if target.id == actor.staff_id and "admin" not in codes:
            raise Conflict("You cannot remove the administrator role from yourself.")
        tx.execute("DELETE FROM staff_role WHERE staff_id = :i", {"i": target.id})
        for code in codes:
            tx.execute("INSERT INTO staff_role (staff_id, role) VALUES (:i, :r)", {"i": target.id, "r": code})
        tx.audit("staff.roles", entity="staff", entity_id=target.id,
                 details={"username": target.username, "old": list(target.roles), "new": codes})
    return tuple(codes)


def reset_password(svc: Services, actor: Actor, username: str) -> str:
    """A forgotten password: the administrator issues a new one-time password."""
    svc.check_password_current(actor)
    target = get_staff(svc, username)
    otp = passwords.one_time_password()
    with svc.write(actor, "staff.manage", target=username) as tx:
        tx.execute("UPDATE staff SET password_hash = :h, password_set_at = :now, must_change_password = 1,"
                   " failed_logins = 0, locked_until = NULL WHERE id = :i",
                   {"h": _hasher.hash(otp), "now": tx.now, "i": target.id})
        tx.audit("staff.password_reset", entity="staff", entity_id=target.id, details={"username": target.username})
    return otp


# -- signing in --------------------------------------------------------------------------------

def _actor_for(session, row: StaffRow, today: date) -> Actor:  # type: ignore[no-untyped-def]
    return Actor(row.id, row.username, row.display_name, frozenset(row.roles))


def sign_in(svc: Services, username: str, password: str) -> SignIn:
    """Check the password; 5 wrong in a row lock the account for 15 minutes (both configurable)."""
    now = svc.now()
    bad = SignInFailed("Wrong user name or password.")
    with svc.store.write() as s:
        from crm_tui.store import audit as audit_store

        def log(action: str, staff_id: int | None, details: dict) -> None:
            audit_store.append(s, at=now, actor_id=staff_id, actor_name=username.strip()[:40] or "?",
                               action=action, entity="staff", entity_id=staff_id, details=details)

        r = s.execute(text("SELECT id, password_hash, active, failed_logins, locked_until FROM staff"
                           " WHERE username = :u"), {"u": username.strip()}).first()
        if r is None:
            log("auth.login_failed", None, {"reason": "unknown_user"})
            failure: CrmError = bad
        else:
            staff_id, hashed, active, failed, locked_until = r[0], r[1], bool(r[2]), int(r[3]), _dt(r[4])
            failure = None  # type: ignore[assignment]
            if not active:
                log("auth.login_failed", staff_id, {"reason": "disabled"})
                failure = SignInFailed("This account is disabled. Ask an administrator.")
            elif locked_until and locked_until > now:
                log("auth.login_failed", staff_id, {"reason": "locked"})
                minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
                failure = SignInFailed("Too many wrong passwords: the account is locked for {minutes} more minute(s).",
                                       minutes=minutes)
            else:
                try:
                    _hasher.verify(hashed, password)
                    ok = True
                except (VerifyMismatchError, VerificationError, InvalidHashError):
                    ok = False
                if not ok:
                    failed += 1
                    limit = int(svc.setting("security", "lockout_attempts"))
                    lock = now + timedelta(minutes=int(svc.setting("security", "lockout_minutes"))) if failed >= limit else None
                    s.execute(text("UPDATE staff SET failed_logins = :f, locked_until = :l WHERE id = :i"),
                              {"f": 0 if lock else failed, "l": lock, "i": staff_id})
                    log("auth.login_failed", staff_id, {"reason": "password", "attempt": failed})
                    if lock:
                        log("auth.locked_out", staff_id, {"until": lock.isoformat(timespec="minutes")})
                        failure = SignInFailed("Too many wrong passwords: the account is locked for {minutes} minute(s).",
                                               minutes=int(svc.setting("security", "lockout_minutes")))
                    else:
                        failure = bad
                else:
                    new_hash = _hasher.hash(password) if _hasher.check_needs_rehash(hashed) else hashed
                    s.execute(text("UPDATE staff SET failed_logins = 0, locked_until = NULL, last_login_at = :now,"
                                   " password_hash = :h WHERE id = :i"), {"now": now, "h": new_hash, "i": staff_id})
                    log("auth.login", staff_id, {})
        if failure is None:
            row = _row(s, "id = :i", {"i": r[0]})
    if failure is not None:
        raise failure
    assert row is not None
    reason = None
    if row.must_change_password:
        reason = "first"
    elif passwords.password_expired(row.password_set_at, now, int(svc.setting("security", "password_max_age_days"))):
        reason = "expired"
    return SignIn(Actor(row.id, row.username, row.display_name, frozenset(row.roles),
                        must_change_password=reason is not None), reason is not None, reason)


def check_password(svc: Services, actor: Actor, password: str, purpose: str) -> bool:
    """Re-entering one's password (unlock, recovery code export). Failures are audited."""
    with svc.store.write() as s:
        h = s.execute(text("SELECT password_hash FROM staff WHERE id = :i AND active"), {"i": actor.staff_id}).scalar()
        try:
            ok = bool(h) and _hasher.verify(h, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            from crm_tui.store import audit as audit_store

            audit_store.append(s, at=svc.now(), actor_id=actor.staff_id, actor_name=actor.username,
                               action="auth.reauth_failed", entity="staff", entity_id=actor.staff_id,
                               details={"purpose": purpose})
    return ok


def change_password(svc: Services, actor: Actor, old_password: str, new_password: str) -> Actor:
    """The one thing a session with a one-time or expired password may do. Returns the actor the
    session goes on with (no longer held to the password change)."""
    if not check_password(svc, actor, old_password, "password_change"):
        raise ValidationError("old_password", "The current password is wrong.")
    passwords.check_policy(new_password, username=actor.username,
                           min_length=int(svc.setting("security", "password_min_length")), old_password=old_password)
    with svc.write(actor, password_change=True) as tx:
        tx.execute("UPDATE staff SET password_hash = :h, password_set_at = :now, must_change_password = 0"
                   " WHERE id = :i", {"h": _hasher.hash(new_password), "now": tx.now, "i": actor.staff_id})
        tx.audit("auth.password_changed", entity="staff", entity_id=actor.staff_id)
    return replace(actor, must_change_password=False)


def record_event(svc: Services, actor: Actor, action: str, **details: object) -> None:
    """Sign-out, lock, unlock, user switch: events with no data change of their own (allowed to a
    session that must still change its password: signing out is)."""
    with svc.write(actor, password_change=True) as tx:
        tx.audit(action, entity="staff", entity_id=actor.staff_id, details={k: str(v) for k, v in details.items()})


def role_names() -> dict[str, str]:
    return {code: r.name for code, r in all_roles().items()}


# -- A/B posts (R-SEC-7) -------------------------------------------------------------------------

@dataclass(frozen=True)
class Cover:
    id: int
    absent_id: int
    absent_name: str
    backup_id: int
    backup_name: str
    start_date: date
    end_date: date
    note: str | None


def set_cover(svc: Services, actor: Actor, absent: str, backup: str, start: date, end: date,
              note: str | None = None) -> int:
    """Name a backup colleague for a date range; recorded as the handover (R-SEC-7)."""
    svc.check_password_current(actor)
    a, b = get_staff(svc, absent), get_staff(svc, backup)
    if a.id == b.id:
        raise ValidationError("backup", "The backup must be someone other than the absent colleague.")
    if end < start:
        raise ValidationError("end_date", "The end date is before the start date.")
    if not b.active:
        raise ValidationError("backup", "The backup's account is disabled.")
    own = actor.staff_id == a.id
    with svc.write(actor, None if own else "staff.ab_post", absent=absent) as tx:
        overlap = tx.execute("SELECT 1 FROM ab_post WHERE absent_id = :a AND revoked_at IS NULL"
                             " AND NOT (end_date < :s OR start_date > :e)",
                             {"a": a.id, "s": start, "e": end}).first()
        if overlap:
            raise Conflict("{name} already has a backup for part of that period; revoke it first.",
                           name=a.display_name)
        cover_id = tx.execute(
            "INSERT INTO ab_post (absent_id, backup_id, start_date, end_date, note, created_at, created_by_id)"
            " VALUES (:a, :b, :s, :e, :n, :now, :by) RETURNING id",
            {"a": a.id, "b": b.id, "s": start, "e": end, "n": note, "now": tx.now, "by": actor.staff_id},
        ).scalar_one()
        tx.audit("staff.cover_set", entity="ab_post", entity_id=cover_id,
                 details={"absent": a.username, "backup": b.username, "from": start.isoformat(),
                          "to": end.isoformat(), "note": note})
    return int(cover_id)


def revoke_cover(svc: Services, actor: Actor, cover_id: int) -> None:
    svc.check_password_current(actor)
    with svc.write(actor) as tx:
        r = tx.execute("SELECT absent_id FROM ab_post WHERE id = :i AND revoked_at IS NULL", {"i": cover_id}).first()
        if r is None:
            raise NotFound("No such A/B arrangement.")
        if r[0] != actor.staff_id and not actor.can("staff.ab_post"):
            svc.require(actor, "staff.ab_post")
        tx.execute("UPDATE ab_post SET revoked_at = :now WHERE id = :i", {"now": tx.now, "i": cover_id})
        tx.audit("staff.cover_revoked", entity="ab_post", entity_id=cover_id)


def covers(svc: Services, *, on: date | None = None, backup_id: int | None = None) -> list[Cover]:
    """Arrangements in force on a date (all current and future ones when ``on`` is None)."""
    sql = ("SELECT p.id, p.absent_id, a.display_name, p.backup_id, b.display_name, p.start_date, p.end_date, p.note"
           " FROM ab_post p JOIN staff a ON a.id = p.absent_id JOIN staff b ON b.id = p.backup_id"
           " WHERE p.revoked_at IS NULL")
    params: dict[str, object] = {}
    if on is not None:
        sql += " AND p.start_date <= :d AND p.end_date >= :d"
        params["d"] = on
    else:
        sql += " AND p.end_date >= :d"
        params["d"] = svc.now().date()
    if backup_id is not None:
        sql += " AND p.backup_id = :b"
        params["b"] = backup_id
    with svc.store.read() as s:
        rows = s.execute(text(sql + " ORDER BY p.start_date"), params).all()
    return [Cover(r[0], r[1], r[2], r[3], r[4], date.fromisoformat(str(r[5])), date.fromisoformat(str(r[6])), r[7])
            for r in rows]


def covering_ids(svc: Services, actor: Actor) -> tuple[int, ...]:
    """R-SEC-7: the absent colleagues ``actor`` covers for now, by the injected clock (a cover
    counts from its first day to its last, unless revoked). Their follow-up cards and complaint
    tickets are in the actor's queues and may be worked by the actor meanwhile."""
    svc.check_password_current(actor)
    if actor.staff_id is None:
        return ()
    today_ = svc.now().date()
    with svc.store.read() as s:
        rows = s.execute(text("SELECT DISTINCT absent_id FROM ab_post WHERE backup_id = :me AND revoked_at IS NULL"
                              " AND start_date <= :d AND end_date >= :d ORDER BY absent_id"),
                         {"me": actor.staff_id, "d": today_}).all()
    return tuple(int(r[0]) for r in rows)


def mine_and_covered(svc: Services, actor: Actor) -> list[int]:
    """The owners whose work is the actor's today: the actor and the colleagues covered (R-SEC-7)."""
    return [i for i in (actor.staff_id, *covering_ids(svc, actor)) if i is not None] or [-1]


def note_cover_work(svc: Services, actor: Actor, absent_id: int, *, entity: str, entity_id: int, what: str) -> None:
    """Record (audit) that ``actor`` works an item of the absent colleague under a cover (R-SEC-7)."""
    with svc.write(actor) as tx:
        tx.audit("staff.cover_work", entity=entity, entity_id=entity_id,
                 details={"absent_id": absent_id, "action": what})


def act_on_behalf(svc: Services, actor: Actor, absent_id: int) -> Actor:
    """The actor working the absent colleague's queues: allowed only during a cover in force."""
    svc.check_password_current(actor)
    today_ = svc.now().date()
    for c in covers(svc, on=today_, backup_id=actor.staff_id):
        if c.absent_id == absent_id:
            record_event(svc, actor, "staff.cover_start", absent=c.absent_name)
            return Actor(actor.staff_id, actor.username, actor.display_name, actor.roles, absent_id, c.absent_name)
    raise Conflict("You have no A/B arrangement for that colleague today.")
