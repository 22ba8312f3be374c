"""Staff accounts (``user ...``) and A/B posts (``user cover ...``)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from crm_tui.cli.common import _ask_password, _out, _pad, _signed_in, user_app
from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[list[str], typer.Option("--role", help="Role code or name; repeat for several.")],
    display_name: Annotated[Optional[str], typer.Option("--display-name")] = None,
    approval: Annotated[Optional[str], typer.Option("--approval", help="Required: the department head who approved opening the account (R-SEC-1).")] = None,
) -> None:
    """Open an account; prints its one-time password, which must be changed at first sign-in."""
    from crm_tui.services import staff

    svc, actor = _signed_in()
    try:
        _staff_id, otp = staff.add_user(svc, actor, username, role, display_name, approval)
    finally:
        svc.close()
    _out(_("Account {user} created. One-time password (shown once): {otp}", user=username, otp=otp))


cover_app = typer.Typer(help="A/B posts (R-SEC-7): who covers an absent colleague, set and revoked by supervisors.",
                        no_args_is_help=True)
user_app.add_typer(cover_app, name="cover")


@cover_app.command("set")
def cover_set(
    absent: str,
    backup: str,
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
    note: Annotated[str, typer.Option("--note", help="The handover note.")] = "",
) -> None:
    """BACKUP covers ABSENT (user names) from --from to --to; while it runs BACKUP works ABSENT's
    follow-up cards and complaints. Section chiefs, deputy managers and administrators (staff.ab_post)."""
    from crm_tui.domain.validation import parse_day
    from crm_tui.services import staff

    svc, actor = _signed_in()
    try:
        today = svc.now().date()
        days = [parse_day(v, f, today=today, allow_future=True) for v, f in ((start, "from"), (end, "to"))]
        cover_id = staff.set_cover(svc, actor, absent, backup, days[0], days[1], note or None)
    finally:
        svc.close()
    _out(_("A/B post {id} recorded: {backup} covers {absent} from {start} to {end}.", id=cover_id, backup=backup,
           absent=absent, start=days[0].isoformat(), end=days[1].isoformat()))


@cover_app.command("list")
def cover_list() -> None:
    """Covers in force or planned: id, absent, backup, from, to, note."""
    from crm_tui.services import staff

    svc, actor = _signed_in()
    try:
        svc.check_password_current(actor)
        rows = staff.covers(svc)
    finally:
        svc.close()
    for c in rows:
        _out(f"{c.id:>5}  {_pad(c.absent_name, 10)} -> {_pad(c.backup_name, 10)} {c.start_date} {c.end_date}  {c.note or ''}")
    if not rows:
        _out(_("None."))


@cover_app.command("revoke")
def cover_revoke(cover_id: int) -> None:
    """End a cover now (ids: `user cover list`)."""
    from crm_tui.services import staff

    svc, actor = _signed_in()
    try:
        staff.revoke_cover(svc, actor, cover_id)
    finally:
        svc.close()
    _out(_("A/B post revoked."))


@user_app.command("list")
def user_list() -> None:
    """All accounts, active first."""
    from crm_tui.domain.roles import role_label
    from crm_tui.services import staff

    svc, actor = _signed_in()
    try:
        svc.require(actor, "staff.manage")
        rows = staff.list_staff(svc, actor)
    finally:
        svc.close()
    for r in rows:
        state = _("active") if r.active else _("disabled")
        roles = ", ".join(role_label(x) for x in r.roles)
        _out(f"{_pad(r.username, 16)} {_pad(r.display_name, 12)} {_pad(state, 8)} {roles}")


@user_app.command("disable")
def user_disable(
    username: str,
    handover_to: Annotated[Optional[str], typer.Option("--handover-to", help="Colleague who takes over the leaver's customers, cards, tickets, applications, contacts and cover duties (R-CUST-11).")] = None,
    note: Annotated[str, typer.Option("--note", help="Note kept with the handover record.")] = "",
) -> None:
    """Disable an account (never deleted, so history keeps the name).

    Refused while the account still holds customers or other work, unless --handover-to names who
    takes it over; everything moves in one transaction and the customers are marked to be told."""
    from crm_tui.services import staff

    svc, actor = _signed_in()
    try:
        held = staff.disable_user(svc, actor, username, handover_to=handover_to, note=note)
    finally:
        svc.close()
    if held:
        _out(_("Handed over to {other}: {what}", other=handover_to, what=staff.holdings_text(held)))
        if held.get("customers"):
            _out(_("{n} customers are marked to be told of their new contact.", n=held["customers"]))
    _out(_("Account {user} disabled.", user=username))


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Enable a disabled account again."""
    from crm_tui.services import staff

    svc, actor = _signed_in()
    try:
        staff.enable_user(svc, actor, username)
    finally:
        svc.close()
    _out(_("Account {user} enabled.", user=username))


@user_app.command("roles")
def user_roles(username: str, roles: list[str]) -> None:
    """Replace an account's roles."""
    from crm_tui.domain.roles import role_label
    from crm_tui.services import staff

    svc, actor = _signed_in()
    try:
        codes = staff.set_roles(svc, actor, username, roles)
    finally:
        svc.close()
    _out(_("Roles of {user}: {roles}", user=username, roles=", ".join(role_label(c) for c in codes)))


@user_app.command("passwd")
def user_passwd() -> None:
    """Change your own password (--user NAME; old, new and repeated new password)."""
    from crm_tui.services import staff

    svc, actor = _signed_in(password_change=True)
    try:
        old = _ask_password(_("Current password: "))
        new = _ask_password(_("New password: "))
        if new != _ask_password(_("Repeat the password: ")):
            raise CrmError("The two passwords differ; nothing was changed.")
        staff.change_password(svc, actor, old, new)
    finally:
        svc.close()
    _out(_("Password changed."))
