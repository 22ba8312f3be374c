"""Backups, restore and key rotation (issue 9): ``backup ...``, ``restore``, ``key rotate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from crm_tui.cli import common
from crm_tui.cli.common import _ask_password, _code_text, _out, _pad, _signed_in, app, key_app
from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _


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

    place = common._place()
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
    place = common._place()
    if recovery_code:
        code = backup_svc.parse_code(_code_text())
        actor_name, actor_id = "recovery-code", None
    elif common.G.user:
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
                   "is checked against the backup being restored.", user=common.G.user))
            actor_name, actor_id = backup_svc.authority_from_backup(
                place.data_dir, place.key_store, file, common.G.user, _ask_password(_("Password for {user}: ", user=common.G.user)))
    else:
        raise CrmError("Restoring needs an authority: give --user NAME (an administrator; the password is checked "
                       "against the backup when the database is damaged or missing) or --recovery-code (the "
                       "recovery code, read from standard input).")
    report = backup_svc.restore(place.data_dir, place.key_store, file, actor_name=actor_name, actor_id=actor_id,
                                code_key=code, allow_diverged=force)
    for line in backup_svc.restore_summary(report, place.data_dir):
        _out(line)


@key_app.command("rotate")
def key_rotate(
    finish: Annotated[bool, typer.Option("--finish", help="Complete a rotation that was interrupted.")] = False,
) -> None:
    """Re-encrypt the database with a new key, crash-safe (administrator, password again).

    Refused while the app or another command has the database open. Export the new recovery code
    afterwards: backups made before the rotation open with the old one."""
    from crm_tui.services import backup as backup_svc

    place = common._place()
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
