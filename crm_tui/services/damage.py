"""Damaged database files (issue 17): what is damaged, said in the UI language, and the restore
command with the data folder in it. Light to import (no services.context, no SQLAlchemy): the app's
start (services/startup.py) says a damaged file with it too."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

from crm_tui.i18n import N_
from crm_tui.store import backup as backup_store
from crm_tui.store import db, paths


class DamagedDatabase(db.DatabaseDamaged):
    """A damaged database, said with what is damaged and the restore command for its data folder."""

    def __init__(self, data_dir: Path, diagnosis: db.Diagnosis) -> None:
        super().__init__(N_("The database file is damaged."), pages=diagnosis.pages)
        self.data_dir = data_dir
        self.diagnosis = diagnosis

    @property
    def message(self) -> str:
        return damage_report(self.data_dir, self.diagnosis)


def key_of_newest_backup(data_dir: Path) -> str | None:
    found = backup_store.list_backups(data_dir)
    return str(found[-1].manifest.get("key_id")) if found else None


def newest_verified_backup(data_dir: Path) -> backup_store.BackupInfo | None:
    """The newest backup in the data folder whose last verification found nothing wrong; without
    one, the newest never verified (a restore verifies it first). None when every backup failed."""
    found = list(reversed(backup_store.list_backups(data_dir)))
    for b in found:
        v = backup_store.last_verification(b)
        if v is not None and not v[1]:
            return b
    for b in found:
        if backup_store.last_verification(b) is None:
            return b
    return None


def restore_command(data_dir: Path, backup: Path, *, user: str | None = None) -> str:
    import shlex

    who = f" --user {shlex.quote(user)}" if user else ""
    tail = "" if user else " --recovery-code"
    return (f"crm-tui --data-dir {shlex.quote(str(data_dir))}{who} restore "
            f"{shlex.quote(str(backup))} --yes{tail}")


def damage_what(d: db.Diagnosis) -> str:
    from crm_tui.i18n import _

    wal = [x for x in d.problems if x.startswith("wal:")]
    if wal:
        kept = [x[5:] for x in d.problems if x.startswith("kept:")]
        frame, frames = wal[0][4:].split("/")
        return _("its write-ahead log (the -wal file) is damaged at frame {frame} of {frames}, so changes committed "
                 "after that frame cannot be applied; a copy of the log is kept as {kept} and the database was not "
                 "opened", frame=frame, frames=frames, kept=kept[0] if kept else "-")
    if d.problems == ("salt",):
        return _("no page decrypts with the key that made the newest backup: the file's header (its salt) is "
                 "damaged, or the file was replaced by another database")
    if d.pages == (1,):
        return _("page 1, the file's header, does not decrypt, though the key checks out on the other pages")
    if d.pages:
        return _("page(s) {pages} fail their check, though the key checks out on page 1",
                 pages=", ".join(str(p) for p in d.pages[:10]))
    return _("its structure fails the integrity check, though the key checks out on page 1")


def damage_report(data_dir: Path, d: db.Diagnosis) -> str:
    """What is damaged and how to get the data back, with the data folder in the command."""
    from crm_tui.i18n import _

    lines = [_("The database file is damaged: {what}. This is damage, not a wrong key; the file was not "
               "changed.", what=damage_what(d))]
    b = newest_verified_backup(data_dir)
    if b is None:
        lines.append(_("No verified backup is in {folder}. Keep the damaged file as it is (do not delete it) "
                       "and ask for help.", folder=str(paths.backups_dir(data_dir))))
        return "\n".join(lines)
    lines.append(_("Restore the newest verified backup ({name}, taken {at}); the recovery code is read from "
                   "standard input:", name=b.path.name, at=b.manifest.get("taken_at", "-")))
    lines.append("  " + restore_command(data_dir, b.path))
    lines.append(_("Or sign the restore with an administrator's password as it is in that backup:"))
    lines.append("  " + restore_command(data_dir, b.path, user="NAME"))
    return "\n".join(lines)


def say_open_error(data_dir: Path, key_store: object, e: BaseException) -> NoReturn:
    """Re-raise an error from opening the database, a damaged file said as such (with the restore
    command): DatabaseDamaged, or a WrongKey where the key is the one the newest backup was made with."""
    from crm_tui.store import rotation

    if isinstance(e, db.DatabaseDamaged) and not isinstance(e, DamagedDatabase):
        raise DamagedDatabase(data_dir, getattr(e, "diagnosis", None) or db.Diagnosis("damaged", e.pages)) from None
    if isinstance(e, db.WrongKey):
        try:
            key = key_store.get(paths.db_path(data_dir))  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - no key to compare: the wrong-key message stands
            key = None
        if key is not None and key_of_newest_backup(data_dir) == rotation.key_id(key):
            raise DamagedDatabase(data_dir, db.Diagnosis("damaged", (1,), ("salt",))) from None
    raise e


def _damage_cause(e: BaseException | None) -> bool:
    seen: set[int] = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if db.is_damage(e) or db.is_damage(getattr(e, "orig", None) or e):
            return True
        e = e.__cause__ or e.__context__
    return False


def from_error(data_dir: Path | str | None, e: BaseException, key_store: object = None) -> DamagedDatabase | None:
    """A driver error met while working (a query reached a damaged page) said as a damaged database,
    with the diagnosis and the restore command; None for any other error."""
    if not _damage_cause(e):
        return None
    from crm_tui.store import keys

    folder = paths.resolve_data_dir(data_dir)
    d = db.Diagnosis("damaged")
    try:
        key = (key_store or keys.OsKeyStore()).get(paths.db_path(folder))  # type: ignore[attr-defined]
        if key is not None:
            found = db.diagnose(paths.db_path(folder), key, full=True)
            if found.verdict == "damaged":
                d = found
    except Exception:  # noqa: BLE001 - the plain verdict stands
        pass
    return DamagedDatabase(folder, d)


def restore_over_damage(data_dir: Path, key_store: object, backup: Path, *, user: str = "", password: str = "",
                        code: str = "") -> list[str]:
    """The damage screen's restore (ui/damage.py), as ``crm-tui restore FILE --yes`` does it on a damaged
    file: the authority is the recovery code, or an administrator's password as it is in the backup
    (never a sign-in on the broken file). Returns what the restore did, line by line."""
    from crm_tui.domain.errors import CrmError
    from crm_tui.services import backup as backup_svc

    if code.strip():
        key = backup_svc.parse_code(code)
        actor_name, actor_id = "recovery-code", None
    elif user.strip():
        key = None
        actor_name, actor_id = backup_svc.authority_from_backup(data_dir, key_store, backup, user.strip(), password)  # type: ignore[arg-type]
    else:
        raise CrmError("Restoring needs an authority: an administrator's user name and password (as in the backup) "
                       "or the recovery code.")
    report = backup_svc.restore(data_dir, key_store, backup, actor_name=actor_name, actor_id=actor_id,  # type: ignore[arg-type]
                                code_key=key)
    return backup_svc.restore_summary(report, data_dir)
