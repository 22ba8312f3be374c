"""The ``crm-tui`` command. Every command calls services; errors are one clear line, no traceback."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _, set_language
from crm_tui.ui import launch

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="crm-tui: encrypted, keyboard-driven customer management for a branch front desk.",
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
        _out(f"{'OK  ' if c.ok else 'FAIL'} {_pad(c.name, width)}  {c.detail}")
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command()
def demo(
    fresh: Annotated[bool, typer.Option("--fresh", help="Throw away the demo database and make a new one.")] = False,
    no_keyring: Annotated[bool, typer.Option("--no-keyring", help="Keep the demo key in memory only (throwaway).")] = False,
    setup_only: Annotated[bool, typer.Option("--setup-only", help="Build the demo database but do not start the app.")] = False,
) -> None:
    """Build (once) a demo database with realistic Chinese data and start the app on it."""
    from crm_tui.services import demo as demo_svc
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
    approval: Annotated[Optional[str], typer.Option("--approval", help="Whose approval opened the account (R-SEC-1).")] = None,
) -> None:
    """Open an account; prints its one-time password, which must be changed at first sign-in."""
    from crm_tui.services import staff

    svc, actor = _signed_in()
    try:
        _staff_id, otp = staff.add_user(svc, actor, username, role, display_name, approval)
    finally:
        svc.close()
    _out(_("Account {user} created. One-time password (shown once): {otp}", user=username, otp=otp))


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
def user_disable(username: str) -> None:
    """Disable an account (never deleted, so history keeps the name)."""
    from crm_tui.services import staff

    svc, actor = _signed_in()
    try:
        staff.disable_user(svc, actor, username)
    finally:
        svc.close()
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
             f"{_verified_text(r.problems)}")


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
) -> None:
    """Restore a backup: verified first, the current database kept as a safety copy, swapped atomically.

    Refused while the app or another command has the database open. With a database in place,
    give --user NAME (permission backup.restore); on a new machine give --recovery-code."""
    from crm_tui.services import backup as backup_svc

    if not yes:
        raise CrmError("Restoring replaces the current database (a safety copy is kept). Add --yes to go ahead.")
    place = _place()
    actor_name, actor_id = "system", None
    if place.db_file.exists():
        svc, actor = _signed_in()
        try:
            backup_svc.check_may(svc, actor, "backup.restore")
        finally:
            svc.close()
        actor_name, actor_id = actor.username, actor.staff_id
    code = backup_svc.parse_code(_code_text()) if recovery_code else None
    report = backup_svc.restore(place.data_dir, place.key_store, file, actor_name=actor_name, actor_id=actor_id,
                                code_key=code, allow_diverged=force)
    _out(_("Restored {name} (taken {at}).", name=report.restored, at=report.taken_at))
    if report.safety_copy:
        _out(_("The database it replaced is kept as {name} in the backups folder.", name=report.safety_copy))
    _out({"new": _("Audit trail: this folder had no database before."),
          "continuous": _("Audit trail continues: {n} newer entries are only in the safety copy.", n=report.lost_entries),
          "ahead": _("Audit trail continues: the backup is newer than the database it replaced."),
          "diverged": _("Audit trail DOES NOT continue the replaced database's (restored with --force).")}[report.continuity])
    if report.key_changed:
        _out(_("The keyring now holds the backup's key; the previous key is kept as a retired entry."))


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
) -> None:
    """The customer list (R-CUST-12) with phones masked; audited."""
    from crm_tui.services import customers

    fmt = to.suffix.lower().lstrip(".")
    svc, actor = _signed_in()
    try:
        n = customers.export_list(svc, actor, query, customers.SearchFilters(), to, fmt=fmt)
    finally:
        svc.close()
    _out(_("Exported {n} customers to {path}.", n=n, path=str(to)))


def main() -> None:
    """Every command line but a plain start of the app (``crm_tui.start.main`` sends them here)."""
    try:
        rc = app(standalone_mode=False)  # click returns the code of a typer.Exit here
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
    if isinstance(e, __import__("click").ClickException):
        e.show()
        sys.exit(e.exit_code)
    if isinstance(e, Exception):  # last resort: one line, details in the crash log
        _crash(e)
    raise e  # SystemExit and the like


def _crash(exc: BaseException) -> NoReturn:
    import traceback

    from crm_tui.services.system import crash_log_path

    path = crash_log_path(G.data_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with path.open("a", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(exc)))
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
