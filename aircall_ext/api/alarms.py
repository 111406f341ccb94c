"""Delayed actions on one shared thread: the client's "still waiting" notice.

A thread per request (``threading.Timer``) costs about as much to start as the sandbox
takes to answer in-process, and a listing of 10,000 users is 200 requests. So every alarm
of the process waits on one daemon thread, started with the first alarm.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable

Action = Callable[[], None]


class Alarm:
    """One delayed action; :meth:`cancel` before it is due and it never runs."""

    def __init__(self, alarms: Alarms, key: int) -> None:
        self._alarms = alarms
        self._key = key

    def cancel(self) -> None:
        self._alarms.cancel(self._key)


class Alarms:
    """Actions due at a time, run in order on one daemon thread (an action that blocks
    holds back the ones after it: the client's notices only write a line)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._keys = itertools.count()
        self._forget()

    def _forget(self) -> None:
        """No alarm and no thread: a forked child has no copy of the parent's thread."""
        self._changed = threading.Condition()
        self._due: dict[int, tuple[float, Action]] = {}
        self._thread: threading.Thread | None = None

    def start(self, seconds: float, action: Action) -> Alarm:
        """Run ``action`` in ``seconds`` unless the returned alarm is cancelled first."""
        with self._changed:
            key = next(self._keys)
            self._due[key] = (self._monotonic() + seconds, action)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alarms", daemon=True)
                self._thread.start()
            self._changed.notify()
        return Alarm(self, key)

    def cancel(self, key: int) -> None:
        with self._changed:
            self._due.pop(key, None)

    @property
    def pending(self) -> int:
        with self._changed:
            return len(self._due)

    def _run(self) -> None:
        while True:
            action = self._next_due()
            try:
                action()
            except Exception:  # a notice is never worth a traceback or the later notices
                continue

    def _next_due(self) -> Action:
        """Wait for the earliest alarm's time and take it off the list (a cancelled alarm
        is simply gone, so waking for it finds nothing due and waits again)."""
        with self._changed:
            while True:
                if not self._due:
                    self._changed.wait()
                    continue
                key, (due, action) = min(self._due.items(), key=lambda item: item[1][0])
                wait = due - self._monotonic()
                if wait <= 0:
                    del self._due[key]
                    return action
                self._changed.wait(wait)


ALARMS = Alarms()  # the process's one alarm thread, shared by every client
os.register_at_fork(after_in_child=ALARMS._forget)
