"""The ``crm-tui`` command. Every command calls services; errors are one clear line, no traceback."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import N_, _, set_language
from crm_tui.ui import launch

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="crm-tui: encrypted, keyboard-driven customer management for a branch front desk.",
    epilog="Exit codes: 0 done, 1 error, 2 usage, 3 not allowed, 4 not found, 5 conflict, "
           "75 database busy (another process is writing, e.g. an import: try again), 70 unexpected error.",
    pretty_exceptions_enable=False,
)
key_app = typer.Typer(help="The database key: recovery code export and import.", no_args_is_help=True)
user_app = typer.Typer(help="Staff accounts (administrators).", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(key_app, name="key")
app.add_typer(user_app, name="user")
settings_app = typer.Typer(help="Settings (administrators): idle lock, lockout, password age, language.",
                           no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(settings_app, name="settings")


class Globals:
    data_dir: Optional[Path] = None
    user: Optional[str] = None
    password_stdin: bool = False
    lang: Optional[str] = None
    _stdin_lines: Optional[list[str]] = None


G = Globals()


def _stdin_line() -> str:
    """Passwords and codes from stdin, one per line, read once in order."""
    if G._stdin_lines is None:
        G._stdin_lines = sys.stdin.read().splitlines()
    if not G._stdin_lines:
        raise CrmError("Expected another line on standard input.")
    return G._stdin_lines.pop(0)


def _ask_password(prompt: str) -> str:
    if G.password_stdin:
        return _stdin_line()
    return getpass.getpass(prompt)


def _place():  # type: ignore[no-untyped-def]
    from crm_tui.services import system

    return system.resolve(G.data_dir)


def _signed_in(*, password_change: bool = False):  # type: ignore[no-untyped-def]
    """(services, actor) for commands that act as a staff member. A one-time or expired password
    lets only ``user passwd`` through (``password_change``); every other command is refused, audited,
    before it does anything (R-SEC-1)."""
    from crm_tui.services import staff, system

    if not G.user:
        raise CrmError("This command acts as a staff member: give --user NAME (password prompted, or --password-stdin).")
    svc = system.open_services(_place())
    try:
        for note in system.discard_abandoned_imports(svc):  # a killed import's hidden rows (issue 17)
            typer.echo(note, err=True)
        signin = staff.sign_in(svc, G.user, _ask_password(_("Password for {user}: ", user=G.user)))
        if not password_change:
            svc.check_password_current(signin.actor)
    except BaseException:
        svc.close()
        raise
    return svc, signin.actor


def _pad(text: str, width: int) -> str:
    """Left-justify by terminal cells, so Chinese (two cells a character) lines up."""
    from rich.cells import cell_len

    return text + " " * max(0, width - cell_len(text))


def _out(text: str = "") -> None:
    typer.echo(text)


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Data folder (default: platform user data dir; env CRM_TUI_DATA_DIR).")] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="Act as this staff account.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read passwords from standard input, one per line.")] = False,
    lang: Annotated[Optional[str], typer.Option("--lang", help="UI language: zh_CN (default) or en.")] = None,
) -> None:
    _set_globals(data_dir, user, password_stdin, lang)
    if ctx.invoked_subcommand is None:
        _run_app()


def _set_globals(data_dir: Optional[Path], user: Optional[str], password_stdin: bool, lang: Optional[str]) -> None:
    G.data_dir, G.user, G.password_stdin, G.lang = data_dir, user, password_stdin, lang
    if lang:
        try:
            set_language(lang)
        except ValueError:
            raise CrmError("Unknown language '{lang}': use zh_CN or en.", lang=lang) from None


def _run_app(place=None, *, demo: bool = False, throwaway: bool = False) -> None:  # type: ignore[no-untyped-def]
    launch.run_app(place, data_dir=G.data_dir, lang=G.lang, demo=demo, throwaway=throwaway)


def prepare_app(place=None, *, demo: bool = False, throwaway: bool = False,  # type: ignore[no-untyped-def]
                daily_backup: bool = True):
    """``ui.launch.prepare_app`` with this command line's --data-dir and --lang."""
    return launch.prepare_app(place, data_dir=G.data_dir, lang=G.lang, demo=demo, throwaway=throwaway,
                             daily_backup=daily_backup)


@app.command()
def init(
    admin: Annotated[str, typer.Option("--admin", help="User name of the first administrator.")] = "admin",
    display_name: Annotated[Optional[str], typer.Option("--display-name")] = None,
) -> None:
    """Create the encrypted database, its key in the OS keyring, and the first administrator."""
    from crm_tui.services import system

    place = _place()
    p1 = _ask_password(_("New password for {user}: ", user=admin))
    p2 = _ask_password(_("Repeat the password: "))
    if p1 != p2:
        raise CrmError("The two passwords differ; nothing was created.")
    db_file = system.init(place, admin, p1, display_name)
    _out(_("Created {path} (key in the {backend} keyring) with administrator {user}.",
           path=str(db_file), backend=place.key_store.describe(), user=admin))
    _out(_("Next: keep the recovery code in a sealed envelope: crm-tui --user {user} key export", user=admin))


@app.command()
def doctor() -> None:
    """Check the keyring, the key, the database, its integrity, schema and newest backup."""
    from crm_tui.services import system

    checks = system.doctor(_place())
    from rich.cells import cell_len

    width = max(cell_len(c.name) for c in checks)
    for c in checks:
        first, *more = c.detail.splitlines() or [""]
        _out(f"{('WARN' if c.warn else 'OK  ') if c.ok else 'FAIL'} {_pad(c.name, width)}  {first}")
        for line in more:  # a damaged file's restore advice: under the detail column
            _out(" " * (width + 7) + line)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command()
def demo(
    fresh: Annotated[bool, typer.Option("--fresh", help="Throw away the demo database and make a new one.")] = False,
    no_keyring: Annotated[bool, typer.Option("--no-keyring", help="Keep the demo key in memory only (throwaway).")] = False,
    setup_only: Annotated[bool, typer.Option("--setup-only", help="Build the demo database but do not start the app.")] = False,
) -> None:
    """Build (once) a demo database with realistic Chinese data and start the app on it."""
    from crm_tui import demo as demo_svc
    from crm_tui.services import system

    place, throwaway = system.make_demo_place(G.data_dir, use_keyring=not no_keyring)
    try:
        if fresh and place.db_file.exists():
            system.remove_demo(place)
            place = system.Place(place.data_dir, place.key_store)
            place.data_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
        if throwaway:
            _out(_("No usable keyring: this demo keeps its key in memory and is deleted when the app exits."))
        if not place.db_file.exists():
            _out(_("Building the demo database in {path} ...", path=str(place.data_dir)))
            system.create_empty(place)
            svc = system.open_services(place, demo=True)
            try:
                demo_svc.seed(svc)
            finally:
                svc.close()
        if setup_only:
            _out(_("Demo database ready in {path}.", path=str(place.data_dir)))
            return
        _run_app(place, demo=True, throwaway=throwaway)
    finally:
        if throwaway:
            system.remove_demo(place)


@key_app.command("export")
def key_export() -> None:
    """Print the key once as a recovery code for a sealed envelope (administrator, password again)."""
    from crm_tui.services import system

    svc, actor = _signed_in()
    try:
        code = system.export_recovery_code(svc, actor, _ask_password(_("Confirm your password: ")), _place().key_store)
    finally:
        svc.close()
    _out(_("Recovery code for {path}. Write it down or print it, seal it in an envelope, and keep it "
           "away from the computer. Anyone with this code and the file can read the data.",
           path=str(_place().db_file)))
    _out()
    _out(code)


@key_app.command("import")
def key_import() -> None:
    """Read a recovery code from stdin, check that it opens the database, store it in the keyring."""
    from crm_tui.services import system

    if sys.stdin.isatty():
        _out(_("Type or paste the recovery code, then press Ctrl+D:"))
    code = sys.stdin.read()
    result = system.import_recovery_code(_place(), code)
    _out({"unchanged": _("The keyring already holds this key; nothing changed."),
          "stored": _("The code opens the database; the key is now in the keyring."),
          "replaced": _("The code opens the database; it replaced the key the keyring held.")}[result])


# -- staff accounts ------------------------------------------------------------------------------

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


# -- audit ---------------------------------------------------------------------------------------

@audit_app.command("verify")
def audit_verify() -> None:
    """Check the whole hash chain; non-zero exit naming the first broken row."""
    from crm_tui.services import audit

    svc, actor = _signed_in()
    try:
        report = audit.verify_chain(svc, actor)
    finally:
        svc.close()
    if report.first_broken is None:
        _out(_("Audit trail intact: {rows} rows, head {head}.", rows=report.rows, head=report.head[:16]))
        return
    _out(_("Audit trail BROKEN at row {id} ({reason}); {rows} rows before it are intact.",
           id=report.first_broken, reason=report.reason_text, rows=report.rows))
    raise typer.Exit(1)


@audit_app.command("list")
def audit_list(
    by: Annotated[Optional[str], typer.Option("--by", help="Staff user name.")] = None,
    customer: Annotated[Optional[int], typer.Option("--customer", help="Customer id.")] = None,
    action: Annotated[Optional[str], typer.Option("--action", help="Action, or its prefix (e.g. auth.).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="From date, YYYY-MM-DD.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="To date inclusive, YYYY-MM-DD.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 100,
) -> None:
    """Audit entries, newest first, filtered by user, customer, action and date."""
    from crm_tui.services import audit

    svc, actor = _signed_in()
    try:
        rows = audit.list_entries(svc, actor, audit.AuditFilter(by, customer, action, since, until), limit)
    finally:
        svc.close()
    for r in rows:
        _out(f"{r.id:>7} {r.at:%Y-%m-%d %H:%M:%S} {_pad(r.actor, 12)} {_pad(r.action, 24)} {r.summary}")


@settings_app.command("list")
def settings_list() -> None:
    """Every setting with its current value."""
    from crm_tui.services import settings

    svc, actor = _signed_in()
    try:
        values = settings.current(svc)
    finally:
        svc.close()
    for key, value in values.items():
        _out(f"{_pad(key, 34)} {value}")


@settings_app.command("set")
def settings_set(key: str, value: str) -> None:
    """Change one setting (audited)."""
    from crm_tui.services import settings

    svc, actor = _signed_in()
    try:
        new = settings.set_setting(svc, actor, key, value)
    finally:
        svc.close()
    _out(f"{key} = {new}")


# -- backups, restore, key rotation (issue 9) --------------------------------------------------

backup_app = typer.Typer(help="Encrypted backups: make one, list them, verify one (R-SEC-5).",
                         invoke_without_command=True)
app.add_typer(backup_app, name="backup")


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MiB" if n >= 1_048_576 else f"{n / 1024:.0f} KiB"


def _verified_text(problems) -> str:  # type: ignore[no-untyped-def]
    from crm_tui.services import backup as backup_svc

    if problems is None:
        return _("not verified")
    if not problems:
        return _("verified")
    return _("damaged: {what}", what=", ".join(backup_svc.problem_text(p) for p in problems))


@backup_app.callback()
def backup_main(
    ctx: typer.Context,
    to: Annotated[Optional[Path], typer.Option("--to", help="Folder for the copy (default: backups/ beside the database).")] = None,
) -> None:
    """Make an encrypted, verified copy of the database now (administrators, --user NAME)."""
    if ctx.invoked_subcommand is not None:
        return
    from crm_tui.services import backup as backup_svc

    svc, actor = _signed_in()
    try:
        row, problems = backup_svc.backup_now(svc, actor, dest=to)
    finally:
        svc.close()
    _out(_("Backup written: {path} ({size}), {result}.", path=str(row.path), size=_size(row.size),
           result=_verified_text(problems)))
    if problems:
        raise typer.Exit(1)


@backup_app.command("list")
def backup_list() -> None:
    """The backups beside the database, newest first, with their verification."""
    from crm_tui.services import backup as backup_svc

    svc, actor = _signed_in()
    try:
        rows = backup_svc.list_backups(svc, actor)
    finally:
        svc.close()
    if not rows:
        _out(_("No backup yet: run 'crm-tui backup'."))
        return
    for r in rows:
        _out(f"{_pad(r.name, 44)} {r.taken_at:%Y-%m-%d %H:%M}  {_pad(_size(r.size), 10)} {_pad(r.schema, 6)} "
             f"{_pad(_verified_text(r.problems), 10)} {_('kept: {rules}', rules=backup_svc.kept_by_text(r))}")


@backup_app.command("delete")
def backup_delete(file: Path) -> None:
    """Delete one backup (administrators): the only way a manual backup goes; audited. The newest
    verified backup is always kept."""
    from crm_tui.services import backup as backup_svc

    svc, actor = _signed_in()
    try:
        name = backup_svc.delete_backup(svc, actor, file)
    finally:
        svc.close()
    _out(_("Backup {name} deleted.", name=name))


@backup_app.command("verify")
def backup_verify(
    file: Path,
    recovery_code: Annotated[bool, typer.Option("--recovery-code", help="Read the key's recovery code from standard input.")] = False,
) -> None:
    """Open a backup read-only, run both integrity checks and compare it with its manifest."""
    from crm_tui.services import backup as backup_svc

    place = _place()
    key = backup_svc.parse_code(_code_text()) if recovery_code else None
    result = backup_svc.verify_file(place.data_dir, place.key_store, file, key=key)
    m = result.info.manifest
    _out(_("{name}: taken {at}, schema {schema}, {customers} customers, audit head {head}.",
           name=result.info.path.name, at=m.get("taken_at", "-"), schema=m.get("schema_version") or "-",
           customers=m.get("row_counts", {}).get("customer", 0),
           head=(m.get("audit_head") or {}).get("id", "-")))
    _out(_verified_text(result.problems))
    if result.problems:
        raise typer.Exit(1)


@app.command()
def restore(
    file: Path,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the current database is replaced (a safety copy is kept).")] = False,
    recovery_code: Annotated[bool, typer.Option("--recovery-code", help="Read the backup key's recovery code from standard input (new machine).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Restore even when the audit trail does not continue this database's.")] = False,
    approval: Annotated[Optional[int], typer.Option("--approval", help="Id of the approved request for this restore (R-SEC-2).")] = None,
) -> None:
    """Restore a backup: verified first, the current database kept as a safety copy, swapped atomically.

    Refused while the app or another command has the database open. The authority: --recovery-code
    (read from standard input), or --user NAME - signed in on the database when it is sound, else the
    password checked against the backup being restored. A damaged database is kept aside as
    damaged-<time>.db in the data folder, never deleted."""
    from crm_tui.services import backup as backup_svc

    if not yes:
        raise CrmError("Restoring replaces the current database (a safety copy is kept). Add --yes to go ahead.")
    place = _place()
    if recovery_code:
        code = backup_svc.parse_code(_code_text())
        actor_name, actor_id = "recovery-code", None
    elif G.user:
        code = None
        state = backup_svc.live_state(place.data_dir, place.key_store)
        if state == "ok":
            svc, actor = _signed_in()
            try:
                backup_svc.check_may(svc, actor, "backup.restore")
                backup_svc.use_restore_approval(svc, actor, file, approval)
            finally:
                svc.close()
            actor_name, actor_id = actor.username, actor.staff_id
        else:
            _out(_("The database is damaged, missing or does not open with the keyring's key: {user}'s password "
                   "is checked against the backup being restored.", user=G.user))
            actor_name, actor_id = backup_svc.authority_from_backup(
                place.data_dir, place.key_store, file, G.user, _ask_password(_("Password for {user}: ", user=G.user)))
    else:
        raise CrmError("Restoring needs an authority: give --user NAME (an administrator; the password is checked "
                       "against the backup when the database is damaged or missing) or --recovery-code (the "
                       "recovery code, read from standard input).")
    report = backup_svc.restore(place.data_dir, place.key_store, file, actor_name=actor_name, actor_id=actor_id,
                                code_key=code, allow_diverged=force)
    for line in backup_svc.restore_summary(report, place.data_dir):
        _out(line)


def _code_text() -> str:
    if sys.stdin.isatty():
        _out(_("Type or paste the recovery code, then press Ctrl+D:"))
    return sys.stdin.read() if not G.password_stdin else "\n".join(_all_stdin())


def _all_stdin() -> list[str]:
    if G._stdin_lines is None:
        G._stdin_lines = sys.stdin.read().splitlines()
    lines, G._stdin_lines = G._stdin_lines, []
    return lines


@key_app.command("rotate")
def key_rotate(
    finish: Annotated[bool, typer.Option("--finish", help="Complete a rotation that was interrupted.")] = False,
) -> None:
    """Re-encrypt the database with a new key, crash-safe (administrator, password again).

    Refused while the app or another command has the database open. Export the new recovery code
    afterwards: backups made before the rotation open with the old one."""
    from crm_tui.services import backup as backup_svc

    place = _place()
    if finish:
        before = backup_svc.finish_rotation(place.data_dir, place.key_store)
        _out({"clean": _("No rotation was interrupted; nothing to finish."),
              "stale_pending": _("The rotation stopped before the database was re-encrypted; it stays on its key."),
              "unfinished": _("The interrupted rotation is finished: the keyring holds the new key.")}[before])
        return
    svc, actor = _signed_in()
    try:
        backup_svc.check_may(svc, actor, "key.export", _ask_password(_("Confirm your password: ")))
    finally:
        svc.close()
    r = backup_svc.rotate_key(place.data_dir, place.key_store, actor_name=actor.username, actor_id=actor.staff_id)
    _out(_("The database is re-encrypted with a new key (id {new}); the old key (id {old}) is kept in the "
           "keyring as a retired entry for older backups.", new=r.new_id, old=r.old_id))
    _out(_("Backups: {before} (old key), {after} (new key).", before=r.before, after=r.after))
    _out(_("Now print the new recovery code and seal it: crm-tui --user {user} key export", user=actor.username))


# -- import and export (issue 9) ------------------------------------------------------------------

import_app = typer.Typer(help="Import customers from CSV (UTF-8, GBK) or XLSX spreadsheets (administrators).",
                         no_args_is_help=True)
export_app = typer.Typer(help="Export lists to CSV or XLSX (permission customer.export).", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")


@import_app.command("customers")
def import_customers(
    file: Path,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")] = False,
    mapping: Annotated[Optional[str], typer.Option("--mapping", help="Use a saved column mapping by name.")] = None,
    map_: Annotated[Optional[list[str]], typer.Option("--map", help="Map a column: HEADER=field (repeatable; overrides).")] = None,
    save_mapping: Annotated[Optional[str], typer.Option("--save-mapping", help="Save the mapping used under this name.")] = None,
    valid_only: Annotated[bool, typer.Option("--valid-only", help="Import the valid rows and list the bad ones (default: all or nothing).")] = False,
    errors_to: Annotated[Optional[Path], typer.Option("--errors-to", help="Write the error and duplicate report to this CSV file.")] = None,
    duplicates: Annotated[str, typer.Option("--duplicates", help="Rows already in the archive: 'list' them for decision (default) or 'fill' the archive's blank fields from them.")] = "list",
) -> None:
    """Import customers: automatic column mapping from Chinese/English headers, a dry run with errors
    by row, then every row or nothing (or --valid-only). Duplicates are listed, never overwritten."""
    import threading

    from crm_tui.services import importing

    svc, actor = _signed_in()
    try:
        table = importing.read_file(file)
        used = importing.load_mapping(svc, actor, mapping) if mapping else importing.auto_mapping(table.headers)
        used.update(importing.parse_mapping_args(map_ or []))
        _out(_("{name}: {rows} rows, {encoding}.", name=table.name, rows=len(table.rows), encoding=table.encoding_label))
        for h in table.headers:
            f = used.get(h)
            _out("  " + _pad(h, 20) + " -> " + (importing.header_label(f) + f" ({f})" if f else _("(not imported)")))
        p = importing.plan(svc, actor, table, used)
        if save_mapping:
            importing.save_mapping(svc, actor, save_mapping, used)
        _out(_("Dry run: {ready} rows ready, {bad} rows with errors, {dups} duplicates of existing customers.",
               ready=len(p.ready), bad=p.bad_rows, dups=len(p.duplicates)))
        for e in p.errors[:50]:
            _out("  " + _("row {row}, column {column}: {reason}", row=e.row, column=e.column, reason=e.reason))
        if len(p.errors) > 50:
            _out("  " + _("... and {n} more (see --errors-to)", n=len(p.errors) - 50))
        for d in p.duplicates[:50]:
            _out("  " + _("row {row}: {name} is already customer {number} (same {what}); not imported",
                          row=d.row, name=d.name, number=d.existing_number, what=importing.header_label(d.matched)))
        if errors_to:
            _write_report(errors_to, p)
        if dry_run:
            raise typer.Exit(1 if p.errors else 0)
        cancel = threading.Event()
        try:
            result = importing.run(svc, actor, p, all_or_nothing=not valid_only, cancel=cancel, duplicates=duplicates)
        except KeyboardInterrupt:
            cancel.set()
            raise
    finally:
        svc.close()
    _out(_("Imported {n} customers in {s:.1f} s ({rate:.0f} rows/s); backup before the import: {backup}.",
           n=result.imported, s=result.seconds, rate=result.rows_per_second, backup=result.backup or "-"))
    if result.filled:
        _out(_("Blank fields of {n} existing customers were filled from their rows.", n=result.filled))


def _write_report(path: Path, p) -> None:  # type: ignore[no-untyped-def]
    import csv

    from crm_tui.services import importing
    from crm_tui.services.files import private_file

    with private_file(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([_("Row"), _("Column"), _("Problem")])
        for e in p.errors:
            w.writerow([e.row, e.column, e.reason])
        for d in p.duplicates:
            w.writerow([d.row, "", _("{name} is already customer {number} (same {what}); not imported",
                                     name=d.name, number=d.existing_number, what=importing.header_label(d.matched))])


@export_app.command("customers")
def export_customers(
    to: Annotated[Path, typer.Option("--to", help="Target file, .xlsx or .csv (UTF-8 with BOM for Excel).")],
    query: Annotated[str, typer.Option("--query", help="Search text, as in the customer list.")] = "",
    approval: Annotated[Optional[int], typer.Option("--approval", help="Id of the approved request for this export (R-SEC-2).")] = None,
) -> None:
    """The customer list (R-CUST-12) with phones masked; audited."""
    from crm_tui.services import customers

    fmt = to.suffix.lower().lstrip(".")
    svc, actor = _signed_in()
    try:
        n = customers.export_list(svc, actor, query, customers.SearchFilters(), to, fmt=fmt, approval_id=approval)
    finally:
        svc.close()
    _out(_("Exported {n} customers to {path}.", n=n, path=str(to)))


def main() -> None:
    """Every command line but a plain start of the app (``crm_tui.start.main`` sends them here)."""
    try:
        rc = app(standalone_mode=False, prog_name="crm-tui")  # click returns the code of a typer.Exit here
    except BaseException as e:  # noqa: BLE001 - fail() says it in one line or re-raises
        fail(e)
    sys.exit(rc if isinstance(rc, int) else 0)


def fail(e: BaseException) -> NoReturn:
    """One clear line and a non-zero exit for every error the user can act on."""
    if isinstance(e, CrmError):
        typer.echo(_("Error: {message}", message=e.message), err=True)
        for err in getattr(e, "errors", ()):  # ValidationErrors: say what is wrong, not only how much
            typer.echo(f"  {err.message}", err=True)
        sys.exit(e.exit_code)
    if isinstance(e, typer.Exit):
        sys.exit(e.exit_code)
    if isinstance(e, (typer.Abort, KeyboardInterrupt)):
        typer.echo(_("Cancelled."), err=True)
        sys.exit(130)
    if isinstance(e, EOFError):
        typer.echo(_("Error: standard input ended before all answers were read."), err=True)
        sys.exit(2)
    if _is_usage_error(e):
        _show_usage_error(e)
        sys.exit(2)
    if _is_click_exception(e):
        typer.echo(_("Error: {message}", message=e.format_message()), err=True)  # type: ignore[attr-defined]
        sys.exit(getattr(e, "exit_code", 1))
    if isinstance(e, Exception):
        from crm_tui.services import damage

        damaged = damage.from_error(G.data_dir, e)  # a query met a damaged page: said, with the restore command
        if damaged is not None:
            fail(damaged)
        _crash(e)  # last resort: one line, details in the crash log
    raise e  # SystemExit and the like


# -- usage errors (issue 17): the command's usage and what was wrong, in the UI language, exit 2 ---
#
# Typer 0.29 carries its own copy of click (typer._click): its exceptions are not click's, and their
# texts are English literals. They are recognised by class here and said again from their fields.

def _click_exception_classes() -> tuple[type, ...]:
    found: list[type] = []
    try:
        from typer._click import exceptions as tex

        found.append(tex.ClickException)
    except ImportError:  # an older typer uses click itself
        pass
    try:
        import click

        found.append(click.ClickException)
    except ImportError:
        pass
    return tuple(found)


def _usage_error_classes() -> tuple[type, ...]:
    found: list[type] = []
    try:
        from typer._click import exceptions as tex

        found.append(tex.UsageError)
    except ImportError:
        pass
    try:
        import click

        found.append(click.UsageError)
    except ImportError:
        pass
    return tuple(found)


def _is_click_exception(e: BaseException) -> bool:
    return isinstance(e, _click_exception_classes())


def _is_usage_error(e: BaseException) -> bool:
    return isinstance(e, _usage_error_classes())


_BAD_VALUE = [  # the English detail of a bad value (click's, or typer's pydantic) -> our msgid
    (r"^Input should be a valid integer", N_("a whole number is needed.")),
    (r"^Input should be a valid (?:number|float|decimal)", N_("a number is needed.")),
    (r"^Input should be a valid boolean", N_("yes or no is needed.")),
    (r"^Input should be (?P<choices>'.*)$", N_("it should be {choices}")),
    (r"^'?(?P<value>.*?)'? is not a valid integer(?: range)?\.?$", N_("'{value}' is not a whole number.")),
    (r"^'?(?P<value>.*?)'? is not a valid float(?: range)?\.?$", N_("'{value}' is not a number.")),
    (r"^'?(?P<value>.*?)'? is not one of (?P<choices>.*?)\.?$", N_("'{value}' is not one of {choices}.")),
    (r"^(?:File|Directory|Path) '(?P<value>.*)' does not exist\.?$", N_("'{value}' does not exist.")),
]


def _bad_value_detail(text: str) -> str:
    import re

    for pattern, msgid in _BAD_VALUE:
        m = re.match(pattern, text.strip())
        if m:
            return _(msgid, **m.groupdict())
    return text


def _usage_message(e: BaseException) -> str:
    """What was wrong, in the UI language, from the exception's fields (not its English text)."""
    import re

    kind = type(e).__name__
    raw = str(getattr(e, "message", "") or "")
    param = getattr(e, "param", None)
    hint = getattr(e, "param_hint", None)
    if hint is None and param is not None:
        try:
            hint = param.get_error_hint()
        except Exception:  # noqa: BLE001 - a hint is a courtesy
            hint = getattr(param, "name", None)
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(str(h) for h in hint)
    if kind == "NoSuchOption":
        name = str(getattr(e, "option_name", "") or raw)
        text = _("Unknown option: {name}", name=name)
        possible = getattr(e, "possibilities", None)
        if possible:
            text += " " + _("(did you mean: {names})", names=", ".join(sorted(possible)))
        return text
    if kind == "MissingParameter":
        what = getattr(e, "param_type", None) or getattr(param, "param_type_name", "") or ""
        if what == "option":
            return _("Missing option {name}.", name=hint or "")
        return _("Missing argument {name}.", name=hint or "")
    if kind == "BadParameter":
        return _("Bad value for {name}: {detail}", name=hint or "-", detail=_bad_value_detail(raw))
    if kind == "BadOptionUsage":
        m = re.match(r"^Option '(?P<name>.+)' requires an argument\.?$", raw)
        if m:
            return _("Option {name} needs a value.", name=m.group("name"))
        m = re.match(r"^Option '(?P<name>.+)' does not take a value\.?$", raw)
        if m:
            return _("Option {name} takes no value.", name=m.group("name"))
        return raw
    m = re.match(r"^No such command '(?P<name>[^']+)'\.?(?:\s*Did you mean '(?P<near>[^']+)'\?)?$", raw)
    if m:
        text = _("Unknown command: {name}", name=m.group("name"))
        if m.group("near"):  # click's suggestion of a near name ('lst' -> 'list'), kept in the UI language
            text += " " + _("(did you mean: {names})", names=m.group("near"))
        return text
    m = re.match(r"^Got unexpected extra argument(?:s|\(s\))? \((?P<args>.*)\)$", raw)
    if m:
        return _("Unexpected extra argument(s): {args}", args=m.group("args"))
    if raw.startswith("Missing command"):
        return _("Missing command.")
    return raw


def _show_usage_error(e: BaseException) -> None:
    """The command's usage line, a pointer to --help, and what was wrong; on standard error."""
    ctx = getattr(e, "ctx", None)
    if type(e).__name__ == "NoArgsIsHelpError":  # 'crm-tui key': the group's help (rich prints it itself)
        text = str(getattr(e, "message", "") or "")
        if text.strip():
            typer.echo(text)
        return
    if ctx is not None:
        usage = ctx.get_usage()
        if usage.startswith("Usage:"):
            usage = _("Usage:") + usage[len("Usage:"):]
        typer.echo(usage, err=True)
        typer.echo(_("Try '{command} --help' for help.", command=ctx.command_path), err=True)
        typer.echo("", err=True)
    typer.echo(_("Error: {message}", message=_usage_message(e)), err=True)


def _crash(exc: BaseException) -> NoReturn:
    from crm_tui.services.system import crash_log_path, crash_text

    path = crash_log_path(G.data_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(crash_text(exc))
        where = str(path)
    except OSError:
        where = "-"
    typer.echo(_("Unexpected error ({kind}); nothing more was done. Details: {path}", kind=type(exc).__name__, path=where), err=True)
    sys.exit(70)


@app.command("report")
def report_cmd(
    kind: Annotated[str, typer.Argument(help="week or month")],
    day: Annotated[Optional[str], typer.Option("--date", help="A day in the period, YYYY-MM-DD (default: today).")] = None,
    xlsx: Annotated[Optional[Path], typer.Option("--xlsx", help="Write the pack to this .xlsx file.")] = None,
    text_file: Annotated[Optional[Path], typer.Option("--text", help="Write the plain-text pack to this .txt file.")] = None,
) -> None:
    """The weekly or monthly review pack (R-FU-5, R-KPI-1/2): printed as text, or written to
    --xlsx / --text (staff who may view reports, --user NAME)."""
    from datetime import date as _date

    from crm_tui.services import reports

    if kind not in ("week", "month"):
        raise CrmError("A report period is a week or a month")
    try:
        when = _date.fromisoformat(day) if day else None
    except ValueError:
        raise CrmError("Write the date as YYYY-MM-DD") from None
    svc, actor = _signed_in()
    try:
        pack = reports.pack(svc, actor, kind, when)
        if xlsx is None and text_file is None:
            _out(reports.pack_text(pack).rstrip())
        if xlsx is not None:
            _out(_("Exported to {path}", path=str(reports.export_xlsx(svc, actor, pack, xlsx))))
        if text_file is not None:
            _out(_("Exported to {path}", path=str(reports.export_text(svc, actor, pack, text_file))))
    finally:
        svc.close()


calendar_app = typer.Typer(help="The holiday schedule (节假日安排): days off and make-up working days per year.",
                           no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")


def _print_change(change) -> None:  # type: ignore[no-untyped-def]
    _out(_("Holiday schedule saved: {added} added, {changed} changed, {removed} removed, {same} unchanged.",
           added=change.added, changed=change.changed, removed=change.removed, same=change.unchanged))
    if change.moved:
        _out(_("{n} open deadline(s) moved:", n=len(change.moved)))
        for m in change.moved[:50]:
            _out(f"  {m.label}  {m.old} -> {m.new}")
        if len(change.moved) > 50:
            _out("  " + _("... and {n} more (see the audit trail)", n=len(change.moved) - 50))


@calendar_app.command("show")
def calendar_show(year: Annotated[int, typer.Argument(help="The year, e.g. 2027.")]) -> None:
    """A year's days off (休) and make-up working days (班), each with where it comes from: the shipped
    chinese-calendar package or the branch's own schedule."""
    from crm_tui.services import holidays, system

    svc = system.open_services(_place())
    try:
        sched = holidays.year_schedule(svc, year)
    finally:
        svc.close()
    if not sched.covered:
        _out(_("No holiday schedule for {year}: only weekends count as days off. Load one with: {hint}",
               year=year, hint=_(holidays.FIX_HINT)))
        return
    for title, entries in ((_("Days off (休)"), sched.days_off), (_("Make-up working days (班)"), sched.workdays)):
        _out(f"{title}: {len(entries)}")
        for e in entries:
            src = _("branch") if e.source == "branch" else _("package")
            _out(f"  {e.day.isoformat()} {_weekday(e.day)}  {_pad(e.name_label, 16)}  {src}")


def _weekday(d) -> str:  # type: ignore[no-untyped-def]
    from crm_tui.services.holidays import WEEKDAYS

    return _(WEEKDAYS[d.weekday()])


@calendar_app.command("import")
def calendar_import(file: Path) -> None:
    """Load a schedule file (CSV in UTF-8 or GBK, or XLSX) with the columns 日期, 类型 (休 or 班) and
    名称. Its rows become the branch's schedule of the years they cover; a bad row is named with its
    row number and nothing is written (administrators, --user NAME)."""
    from crm_tui.services import holidays

    svc, actor = _signed_in()
    try:
        change = holidays.import_file(svc, actor, file)
    finally:
        svc.close()
    _print_change(change)


@calendar_app.command("set")
def calendar_set(
    day: Annotated[str, typer.Argument(help="The date, YYYY-MM-DD.")],
    kind: Annotated[str, typer.Argument(help="休 (day off) or 班 (make-up working day).")],
    name: Annotated[str, typer.Argument(help="The holiday's name, e.g. 春节.")],
) -> None:
    """Make one day a day off or a make-up working day (administrators, --user NAME)."""
    from crm_tui.services import holidays

    svc, actor = _signed_in()
    try:
        change = holidays.set_day(svc, actor, day, kind, name)
    finally:
        svc.close()
    _print_change(change)


@calendar_app.command("unset")
def calendar_unset(day: Annotated[str, typer.Argument(help="The date, YYYY-MM-DD.")]) -> None:
    """Remove the branch's entry of one day; the package's schedule applies again (administrators)."""
    from crm_tui.services import holidays

    svc, actor = _signed_in()
    try:
        change = holidays.unset_day(svc, actor, day)
    finally:
        svc.close()
    _print_change(change)


# -- approvals of sensitive operations (R-SEC-2) ---------------------------------------------------

approval_app = typer.Typer(help="Second-person approval of sensitive operations (R-SEC-2).", no_args_is_help=True)
app.add_typer(approval_app, name="approval")


def _approval_line(v) -> str:  # type: ignore[no-untyped-def]
    decided = f" {v.decided_by} {v.decided_at:%Y-%m-%d %H:%M}" if v.decided_at else ""
    return (f"{v.id:>5}  {_pad(v.state_label, 8)} {_pad(v.operation, 22)} {_pad(v.target or '-', 24)}"
            f" {_pad(v.requester, 12)} {v.requested_at:%Y-%m-%d %H:%M}{decided}  {v.reason}")


@approval_app.command("request")
def approval_request(
    operation: str,
    reason: Annotated[str, typer.Option("--reason", help="Why the operation is needed.")],
    target: Annotated[Optional[str], typer.Option("--target", help="Customer number (erase, reveal) or backup file (restore).")] = None,
) -> None:
    """Ask for approval: customer.export, customer.erase, backup.restore, customer.reveal_other,
    customer.destroy_batch."""
    from crm_tui.services import approvals

    svc, actor = _signed_in()
    try:
        rid = approvals.request(svc, actor, operation, reason, target=target)
    finally:
        svc.close()
    _out(_("Approval request {id} sent; a section chief or an administrator decides it.", id=rid))


@approval_app.command("list")
def approval_list(
    pending: Annotated[bool, typer.Option("--pending", help="Only requests waiting for a decision.")] = False,
) -> None:
    """The queue (approvers see every request, others their own), newest first."""
    from crm_tui.services import approvals

    svc, actor = _signed_in()
    try:
        rows = approvals.list_requests(svc, actor, pending_only=pending)
    finally:
        svc.close()
    if not rows:
        _out(_("No approval requests."))
    for v in rows:
        _out(_approval_line(v))


@approval_app.command("approve")
def approval_approve(
    request_id: int,
    note: Annotated[str, typer.Option("--note", help="A note kept with the decision.")] = "",
) -> None:
    """Approve a request (not one's own); the requester may then run the operation once."""
    from crm_tui.services import approvals

    svc, actor = _signed_in()
    try:
        approvals.approve(svc, actor, request_id, note)
    finally:
        svc.close()
    _out(_("Request {id} approved.", id=request_id))


@approval_app.command("reject")
def approval_reject(
    request_id: int,
    reason: Annotated[str, typer.Option("--reason", help="Why it is rejected.")],
) -> None:
    """Reject a request, with the reason."""
    from crm_tui.services import approvals

    svc, actor = _signed_in()
    try:
        approvals.reject(svc, actor, request_id, reason)
    finally:
        svc.close()
    _out(_("Request {id} rejected.", id=request_id))


customer_app = typer.Typer(help="Customer rights (R-CUST-13): erasure, destruction past retention; consents (R-CUST-6), changes to tell (R-CUST-5), surveys due (R-CUST-15).", no_args_is_help=True)
app.add_typer(customer_app, name="customer")


@customer_app.command("erase")
def customer_erase(
    number: str,
    reason: Annotated[str, typer.Option("--reason", help="Why (no names: the reason is kept).")],
    approval: Annotated[Optional[int], typer.Option("--approval", help="Id of the approved request (R-SEC-2).")] = None,
) -> None:
    """Erase one customer's personal data for good (ledgered: a restore does not bring it back)."""
    from crm_tui.services import erasure

    svc, actor = _signed_in()
    try:
        erasure.erase_by_number(svc, actor, number, reason, approval_id=approval)
    finally:
        svc.close()
    _out(_("Customer {number} erased.", number=number))


@customer_app.command("destroy-expired")
def customer_destroy_expired(
    approval: Annotated[Optional[int], typer.Option("--approval", help="Id of the approved request (customer.destroy_batch).")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Recorded with each erasure.")] = "retention period ended",
) -> None:
    """Destroy every archive past its retention period, as one approved batch."""
    from crm_tui.services import erasure

    svc, actor = _signed_in()
    try:
        numbers = erasure.destroy_past_retention(svc, actor, approval_id=approval, reason=reason)
    finally:
        svc.close()
    _out(_("{n} archives past their retention period destroyed.", n=len(numbers)))


# -- consents and telling customers of changes (R-CUST-5, R-CUST-6) -------------------------------

consent_app = typer.Typer(help="A customer's consents (R-CUST-6): list, add, withdraw.", no_args_is_help=True)
customer_app.add_typer(consent_app, name="consent")


@consent_app.command("list")
def consent_list(number: str) -> None:
    """The customer's consents: id, scope, state, day, how, purpose."""
    from crm_tui.services import consent, customers

    svc, actor = _signed_in()
    try:
        lines = consent.consent_lines(svc, actor, customers.customer_id_by_number(svc, actor, number))
    finally:
        svc.close()
    for line in lines:
        _out(f"{line.id:>6}  {line.label}")
    if not lines:
        _out(_("No consent recorded yet."))


@consent_app.command("add")
def consent_add(
    number: str,
    scope: Annotated[str, typer.Option("--scope", help="basic, sensitive (ID number, bank account) or marketing.")],
    purpose: Annotated[str, typer.Option("--purpose", help="The purpose told to the customer.")],
    method: Annotated[str, typer.Option("--method", help="How it was given: signed_form, verbal, electronic (or their names).")],
    given: Annotated[str, typer.Option("--given", help="Day it was given (YYYY-MM-DD; default today).")] = "",
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """Record a consent the customer gave; after a sensitive one, an ID number can be entered."""
    from crm_tui.services import consent, customers

    from crm_tui.domain.errors import ValidationErrors

    svc, actor = _signed_in()
    try:
        cid = consent.add_consent(svc, actor, customers.customer_id_by_number(svc, actor, number), scope=scope,
                                  purpose=purpose, method=method, given=given, note=note)
    except ValidationErrors as e:  # each refusal under the option it belongs to
        typer.echo(_("Error: {message}", message=e.message), err=True)
        for err in e.errors:
            typer.echo(f"  --{err.field}: {err.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        svc.close()
    _out(_("Consent {id} recorded for {number}.", id=cid, number=number))


@consent_app.command("withdraw")
def consent_withdraw(
    consent_id: int,
    note: Annotated[str, typer.Option("--note", help="How the customer withdrew it.")] = "",
) -> None:
    """The customer withdraws a consent (ids: `customer consent list NUMBER`); without a sensitive
    consent the ID number and bank account are deleted from the archive."""
    from crm_tui.services import consent

    svc, actor = _signed_in()
    try:
        done = consent.withdraw_consent(svc, actor, consent_id, note=note)
    finally:
        svc.close()
    for line in done:
        _out(line)


@customer_app.command("to-tell")
def customer_to_tell() -> None:
    """Changes still to be told to customers (R-CUST-5), soonest deadline first: id, number, what, by when."""
    from crm_tui.services import consent

    svc, actor = _signed_in()
    try:
        rows = consent.inform_due(svc, actor, limit=500).rows
    finally:
        svc.close()
    for r in rows:
        _out(f"{r.item_id:>6}  {_pad(r.customer.number, 14)} {_pad(r.customer.name, 12)} {r.detail}")


@customer_app.command("told")
def customer_told(
    item_id: int,
    method: Annotated[str, typer.Option("--method", help="call, visit, letter, email, wechat (or their names).")],
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """Record that the customer was told of the change ITEM_ID (from `customer to-tell`)."""
    from crm_tui.services import consent

    svc, actor = _signed_in()
    try:
        consent.record_told(svc, actor, item_id, method, note)
    finally:
        svc.close()
    _out(_("Recorded: the customer was told of the change."))


@customer_app.command("surveys-due")
def customer_surveys_due() -> None:
    """Customers due a satisfaction survey (R-CUST-15), the longest overdue first."""
    from crm_tui.services import surveys

    svc, actor = _signed_in()
    try:
        rows = surveys.due_list(svc, actor, limit=500).rows
    finally:
        svc.close()
    for r in rows:
        _out(f"{_pad(r.customer.number, 14)} {_pad(r.customer.name, 12)} {r.detail}")
# -- customer rules (issue 20: R-CUST-3, -7, -8, -10) --------------------------------------------

_WATCH_NAMES = {"phone-changes": "phone_changes", "shared-phones": "shared_phones", "shared-filing": "shared_filing",
                "contact-tasks": "contact_tasks", "few-contacts": "few_contacts", "owner-disabled": "owner_disabled"}


def _by_number(number: str, act) -> None:  # type: ignore[no-untyped-def]
    """Sign in, resolve the customer number, run ``act(svc, actor, customer_id)``."""
    from crm_tui.services import customers

    svc, actor = _signed_in()
    try:
        act(svc, actor, customers.customer_id_by_number(svc, actor, number))
    finally:
        svc.close()


@customer_app.command("false-info")
def customer_false_info(
    number: str,
    note: Annotated[str, typer.Option("--note", help="What false information was given (recorded).")],
) -> None:
    """R-CUST-3: mark the customer as having given false information; business with them stops."""
    from crm_tui.services import customers

    _by_number(number, lambda svc, actor, cid: customers.mark_false_information(svc, actor, cid, note))
    _out(_("Customer {number} marked as having given false information; business stopped.", number=number))


@customer_app.command("clear-false-info")
def customer_clear_false_info(
    number: str,
    note: Annotated[str, typer.Option("--note", help="Why the mark is lifted (recorded).")],
) -> None:
    """R-CUST-3: a supervisor lifts the false-information mark; business resumes."""
    from crm_tui.services import customers

    _by_number(number, lambda svc, actor, cid: customers.clear_false_information(svc, actor, cid, note))
    _out(_("False-information mark of customer {number} lifted; business resumed.", number=number))


@customer_app.command("stop-business")
def customer_stop_business(
    number: str,
    reason: Annotated[str, typer.Option("--reason", help="Why business is stopped (recorded).")],
) -> None:
    """R-CUST-3: stop business (no new follow-up card, visit or grade change; complaints accepted)."""
    from crm_tui.services import customer_rules

    _by_number(number, lambda svc, actor, cid: customer_rules.stop_business(svc, actor, cid, reason))
    _out(_("Business with customer {number} stopped.", number=number))


@customer_app.command("resume-business")
def customer_resume_business(
    number: str,
    reason: Annotated[str, typer.Option("--reason", help="Why business resumes (recorded).")],
) -> None:
    """R-CUST-3: a supervisor resumes business stopped with stop-business."""
    from crm_tui.services import customer_rules

    _by_number(number, lambda svc, actor, cid: customer_rules.resume_business(svc, actor, cid, reason))
    _out(_("Business with customer {number} resumed.", number=number))


@customer_app.command("inspect-phone")
def customer_inspect_phone(
    number: str,
    result: Annotated[str, typer.Option("--result", help="What the closer inspection found (recorded).")],
) -> None:
    """R-CUST-8: record the closer inspection of a customer whose phone changed twice in a month."""
    from crm_tui.services import customer_rules

    _by_number(number, lambda svc, actor, cid: customer_rules.record_phone_inspection(svc, actor, cid, result))
    _out(_("Inspection of customer {number} recorded; the flag is cleared.", number=number))


@customer_app.command("watch")
def customer_watch(
    name: Annotated[str, typer.Argument(help="phone-changes, shared-phones, shared-filing, contact-tasks, "
                                             "few-contacts or owner-disabled.")],
) -> None:
    """The watch lists of R-CUST-7, -8 and -10 (shared phones show the id to sign or file)."""
    from crm_tui.domain.errors import ValidationError
    from crm_tui.services import customer_forms

    if name not in _WATCH_NAMES:
        raise ValidationError("name", "Choose one of: {options}", options=", ".join(_WATCH_NAMES))
    svc, actor = _signed_in()
    try:
        page = customer_forms.watch_list(svc, actor, _WATCH_NAMES[name], limit=500)
    finally:
        svc.close()
    for row in page.rows:
        ident = f"#{row.phone_id}  " if row.phone_id is not None else ""
        _out(f"{ident}{_pad(row.customer.number, 16)}{_pad(row.customer.name, 14)}{row.detail}")
    _out(_("{n} listed.", n=len(page.rows)))


@customer_app.command("sign-shared-phone")
def customer_sign_shared_phone(
    phone_id: Annotated[int, typer.Argument(help="The #id from 'customer watch shared-phones'.")],
    note: Annotated[str, typer.Option("--note", help="Optional note.")] = "",
) -> None:
    """R-CUST-7: the section chief's or the deputy manager's signature on a shared phone."""
    from crm_tui.services import customers

    svc, actor = _signed_in()
    try:
        slot = customers.approve_shared_phone(svc, actor, phone_id, note)
    finally:
        svc.close()
    _out(_("Signed as section chief.") if slot == "chief" else _("Signed as deputy manager."))


@customer_app.command("file-shared-phone")
def customer_file_shared_phone(
    phone_id: Annotated[int, typer.Argument(help="The #id from 'customer watch shared-filing'.")],
    note: Annotated[str, typer.Option("--note", help="Optional filing note.")] = "",
) -> None:
    """R-CUST-7: internal control files (备案) a shared phone signed by both."""
    from crm_tui.services import customer_rules

    svc, actor = _signed_in()
    try:
        customer_rules.file_shared_phone(svc, actor, phone_id, note)
    finally:
        svc.close()
    _out(_("Filed with internal control."))


# -- the incident register (R-SEC-6) -------------------------------------------------------------

incident_app = typer.Typer(help="The incident register: leaks and losses, affected customers, notices (R-SEC-6).",
                           no_args_is_help=True)
app.add_typer(incident_app, name="incident")


@incident_app.command("new")
def incident_new(
    title: Annotated[str, typer.Option("--title", help="A short name for what happened.")],
    description: Annotated[str, typer.Option("--description", help="What happened.")],
    found: Annotated[str, typer.Option("--found", help="When it was found: YYYY-MM-DD HH:MM.")],
    measures: Annotated[str, typer.Option("--measures", help="Measures taken so far.")] = "",
) -> None:
    """Record a leak or loss."""
    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        iid = incidents.new_incident(svc, actor, title, description, found, measures)
    finally:
        svc.close()
    _out(_("Incident {id} recorded.", id=iid))


@incident_app.command("list")
def incident_list() -> None:
    """Open incidents first, then closed ones."""
    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        rows = incidents.list_incidents(svc, actor)
    finally:
        svc.close()
    if not rows:
        _out(_("No incidents."))
    for r in rows:
        _out(f"{r.id:>4}  {_pad(r.state_label, 6)} {r.found_at:%Y-%m-%d %H:%M}  {r.notified}/{r.affected}  {r.title}")


@incident_app.command("show")
def incident_show(incident_id: int) -> None:
    """The incident, its measures and its affected customers with their notices."""
    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        typer.echo(incidents.report_text(svc, actor, incident_id), nl=False)
    finally:
        svc.close()


@incident_app.command("affected")
def incident_affected(
    incident_id: int,
    query: Annotated[Optional[str], typer.Option("--query", help="A search, as in the customer list.")] = None,
    numbers: Annotated[Optional[str], typer.Option("--numbers", help="Customer numbers, comma separated.")] = None,
) -> None:
    """Add the affected customers, by a search and/or by customer numbers."""
    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        n = incidents.set_affected(svc, actor, incident_id, query=query,
                                   numbers=[x for x in (numbers or "").split(",") if x.strip()])
    finally:
        svc.close()
    _out(_("{n} affected customers added.", n=n))


@incident_app.command("measures")
def incident_measures(incident_id: int, measures: str) -> None:
    """Add a measure taken (with the time and your name)."""
    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        incidents.add_measures(svc, actor, incident_id, measures)
    finally:
        svc.close()
    _out(_("Measure recorded."))


@incident_app.command("notice")
def incident_notice(
    incident_id: int,
    number: str,
    by: Annotated[str, typer.Option("--by", help="Who told the customer.")],
    at: Annotated[str, typer.Option("--at", help="When: YYYY-MM-DD HH:MM.")],
    method: Annotated[str, typer.Option("--method", help="How: phone, visit, letter, SMS ...")],
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """Record that an affected customer was told."""
    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        incidents.record_notice(svc, actor, incident_id, number, told_by=by, told_at=at, method=method, note=note)
    finally:
        svc.close()
    _out(_("Notice to {number} recorded.", number=number))


@incident_app.command("close")
def incident_close(
    incident_id: int,
    report: Annotated[Optional[str], typer.Option("--report", help="The closing report.")] = None,
    report_file: Annotated[Optional[Path], typer.Option("--report-file", help="Read the closing report from a text file.")] = None,
) -> None:
    """Close the incident with its report."""
    from crm_tui.services import incidents

    if report_file is not None:
        try:
            report = report_file.read_text(encoding="utf-8")
        except OSError as e:
            raise CrmError("Cannot read {path}: {reason}", path=str(report_file), reason=e.strerror or str(e)) from None
    svc, actor = _signed_in()
    try:
        incidents.close(svc, actor, incident_id, report or "")
    finally:
        svc.close()
    _out(_("Incident {id} closed.", id=incident_id))


@incident_app.command("report")
def incident_report(
    incident_id: int,
    to: Annotated[Optional[Path], typer.Option("--to", help="Write the report to this text file (0600).")] = None,
) -> None:
    """The incident report as text (standard output, or a file)."""
    import os

    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        body = incidents.report_text(svc, actor, incident_id)
    finally:
        svc.close()
    if to is None:
        typer.echo(body, nl=False)
        return
    fd = os.open(to, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(body)
    _out(_("Report written to {path}.", path=str(to)))


# -- issue 20: workflow rules (R-FU-4 register check; R-GRD-1 contact plan and grade standard) -----

register_app = typer.Typer(help="The front-desk register: the supervisors' daily check (R-FU-4).",
                           no_args_is_help=True)
app.add_typer(register_app, name="register")


def _cli_day(day: Optional[str]):  # type: ignore[no-untyped-def]
    from datetime import date as _date

    try:
        return _date.fromisoformat(day) if day else None
    except ValueError:
        raise CrmError("Write the date as YYYY-MM-DD") from None


@register_app.command("unregistered")
def register_unregistered(
    day: Annotated[Optional[str], typer.Option("--date", help="The day to check, YYYY-MM-DD (default: today).")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only the items not yet resolved.")] = False,
) -> None:
    """The day's visits, cards and contacts without a register line, and how each was resolved
    (supervisors, --user NAME)."""
    from crm_tui.services import register_check

    when = _cli_day(day)
    svc, actor = _signed_in()
    try:
        when = when or svc.now().date()
        items = register_check.unregistered(svc, actor, when, include_resolved=not open_only)
    finally:
        svc.close()
    if not items:
        _out(_("Every visitor of {day} is in the register.", day=when.isoformat()))
        return
    for i in items:
        state = (_("linked to line {id}", id=i.register_id) if i.register_id else _("marked: {reason}", reason=i.reason)) \
            if i.resolved else _("OPEN")
        _out(f"{_pad(i.kind, 8)} {i.ref_id:>6} {i.at:%H:%M} {_pad(i.customer_number, 12)} {_pad(i.customer_name, 10)} "
             f"{_pad(i.staff, 8)} {_pad(i.method, 12)} {state}")


@register_app.command("resolve")
def register_resolve(
    kind: Annotated[str, typer.Argument(help="visit, card or contact")],
    ref_id: Annotated[int, typer.Argument(help="The item's number in the listing.")],
    day: Annotated[Optional[str], typer.Option("--date", help="The day of the item, YYYY-MM-DD (default: today).")] = None,
    line: Annotated[Optional[int], typer.Option("--line", help="Link this register line of that day.")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Or: why there is no register line.")] = "",
) -> None:
    """Resolve an item of the check: link a register line, or mark it with a reason."""
    from crm_tui.services import register_check

    when = _cli_day(day)
    svc, actor = _signed_in()
    try:
        register_check.resolve(svc, actor, kind, ref_id, when or svc.now().date(), register_id=line, reason=reason)
    finally:
        svc.close()
    _out(_("Resolved."))


grades_app = typer.Typer(help="Grades: the contact plan and the grade standard's approvals (R-GRD-1).",
                         no_args_is_help=True)
app.add_typer(grades_app, name="grades")


@grades_app.command("contact-plan")
def grades_contact_plan(
    all_: Annotated[bool, typer.Option("--all", help="Every graded customer, not only those due.")] = False,
) -> None:
    """Customers whose next contact is due (or overdue) by their grade's contact frequency."""
    from crm_tui.services import grades

    svc, actor = _signed_in()
    try:
        rows = grades.contact_plan(svc, actor, due_only=not all_)
    finally:
        svc.close()
    for r in rows:
        last = f"{r.last_contact:%Y-%m-%d}" if r.last_contact else "-"
        _out(f"{_pad(r.number, 12)} {_pad(r.name, 10)} {_pad(r.grade, 4)} {last:10} {r.due.isoformat()} "
             f"{r.days_over if r.days_over > 0 else '':>4} {r.owner}")


@grades_app.command("standard-changes")
def grades_standard_changes() -> None:
    """Proposed changes of the grade standard and their approvals."""
    from crm_tui.services import grades

    svc, actor = _signed_in()
    try:
        rows = grades.standard_changes(svc, actor)
    finally:
        svc.close()
    for c in rows:
        _out(f"{c.id:>4} {c.proposed_at:%Y-%m-%d %H:%M} {_pad(c.proposed_by, 8)} {_pad(c.state_label, 24)} {c.reason}")
        for code, (old, new) in c.changes.items():
            _out(f"       {code}: {old} -> {new}")


@grades_app.command("standard-decide")
def grades_standard_decide(
    change_id: int,
    approve: Annotated[bool, typer.Option("--approve/--reject", help="Approve, or reject with --comment.")] = True,
    comment: Annotated[str, typer.Option("--comment")] = "",
) -> None:
    """Section chief, then deputy manager: approve or reject a proposed grade standard."""
    from crm_tui.services import grades

    svc, actor = _signed_in()
    try:
        state = grades.decide_standard_change(svc, actor, change_id, approve, comment)
    finally:
        svc.close()
    _out(_(grades.STANDARD_STATES[state]))
