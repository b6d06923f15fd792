"""The outbox worker: delivers due notifications (registry.models.outbox) through the configured notifiers.

It runs in one of two ways (docs/registry.md, Notifications), and any number of either at once is safe, because each
row is claimed by exactly one worker:

- **a delivery thread** in each registry process (`REGISTRY_OUTBOX_WORKER=thread`, the default). `registry/wsgi.py`
  starts it, so `make run` and every gunicorn worker deliver email without another process; only when a channel
  besides the inbox is configured. A decision's commit wakes the thread of its own process, so the email leaves at
  once; otherwise it looks every `REGISTRY_OUTBOX_INTERVAL_SECONDS`. The app factory never starts it: tests, the
  CLI and `flask run` get no background thread.
- **`flask --app registry send-notifications --loop`**, a process of its own (with `REGISTRY_OUTBOX_WORKER=off` on
  the web processes), when mail should not share the web workers, e.g. as a systemd service.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from registry.models.outbox import Delivery, RetryPolicy, deliver_due
from registry.notify import Notifier, app_notifiers, delivering

log = logging.getLogger(__name__)

_EXTENSION = "registry_outbox_worker"
_WAKE_ON_COMMIT = "outbox_wake_on_commit"


class DeliveryWorker:
    """Runs `deliver_due` again and again: every `interval` seconds, or at once when woken."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        notifiers: dict[str, Notifier],
        policy: RetryPolicy,
        interval: float,
    ) -> None:
        self.sessions = sessions
        self.notifiers = notifiers
        self.policy = policy
        self.interval = max(0.05, interval)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Delivery:
        """Deliver what is due now; a failure of the database is logged, and the next pass tries again."""
        try:
            return deliver_due(self.sessions, self.notifiers, self.policy, stop=self._stop.is_set)
        except Exception:
            log.exception("the notification outbox could not be read; trying again in %.1f s", self.interval)
            return Delivery()

    def run(self, report: Callable[[Delivery], None] | None = None) -> None:
        """Deliver until `stop()`: a pass, then wait for the interval or a wake-up."""
        while not self._stop.is_set():
            done = self.run_once()
            if report is not None and done:
                report(done)
            self._wake.wait(self.interval)
            self._wake.clear()

    def wake(self) -> None:
        """Start the next pass now (a notification was just committed)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the notification being sent, then stop; wait up to `timeout` seconds for the thread."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def start(self) -> None:
        """Run in a daemon thread of this process."""
        self._thread = threading.Thread(target=self.run, name="registry-outbox", daemon=True)
        self._thread.start()


def worker_for(app: Flask, interval: float | None = None) -> DeliveryWorker:
    """Return a worker over the app's database and configured notifiers."""
    return DeliveryWorker(
        sessions=app.extensions["registry_sessions"],
        notifiers=delivering(app_notifiers(app)),
        policy=RetryPolicy.from_config(app.config),
        interval=float(interval if interval is not None else app.config.get("OUTBOX_INTERVAL_SECONDS") or 5),
    )


def start_delivery_thread(app: Flask) -> DeliveryWorker | None:
    """Start this process's delivery thread, if REGISTRY_OUTBOX_WORKER is `thread` and a channel has anything to send.

    Called by registry/wsgi.py in each server process (gunicorn loads the app after forking its workers, so every
    worker has its own thread; with `--preload` use the CLI worker instead).
    """
    if _EXTENSION in app.extensions:
        return app.extensions[_EXTENSION]
    mode = str(app.config.get("OUTBOX_WORKER") or "thread").strip().lower()
    if mode != "thread":
        if mode != "off":
            log.error("REGISTRY_OUTBOX_WORKER is %r, not `thread` or `off`: no delivery thread is started", mode)
        return None
    worker = worker_for(app)
    if not worker.notifiers:
        return None
    app.extensions[_EXTENSION] = worker
    worker.start()
    # A worker process that exits (gunicorn restarts it, or stops) lets the message being sent finish first.
    atexit.register(worker.stop)
    return worker


def wake_after_commit(session: Session) -> None:
    """Wake this process's delivery thread once `session` commits (the request's outbox rows are then visible)."""
    worker: DeliveryWorker | None = current_app.extensions.get(_EXTENSION)
    if worker is None or session.info.get(_WAKE_ON_COMMIT):
        return
    session.info[_WAKE_ON_COMMIT] = True

    def _committed(committed: Session) -> None:
        committed.info.pop(_WAKE_ON_COMMIT, None)
        worker.wake()

    event.listen(session, "after_commit", _committed, once=True)
