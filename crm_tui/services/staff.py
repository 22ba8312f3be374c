"""Staff accounts (R-SEC-1), sign-in with lockout, password changes, A/B posts (R-SEC-7)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from crm_tui.domain import passwords
from crm_tui.domain.errors import Conflict, CrmError, NotFound, ValidationError
from crm_tui.domain.roles import all_roles, parse_role
from crm_tui.i18n import N_
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.store.queries import staff as q

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


def _roles_of(session, staff_id: int) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    return q.roles_of(session, staff_id)


def _staff_row(session, r: q.Account | None) -> StaffRow | None:  # type: ignore[no-untyped-def]
    if r is None:
        return None
    return StaffRow(
        id=r.id, username=r.username, display_name=r.display_name, roles=_roles_of(session, r.id), active=r.active,
        must_change_password=r.must_change_password, locked_until=_dt(r.locked_until),
        last_login_at=_dt(r.last_login_at), password_set_at=_dt(r.password_set_at),  # type: ignore[arg-type]
    )


def _row_by_id(session, staff_id: int) -> StaffRow | None:  # type: ignore[no-untyped-def]
    return _staff_row(session, q.account_by_id(session, staff_id))


def _row_by_username(session, username: str) -> StaffRow | None:  # type: ignore[no-untyped-def]
    return _staff_row(session, q.account_by_username(session, username))


def _insert_staff(tx: Tx, username: str, display_name: str, roles: list[str], password: str,
                  must_change: bool, approval_note: str | None) -> int:
    username = _validate_username(username)
    display_name = _validate_display_name(display_name or username)
    codes = sorted({parse_role(r) for r in roles})
    if not codes:
        raise ValidationError("roles", "Give the account at least one role.")
    if q.username_taken(tx.session, username):
        raise Conflict("The user name '{username}' is taken (accounts are never deleted).", username=username)
    staff_id = q.insert_staff(tx.session, username=username, display_name=display_name,
                              password_hash=_hasher.hash(password), now=tx.now, must_change=must_change,
                              approval_note=approval_note, by=tx.actor.staff_id, roles=codes)
    tx.audit("staff.create", entity="staff", entity_id=staff_id,
             details={"username": username, "display_name": display_name, "roles": codes,
                      "approval_note": approval_note})
    return staff_id


def count_staff(svc: Services) -> int:
    with svc.store.read() as s:
        return q.count_staff(s)


def create_first_admin(svc: Services, username: str, password: str, display_name: str | None = None) -> int:
    """``crm-tui init``: the first administrator, allowed only while no account exists."""
    with svc.write(Actor.system()) as tx:
        if q.count_staff(tx.session):
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
        ids = q.staff_ids(s, include_disabled)
        return [r for i in ids if (r := _row_by_id(s, i))]


def get_staff(svc: Services, username: str) -> StaffRow:
    with svc.store.read() as s:
        row = _row_by_username(s, username.strip())
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
        if not q.other_active_admins(tx.session, target.id):
            raise Conflict("This is the last active administrator; add another one first.")


def _write_active(tx: Tx, target: StaffRow, active: bool) -> None:
    q.set_active(tx.session, target.id, active, tx.now)
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

def _holdings(s, staff_id: int, today: date) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from crm_tui.domain import complaints as dc
    from crm_tui.domain import grades as dg

    out = {}
    for kind in HOLDING_LABELS:
        n = q.holding(s, kind, staff_id, today, ticket_states=dc.OPEN_STATES, application_states=dg.OPEN_STATES)
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
            receiver = _row_by_username(tx.session, handover_to.strip())
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

    by = tx.actor.staff_id
    if held.get("customers"):
        ids = q.owned_customer_ids(tx.session, src.id)
        customers.handover_in(tx, src.id, dst.id, ids, note, from_staff=src.username, to_staff=dst.username,
                              all_=True)
    if held.get("cards"):
        q.hand_over_cards(tx.session, src.id, dst.id, tx.now, by)
    if held.get("tickets"):
        q.hand_over_tickets(tx.session, src.id, dst.id, dst.display_name, dc.OPEN_STATES, tx.now, by)
    if held.get("applications"):
        q.hand_over_applications(tx.session, src.id, dst.id, dg.OPEN_STATES)
    if held.get("contacts"):
        # the receiver takes the leaver's place among the other staff in contact, unless already
        # there or now the owner
        q.hand_over_contacts(tx.session, src.id, dst.id)
    if held.get("covers"):
        # the leaver's own absences end; where the leaver was the backup, the receiver takes over
        q.hand_over_covers(tx.session, src.id, dst.id, tx.now, tx.now.date())
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
        q.replace_roles(tx.session, target.id, codes)
        tx.audit("staff.roles", entity="staff", entity_id=target.id,
                 details={"username": target.username, "old": list(target.roles), "new": codes})
    return tuple(codes)


def reset_password(svc: Services, actor: Actor, username: str) -> str:
    """A forgotten password: the administrator issues a new one-time password."""
    svc.check_password_current(actor)
    target = get_staff(svc, username)
    otp = passwords.one_time_password()
    with svc.write(actor, "staff.manage", target=username) as tx:
        q.set_one_time_password(tx.session, target.id, _hasher.hash(otp), tx.now)
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

        r = q.login(s, username.strip())
        if r is None:
            log("auth.login_failed", None, {"reason": "unknown_user"})
            failure: CrmError = bad
        else:
            staff_id, hashed, active, failed, locked_until = r.id, r.password_hash, r.active, r.failed_logins, _dt(
                r.locked_until)
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
                    q.set_failed_logins(s, staff_id, 0 if lock else failed, lock)
                    log("auth.login_failed", staff_id, {"reason": "password", "attempt": failed})
                    if lock:
                        log("auth.locked_out", staff_id, {"until": lock.isoformat(timespec="minutes")})
                        failure = SignInFailed("Too many wrong passwords: the account is locked for {minutes} minute(s).",
                                               minutes=int(svc.setting("security", "lockout_minutes")))
                    else:
                        failure = bad
                else:
                    new_hash = _hasher.hash(password) if _hasher.check_needs_rehash(hashed) else hashed
                    q.record_login(s, staff_id, now, new_hash)
                    log("auth.login", staff_id, {})
        if failure is None:
            row = _row_by_id(s, r.id)
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
        h = q.active_password_hash(s, actor.staff_id)
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
        q.set_password(tx.session, actor.staff_id, _hasher.hash(new_password), tx.now)
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
        if q.cover_overlaps(tx.session, a.id, start, end):
            raise Conflict("{name} already has a backup for part of that period; revoke it first.",
                           name=a.display_name)
        cover_id = q.insert_cover(tx.session, a.id, b.id, start, end, note, tx.now, actor.staff_id)
        tx.audit("staff.cover_set", entity="ab_post", entity_id=cover_id,
                 details={"absent": a.username, "backup": b.username, "from": start.isoformat(),
                          "to": end.isoformat(), "note": note})
    return int(cover_id)


def revoke_cover(svc: Services, actor: Actor, cover_id: int) -> None:
    svc.check_password_current(actor)
    with svc.write(actor) as tx:
        absent_id = q.live_cover_absent_id(tx.session, cover_id)
        if absent_id is None:
            raise NotFound("No such A/B arrangement.")
        if absent_id != actor.staff_id and not actor.can("staff.ab_post"):
            svc.require(actor, "staff.ab_post")
        q.revoke_cover(tx.session, cover_id, tx.now)
        tx.audit("staff.cover_revoked", entity="ab_post", entity_id=cover_id)


def covers(svc: Services, *, on: date | None = None, backup_id: int | None = None) -> list[Cover]:
    """Arrangements in force on a date (all current and future ones when ``on`` is None)."""
    with svc.store.read() as s:
        rows = q.covers(s, on=on, today=svc.now().date(), backup_id=backup_id)
    return [Cover(r.id, r.absent_id, r.absent_name, r.backup_id, r.backup_name, date.fromisoformat(str(r.start_date)),
                  date.fromisoformat(str(r.end_date)), r.note)
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
        return q.covered_absent_ids(s, actor.staff_id, today_)


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
