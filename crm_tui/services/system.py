"""Opening the database for the app and the CLI, set-up, health checks and the recovery code."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from crm_tui.clock import Clock, system_now
from crm_tui.domain.errors import CrmError, PermissionDenied
from crm_tui.services import damage
from crm_tui.services.context import Actor, Services
from crm_tui.store import backup as backup_store
from crm_tui.store import db, keys, migrate, paths
from crm_tui.store.queries import startup as sq


@dataclass(frozen=True)
class Place:
    """Where a database lives and how its key is kept."""

    data_dir: Path
    key_store: keys.KeyStore

    @property
    def db_file(self) -> Path:
        return paths.db_path(self.data_dir)


def os_key_store() -> keys.KeyStore:
    return keys.OsKeyStore()


def memory_key_store() -> keys.KeyStore:
    return keys.MemoryKeyStore()


def resolve(data_dir: Path | str | None, key_store: keys.KeyStore | None = None) -> Place:
    return Place(paths.resolve_data_dir(data_dir), key_store or os_key_store())


def open_services(place: Place, *, clock: Clock = system_now, demo: bool = False) -> Services:
    try:
        store = db.open_store(place.data_dir, place.key_store)
    except (db.DatabaseDamaged, db.WrongKey) as e:
        damage.say_open_error(place.data_dir, place.key_store, e)
    return Services(store=store, clock=clock, demo=demo)


def discard_abandoned_imports(svc: Services) -> list[str]:
    """Remove what killed imports left (never visible) and say so; a cheap query when none did."""
    from crm_tui.store import pending

    with svc.store.read() as s:
        if not pending.ranges(s):
            return []
    from crm_tui.services import importing

    return [importing.discarded_message(d) for d in importing.discard_abandoned(svc)]


def create_empty(place: Place) -> Path:
    return db.create_database(place.data_dir, place.key_store)


def crash_log_path(data_dir: Path | str | None) -> Path:
    return paths.resolve_data_dir(data_dir) / "logs" / "crash.log"


def crash_text(exc: BaseException | None) -> str:
    """An unexpected error as the crash log keeps it: the traceback (no local variables: they may
    hold passwords), with anything shaped like an ID number, a phone or a bank account masked, since
    an exception's message may quote a customer's value (domain.masking; R-SEC-2)."""
    import traceback

    from crm_tui.domain import masking

    if exc is None:
        return "unknown error\n"
    return masking.GENERIC.text("".join(traceback.format_exception(exc)))


def init(place: Place, admin: str, password: str, display_name: str | None = None) -> Path:
    """New key into the keyring, new encrypted file, schema, first administrator, first backup.

    If anything after the file's creation fails, the new (empty) file is removed again so a retry
    starts clean; an existing file is never touched.
    """
    from crm_tui.services import staff

    from crm_tui.domain import passwords
    from crm_tui.domain.config import load

    min_len = int(load("settings.toml")["security"]["password_min_length"])
    staff._validate_username(admin)
    passwords.check_policy(password, username=admin, min_length=min_len)
    db_file = db.create_database(place.data_dir, place.key_store)
    try:
        svc = open_services(place)
        try:
            staff.create_first_admin(svc, admin, password, display_name)
        finally:
            svc.close()
        key = place.key_store.get(db_file)
        assert key is not None
        backup_store.make_backup(db_file, key, reason="init")
    except BaseException:
        for suffix in ("", *paths.SIDE_FILES):
            Path(str(db_file) + suffix).unlink(missing_ok=True)
        raise
    return db_file


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    warn: bool = False  # ok (the exit code stays 0), but something needs doing soon


def doctor(place: Place, now: datetime | None = None, *, rebuild_summary: bool = False) -> list[Check]:
    """One line per check; stops at the first check the rest depend on. ``rebuild_summary``: refill
    the home's summary counts from the base tables when they differ (issue 22)."""
    from crm_tui.i18n import _

    now = now or system_now()
    checks: list[Check] = []
    ks = place.key_store
    try:
        ks.check()
        checks.append(Check(_("keyring backend"), True, ks.describe()))
    except CrmError as e:
        checks.append(Check(_("keyring backend"), False, e.message))
        return checks
    db_file = place.db_file
    if not db_file.exists():
        checks.append(Check(_("database file"), False, _("missing: {path}", path=str(db_file))))
        return checks
    try:
        key = ks.get(db_file)
    except CrmError as e:
        checks.append(Check(_("key present"), False, e.message))
        return checks
    if key is None:
        checks.append(Check(_("key present"), False, _("no key in the keyring for {path}", path=str(db_file))))
        return checks
    checks.append(Check(_("key present"), True, _("for {path}", path=str(db_file))))
    from crm_tui.services import backup as backup_svc
    from crm_tui.store import rotation

    state = rotation.state(db_file, ks)
    if state == "unfinished":
        checks.append(Check(_("key rotation"), False, _(
            "a key rotation was interrupted after the database was re-encrypted: finish it with "
            "'crm-tui key rotate --finish' (starting the app finishes it too)")))
        return checks
    wal = db.wal_damage(db_file)
    if wal is not None:  # before anything opens the file: an open would drop the log's later changes
        kept = db.keep_damaged_wal(db_file, now)
        checks.append(Check(_("database file"), False, damage.damage_report(
            place.data_dir, db.Diagnosis("damaged", (), (f"wal:{wal[0]}/{wal[1]}", f"kept:{kept.name}")))))
        return checks
    d = db.diagnose(db_file, key, full=True)
    if d.verdict == "wrong_key" and damage.key_of_newest_backup(place.data_dir) == rotation.key_id(key):
        # no page checks, yet this key made the newest backup: the salt (first 16 bytes) is damaged
        d = db.Diagnosis("damaged", (1,), ("salt",))
    if d.verdict == "wrong_key":
        checks.append(Check(_("database opens"), False, _(
            "the key in the keyring does not open {path}: page 1 does not decrypt with it, nor does any "
            "other page. This is the wrong key, not damage: import the right one from the recovery code "
            "with 'crm-tui key import'. The file was not changed.", path=str(db_file))))
        return checks
    if d.verdict == "damaged" and d.problems == ("salt",):
        checks.append(Check(_("database opens"), False, _(
            "page 1 does not decrypt with the keyring's key, though it is the key of the newest backup")))
    elif d.verdict == "damaged" and d.pages == (1,):
        checks.append(Check(_("database opens"), False, _(
            "page 1 does not decrypt, but the key checks out on the file's other pages")))
    else:
        checks.append(Check(_("database opens"), True, str(db_file)))
    if d.verdict == "damaged":
        checks.append(Check(_("database file"), False, damage.damage_report(place.data_dir, d)))
    else:
        checks.append(Check("cipher_integrity_check", True, "ok"))
        checks.append(Check("integrity_check", True, "ok"))
        conn = db.raw_connect(db_file, key)
        years: set[int] | None = None
        try:
            current = sq.schema_version(conn)  # None: an unmigrated file (no version table)
            head = migrate.head_revision()
            later: list[Check] = []
            if current == head:
                years = sq.holiday_years(conn)
                later = [*_unique_checks(conn), _import_check(conn, db_file), _summary_check(conn, rebuild_summary)]
        finally:
            conn.close()
        checks.append(Check(_("schema version"), current == head,
                            _("{current} (newest {head})", current=current or "-", head=head)))
        checks.extend(later)
        if years is not None:
            from crm_tui.services import holidays

            missing = holidays.missing_years_in(now.date(), years)
            checks.append(Check(_("holiday schedule"), True, _(
                "no holiday schedule for {years}; load it: {hint}", years=", ".join(map(str, missing)),
                hint=_(holidays.FIX_HINT)) if missing else _("covers {years}", years=", ".join(
                    map(str, holidays.needed_years(now.date())))), warn=bool(missing)))
    if state == "stale_pending":
        checks.append(Check(_("key rotation"), True, _(
            "a key rotation stopped before re-encrypting; the database keeps its key (the next start tidies up)")))
    left = backup_store.leftovers(place.data_dir, min_age_s=0)
    if left:
        names = [f.name for f in (*left.parts, *left.orphans)]
        checks.append(Check(_("backups folder"), False, _(
            "{parts} unfinished copies (.part) and {orphans} backups without a manifest: {names}. The next start "
            "removes the unfinished copies and adopts the backups that open and check.",
            parts=len(left.parts), orphans=len(left.orphans), names=", ".join(names[:6]))))
    backups = backup_store.list_backups(place.data_dir)
    if not backups:
        checks.append(Check(_("newest backup"), False, _("no backup yet: run 'crm-tui backup'")))
    else:
        newest = backups[-1]
        age_h = (now - newest.taken_at).total_seconds() / 3600
        problems = backup_svc.verify_file(place.data_dir, ks, newest.path, now=now).problems
        ok = not problems and age_h <= backup_svc.STALE_HOURS
        detail = _("{name}, {hours:.0f} h old, {result}", name=newest.path.name, hours=age_h,
                   result=_("verified") if not problems else _("damaged: {what}",
                                                                 what=", ".join(backup_store.problem_text(p) for p in problems)))
        checks.append(Check(_("newest backup"), ok, detail))
    return checks


def diagnose(place: Place) -> db.Diagnosis:
    """The database file's state with the keyring's key (``missing`` without a file)."""
    key = db.load_key(place.db_file, place.key_store) if place.db_file.exists() else None
    if key is None:
        return db.Diagnosis("missing")
    return db.diagnose(place.db_file, key, full=True)


def _unique_checks(conn: Any) -> list[Check]:
    """Live ID numbers and credit codes unique (migration 1201). A database that held duplicates
    keeps a plain index until they are resolved; doctor lists them, and makes the index unique
    once they are gone."""
    from crm_tui.i18n import _

    out = []
    try:
        blocked = sq.make_unique_indexes(conn)
    except Exception as e:  # noqa: BLE001 - a busy database: said, not a traceback
        return [Check(_("unique ID numbers"), False, str(e))]
    for col, label in (("id_number", _("unique ID numbers")), ("uscc", _("unique credit codes"))):
        found = blocked.get(col)
        out.append(Check(label, not found, "ok" if not found else _(
            "{n} value(s) held by more than one archive (e.g. {example}); correct or erase one of each, then "
            "run doctor again", n=len(found), example=found[0][0][:4] + "…")))
    return out


def _summary_check(conn: Any, rebuild: bool) -> Check:
    """The home's summary counts (store/summary.py) against a recount of the base tables; with
    ``rebuild`` a difference is mended (refilled in one transaction) and checked again."""
    from crm_tui.i18n import _
    from crm_tui.store.queries import summary as qsum

    try:
        bad, gone = qsum.compare(conn), qsum.missing_triggers(conn)
        if (bad or gone) and rebuild:
            qsum.rebuild_now(conn)
            fixed = len(bad)
            bad, gone = qsum.compare(conn), qsum.missing_triggers(conn)
            if not bad and not gone:
                return Check(_("home summary counts"), True, _("rebuilt from the records ({n} counts differed)", n=fixed))
    except Exception as e:  # noqa: BLE001 - a busy database: said, not a traceback
        return Check(_("home summary counts"), False, str(e))
    if not bad and not gone:
        return Check(_("home summary counts"), True, _("match a recount of the records"))
    first = bad[0] if bad else None
    detail = _("{n} counts differ from a recount of the records", n=len(bad)) if bad else ""
    if first is not None:
        detail += _(" (first: {table} {key}: {stored} kept, {counted} counted)", table=first.table,
                    key="/".join(str(k) for k in first.key), stored=first.stored, counted=first.counted)
    if gone:
        detail = (detail + "; " if detail else "") + _("triggers missing: {names}", names=", ".join(gone))
    return Check(_("home summary counts"), False,
                 detail + "\n" + _("rebuild them: crm-tui doctor --rebuild-summary"))


def _import_check(conn: Any, db_file: Path) -> Check:
    """Imports not yet published: one running now (its rows hidden until it ends), or one a killed
    process left (removed at the next start of the app or of any command)."""
    from crm_tui.i18n import _
    from crm_tui.store import lock

    rows = sq.unpublished_imports(conn)
    if not rows:
        return Check(_("unfinished imports"), True, _("none"))
    parts = []
    abandoned = False
    for token, file, by, at in rows:
        if lock.import_running(db_file, str(token)):
            parts.append(_("{file} by {user} since {at}: running", file=file, user=by or "-", at=str(at)[:16]))
        else:
            abandoned = True
            parts.append(_("{file} by {user} at {at}: interrupted; its hidden rows are removed at the next start",
                           file=file, user=by or "-", at=str(at)[:16]))
    return Check(_("unfinished imports"), not abandoned, "; ".join(parts))


def export_recovery_code(svc: Services, actor: Actor, password: str, key_store: keys.KeyStore) -> str:
    """The key as a grouped recovery code, for a sealed envelope. Administrator + password again."""
    from crm_tui.services import staff

    svc.require(actor, "key.export")
    if not staff.check_password(svc, actor, password, "key_export"):
        raise PermissionDenied("The password is wrong; the recovery code was not shown.")
    key = key_store.get(svc.store.db_file)
    if key is None:
        raise keys.KeyMissing("The keyring holds no key for this database.")
    with svc.write(actor) as tx:
        tx.audit("key.export", details={"db": str(svc.store.db_file)})
    return keys.recovery_code(key)


def import_recovery_code(place: Place, code: str) -> str:
    """Check that the code opens the database, then store it in the keyring. Returns what happened."""
    key = keys.parse_recovery_code(code)
    db_file = place.db_file
    if not db_file.exists():
        raise db.DatabaseMissing("No database at {path}; restore the file first, then import its key.",
                                 path=str(db_file))
    db.raw_connect(db_file, key).close()  # WrongKey if the code does not open this file
    place.key_store.check()
    existing = place.key_store.get(db_file) if _safe_get(place) else None
    if existing == key:
        return "unchanged"
    place.key_store.put(db_file, key)
    store = db.open_with_key(db_file, key, migrate=False, pool="null")
    try:
        with store.write() as s:
            from crm_tui.store import audit as audit_store

            audit_store.append(s, at=system_now(), actor_id=None, actor_name="system", action="key.import",
                               details={"db": str(db_file), "replaced": existing is not None})
    finally:
        store.close()
    return "replaced" if existing is not None else "stored"


def _safe_get(place: Place) -> bool:
    try:
        place.key_store.get(place.db_file)
        return True
    except CrmError:
        return False


def make_demo_place(root: Path | None, use_keyring: bool) -> tuple[Place, bool]:
    """The demo's own folder. Returns (place, throwaway): throwaway when no keyring can hold the key."""
    if use_keyring:
        ks = os_key_store()
        try:
            ks.check()
            env = os.environ.get("CRM_TUI_DATA_DIR")
            folder = root or (Path(env) if env else paths.default_data_dir() / "demo")
            return Place(paths.ensure_private_dir(folder), ks), False
        except CrmError:
            pass
    folder = Path(tempfile.mkdtemp(prefix="crm-tui-demo-"))
    return Place(folder, memory_key_store()), True


def remove_demo(place: Place) -> None:
    shutil.rmtree(place.data_dir, ignore_errors=True)
