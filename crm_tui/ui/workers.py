"""Background work in screens: the one way to do it.

Anything that may take more than a few milliseconds (a list page, a search, a detail, an export,
a backup, an import) runs in a thread so the screen keeps taking keys. Every screen (``BaseScreen``
and ``BaseModal`` in ui/base.py) has two methods for it, from ``Loaders`` below:

    self.run_loader(cs.search, self.svc, self.actor, query, limit=PAGE,
                    on_result=self._show, group="customer-search")
    self.run_action(backup_svc.run_backup, self.svc, self.actor,
                    on_result=self._done, on_error=self._failed, group="backup-run")

``fn(*args, **kwargs)`` runs in a thread worker (exclusive in its ``group``: a newer call of the
same group supersedes the older one, whose result is dropped). ``fn`` must not touch widgets or
read them: read what it needs (a search box's text) before the call and pass it as an argument.
Its return value comes back to the screen as a message, and ``on_result(value)`` runs on the app's
thread with the widgets at hand, under these rules:

- Applied only while the screen is mounted and is the current screen. A screen covered by a dialog,
  another screen or the lock screen keeps the newest result of each group and applies it when it
  shows again. A result for a screen that was dismissed (Esc, another area's key, sign-out) is
  dropped, as is the result of a cancelled or superseded worker.
- ``run_loader`` is for reading: on lock (``CrmApp.action_lock``) the loaders of every screen are
  cancelled, and those that had not delivered run again when their screen shows after the unlock.
  ``run_action`` is for work with effects (a backup, an import, an export): it is not cancelled by
  the lock (a thread cannot be stopped halfway anyway) and it is never run twice; its result waits
  for the screen to show again.
- Every worker of a screen is cancelled when the screen is dismissed (Textual cancels a node's
  workers when it unmounts) and on sign-out (``cancel_loaders``).
- ``on_done()`` runs after the result or the error is applied, whichever came (to end a busy state).
- A ``CrmError`` from ``fn`` goes to ``on_error(error)``; without one the screen shows
  ``error.explain()`` as a notification. Any other exception never ends the app: ``record_failure``
  writes its type and stack (file, line, function; no message, no values: they may hold personal
  data) to logs/errors.log beside the database and the user gets a notification in the UI language.
- ``progress(callback)`` wraps a screen method as a thread-safe callable for ``fn`` to report
  progress with (an import's row count); a call for a screen that is not current is dropped.

Do not use ``@work``, ``run_worker`` or ``app.call_from_thread`` in screens: a result written into
the widgets of a screen that is already gone was the cause of the crashes on sign-out (issue 17).
tests/ui/test_interrupt_loaders.py interrupts every loader of every area for every role.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message
from textual.worker import Worker, WorkerState

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _

_ERROR_LOG = "errors.log"


@dataclass
class _Spec:
    """What a loader was asked to do, kept so a loader cancelled by the lock can run again."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    on_result: Callable[[Any], object] | None
    on_error: Callable[[CrmError], object] | None
    group: str
    rerun: bool
    on_done: Callable[[], object] | None = None
    worker: Worker[None] | None = field(default=None, repr=False)


class LoaderDone(Message, bubble=False):
    """Posted by a worker thread to its own screen: the value, or the error, of ``spec.fn``."""

    def __init__(self, spec: _Spec, worker: Worker[None] | None, value: Any = None,
                 error: BaseException | None = None) -> None:
        super().__init__()
        self.spec = spec
        self.worker = worker
        self.value = value
        self.error = error


class LoaderProgress(Message, bubble=False):
    """Posted by a worker thread: call ``callback(*args)`` if the screen is current, else drop it."""

    def __init__(self, callback: Callable[..., object], args: tuple[Any, ...]) -> None:
        super().__init__()
        self.callback = callback
        self.args = args


def record_failure(app: Any, error: BaseException, where: str) -> str:
    """Log an unexpected error of background work without personal data and tell the user.

    Only the exception's type and the stack (file, line, function) are written: an exception's
    message or the values in it may hold names, phones or ID numbers. Returns the log's path."""
    frames = traceback.extract_tb(error.__traceback__)
    lines = [f"worker error in {where}: {type(error).__module__}.{type(error).__qualname__}"]
    lines += [f"  {f.filename}:{f.lineno} in {f.name}" for f in frames]
    where_log = "-"
    svc = getattr(app, "svc", None)
    store = getattr(svc, "store", None)
    db_file = getattr(store, "db_file", None)
    if db_file is not None:
        path = db_file.parent / "logs" / _ERROR_LOG
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with path.open("a", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
            where_log = str(path)
        except OSError:
            pass
    failures = getattr(app, "worker_failures", None)
    if isinstance(failures, list):
        failures.append(f"{where}: {type(error).__name__}")
    try:
        app.notify(_("Something went wrong ({kind}); the app keeps running. Try again. Details: {path}",
                     kind=type(error).__name__, path=where_log), severity="error", timeout=10)
    except Exception:  # noqa: BLE001 - the app is closing: nothing to show it on
        pass
    return where_log


class Loaders:
    """Mixed into every screen (ui/base.py). See the module docstring."""

    _loader_specs: dict[str, _Spec]
    _loader_pending: dict[str, LoaderDone]
    _loader_rerun: dict[str, _Spec]

    def _init_loaders(self) -> None:
        self._loader_specs = {}
        self._loader_pending = {}
        self._loader_rerun = {}

    # -- starting work ------------------------------------------------------------------------------
    def run_loader(self, fn: Callable[..., Any], *args: Any, on_result: Callable[[Any], object] | None = None,
                   on_error: Callable[[CrmError], object] | None = None, group: str = "load",
                   on_done: Callable[[], object] | None = None, **kwargs: Any) -> Worker[None]:
        """Read something in a thread; ``on_result(value)`` applies it while the screen is current.
        Cancelled on lock and run again after the unlock."""
        return self._loader_start(_Spec(fn, args, kwargs, on_result, on_error, group, rerun=True, on_done=on_done))

    def run_action(self, fn: Callable[..., Any], *args: Any, on_result: Callable[[Any], object] | None = None,
                   on_error: Callable[[CrmError], object] | None = None, group: str = "action",
                   on_done: Callable[[], object] | None = None, **kwargs: Any) -> Worker[None]:
        """Do something with effects in a thread; never cancelled by the lock, never run twice."""
        return self._loader_start(_Spec(fn, args, kwargs, on_result, on_error, group, rerun=False, on_done=on_done))

    def progress(self, callback: Callable[..., object]) -> Callable[..., None]:
        """A callable for a worker thread: each call runs ``callback`` on the app's thread while the
        screen is current (dropped otherwise)."""
        def report(*args: Any) -> None:
            self.post_message(LoaderProgress(callback, args))  # type: ignore[attr-defined]

        return report

    def _loader_start(self, spec: _Spec) -> Worker[None]:
        self._loader_rerun.pop(spec.group, None)
        self._loader_pending.pop(spec.group, None)

        def body() -> None:  # in the worker thread
            from textual.worker import get_current_worker

            worker = get_current_worker()
            try:
                value = spec.fn(*spec.args, **spec.kwargs)
            except Exception as e:  # noqa: BLE001 - every error goes back to the screen as a message
                if not worker.is_cancelled:
                    self.post_message(LoaderDone(spec, worker, error=e))  # type: ignore[attr-defined]
                return
            if not worker.is_cancelled:
                self.post_message(LoaderDone(spec, worker, value=value))  # type: ignore[attr-defined]

        worker: Worker[None] = self.run_worker(  # type: ignore[attr-defined]
            body, name=spec.group, group=spec.group, exclusive=True, thread=True, exit_on_error=False)
        spec.worker = worker
        self._loader_specs[spec.group] = spec
        return worker

    # -- stopping work ------------------------------------------------------------------------------
    def cancel_loaders(self, *, lock: bool = False) -> None:
        """Cancel this screen's workers. ``lock``: only the loaders (``run_loader``), and remember
        those that had not delivered to run them again when the screen shows."""
        for group, spec in list(self._loader_specs.items()):
            worker = spec.worker
            if worker is None or worker.state not in (WorkerState.PENDING, WorkerState.RUNNING):
                continue
            if lock and not spec.rerun:
                continue
            worker.cancel()
            if lock:
                self._loader_rerun[group] = spec
        if not lock:
            self._loader_pending.clear()
            self._loader_rerun.clear()
            for worker in self.app.workers:  # type: ignore[attr-defined]
                if worker.node is self:
                    worker.cancel()
        else:  # a result that waits for the screen is a read from before the lock: read again
            for group, done in list(self._loader_pending.items()):
                if done.spec.rerun:
                    del self._loader_pending[group]
                    self._loader_rerun[group] = done.spec

    # -- results ------------------------------------------------------------------------------------
    def _loader_current(self) -> bool:
        screen = self  # a screen, or a widget on one
        return bool(getattr(screen, "is_attached", False)) and not getattr(screen, "_closing", False) \
            and self.app.screen is screen  # type: ignore[attr-defined]

    def on_loader_done(self, message: LoaderDone) -> None:
        message.stop()
        spec = message.spec
        if message.worker is not None and message.worker.is_cancelled:
            return
        if self._loader_specs.get(spec.group) is not spec:
            return  # superseded by a newer call of the same group
        if not getattr(self, "is_attached", False) or getattr(self, "_closing", False):
            return
        if not self._loader_current():
            self._loader_pending[spec.group] = message
            return
        self._loader_deliver(message)

    def on_loader_progress(self, message: LoaderProgress) -> None:
        message.stop()
        if self._loader_current():
            self._loader_guarded("progress", message.callback, *message.args)

    def on_screen_resume(self) -> None:
        """Deliver what waited for this screen, and run again the loaders the lock cancelled."""
        pending, self._loader_pending = self._loader_pending, {}
        for done in pending.values():
            if not self._loader_current():
                self._loader_pending[done.spec.group] = done
                continue
            self._loader_deliver(done)
        rerun, self._loader_rerun = self._loader_rerun, {}
        for group, spec in rerun.items():
            if self._loader_busy(group) or self._loader_specs.get(group) is not spec:
                continue  # the screen has asked again itself (its own on_screen_resume)
            self._loader_start(spec)

    def _loader_busy(self, group: str) -> bool:
        return any(w.node is self and w.group == group and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                   for w in self.app.workers)  # type: ignore[attr-defined]

    def _loader_deliver(self, message: LoaderDone) -> None:
        try:
            self._loader_outcome(message)
        finally:
            if message.spec.on_done is not None:  # after the result, the error or a failure alike
                self._loader_guarded(message.spec.group, message.spec.on_done)

    def _loader_outcome(self, message: LoaderDone) -> None:
        spec = message.spec
        if message.error is None:
            if spec.on_result is not None:
                self._loader_guarded(spec.group, spec.on_result, message.value)
                # the rows that just arrived fit the width at once (ui/base.py; room_of counts the
                # scrollbar they bring): waiting for the table's RowHighlighted left a table unfitted
                # when its cursor row did not move. Once more after the refresh, for a table whose
                # rows came before its first layout (its room was then only guessed from the terminal)
                refit = getattr(self, "_refit_tables", None)
                if refit is not None:
                    self._loader_guarded(spec.group, refit)
                    self.call_after_refresh(self._loader_guarded, spec.group, refit)  # type: ignore[attr-defined]
            return
        error = message.error
        if isinstance(error, CrmError):
            if spec.on_error is not None:
                self._loader_guarded(spec.group, spec.on_error, error)
            else:
                self.notify(error.explain(), severity="error")  # type: ignore[attr-defined]
            return
        record_failure(self.app, error, f"{type(self).__name__}/{spec.group}")  # type: ignore[attr-defined]

    def _loader_guarded(self, where: str, fn: Callable[..., object], *args: Any) -> None:
        """Apply a result: an error there (a bug) is logged and shown, and the app keeps running."""
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001
            record_failure(self.app, e, f"{type(self).__name__}/{where}")  # type: ignore[attr-defined]
