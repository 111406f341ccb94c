"""Stopping an import from outside: Ctrl-C, SIGTERM (``timeout``, a CI runner cancelling)
and SIGHUP (a terminal that went away) end a job cleanly, between writes.

The import job installs the handlers around its writes and its ending (result, report),
and puts the previous ones back when it returns; nothing else in the tool handles them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class Interrupted(KeyboardInterrupt):
    """A stop signal ended the apply loop; ``name`` is the signal's."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def stop_reason(err: KeyboardInterrupt) -> str:
    """Why the job stopped, as its result and journal say it."""
    name = err.name if isinstance(err, Interrupted) else "SIGINT"
    return "interrupted" if name == "SIGINT" else f"stopped by {name}"


class StopSignals:
    """Every way a person or a pipeline stops an import ends the same way: the write already
    sent settles (its answer is journalled), nothing more is sent, the job ends with its
    journal closed and its report written (exit 5, resume command named).

    A signal while no write is in flight stops at once. A signal while one is in flight lets
    it settle and stops before the next; a second one stops at once, leaving that write's
    outcome to ``--resume`` (which reads the account). Journal records and the report are
    never cut: a signal there is only noted.
    """

    def __init__(self) -> None:
        self.requested: str | None = None
        self._count = 0
        self._in_flight: Callable[[], bool] = lambda: False
        self._shield = 0

    def deliver(self, name: str) -> None:
        """What a signal does (the handler's body; tests call it directly)."""
        self._count += 1
        self.requested = self.requested or name
        if self._shield:
            return
        if self._count == 1 and self._in_flight():
            return
        raise Interrupted(self.requested)

    def check(self) -> None:
        """Stop here if a signal was noted while it could not stop the job."""
        if self.requested is not None:
            raise Interrupted(self.requested)

    @contextmanager
    def settling(self, in_flight: Callable[[], bool]) -> Iterator[None]:
        """Around a write: ``in_flight`` says whether its request may have been sent."""
        previous, self._in_flight = self._in_flight, in_flight
        try:
            yield
        finally:
            self._in_flight = previous

    @contextmanager
    def shielded(self) -> Iterator[None]:
        self._shield += 1
        try:
            yield
        finally:
            self._shield -= 1


@contextmanager
def handling(stop: StopSignals) -> Iterator[StopSignals]:
    """Route SIGINT, SIGTERM and SIGHUP to ``stop`` while the block runs, then put the
    previous handlers back. A signal the caller ignores (``nohup``, a background job) stays
    ignored; off the main thread (where Python cannot handle signals) nothing is routed."""
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def handle(signum: int, _frame: object) -> None:
            stop.deliver(signal.Signals(signum).name)

        for name in STOP_SIGNALS:
            number = getattr(signal, name, None)
            if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
                previous[number] = signal.signal(number, handle)
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
