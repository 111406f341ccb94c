"""The client's delayed notices share one thread (real threads; nothing waits on the clock:
alarms are due at once, or cancelled long before they would be)."""

from __future__ import annotations

import threading

from aircall_ext.api.alarms import Alarms

WAIT = 30.0  # seconds a test waits for the alarm thread at most; it answers in microseconds


def test_a_due_alarm_runs_its_action_on_the_alarm_thread() -> None:
    ran = threading.Event()
    where: list[str] = []

    def action() -> None:
        where.append(threading.current_thread().name)
        ran.set()

    alarms = Alarms()
    alarms.start(0, action)
    assert ran.wait(WAIT)
    assert where == ["alarms"]
    assert alarms.pending == 0


def test_a_cancelled_alarm_is_gone_and_the_next_one_still_runs() -> None:
    alarms = Alarms()
    cancelled: list[str] = []
    alarms.start(3600, lambda: cancelled.append("ran")).cancel()
    assert alarms.pending == 0
    ran = threading.Event()
    alarms.start(0, ran.set)
    assert ran.wait(WAIT)
    assert cancelled == []


def test_a_thousand_requests_start_one_thread() -> None:
    alarms = Alarms()
    before = {t.ident for t in threading.enumerate()}
    for _ in range(1000):
        alarms.start(3600, lambda: None).cancel()
    started = [t for t in threading.enumerate() if t.ident not in before]
    assert [t.name for t in started] == ["alarms"]
    assert started[0].daemon  # never keeps the process alive


def test_an_action_that_fails_does_not_stop_the_alarms_after_it() -> None:
    alarms = Alarms()

    def fail() -> None:
        raise RuntimeError("a notice that could not be written")

    alarms.start(0, fail)
    ran = threading.Event()
    alarms.start(0, ran.set)
    assert ran.wait(WAIT)


def test_alarms_run_in_the_order_they_are_due() -> None:
    alarms = Alarms(monotonic=lambda: 0.0)
    order: list[str] = []
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        holding.set()
        release.wait(WAIT)

    def second() -> None:
        order.append("second")
        done.set()

    alarms.start(0, hold)
    assert holding.wait(WAIT)  # the thread is busy while the next two are set, latest first
    alarms.start(-0.5, second)
    alarms.start(-1, lambda: order.append("first"))
    release.set()
    assert done.wait(WAIT)
    assert order == ["first", "second"]
