"""Stop signals: noted while shielded, routed only inside the block, ignored ones left alone."""

from __future__ import annotations

import os
import signal

import pytest

from aircall_ext.services.stopsignals import Interrupted, StopSignals, handling, stop_reason


def test_shielded_signals_are_noted_and_stop_at_the_next_check() -> None:
    stop = StopSignals()
    with stop.shielded():
        stop.deliver("SIGTERM")
        stop.deliver("SIGTERM")
    assert stop.requested == "SIGTERM"
    with pytest.raises(Interrupted):
        stop.check()


def test_a_write_in_flight_settles_unless_a_second_signal_comes() -> None:
    stop = StopSignals()
    with stop.settling(lambda: True):
        stop.deliver("SIGINT")  # noted: the write in flight settles first
        with pytest.raises(Interrupted) as raised:
            stop.deliver("SIGINT")
    assert stop_reason(raised.value) == "interrupted"
    assert stop_reason(Interrupted("SIGHUP")) == "stopped by SIGHUP"


def test_stop_signals_handle_real_signals_only_inside_the_block() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with handling(StopSignals()) as stop, pytest.raises(Interrupted) as raised:
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs before the next bytecode
    assert raised.value.name == "SIGTERM" and stop.requested == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_ignored_signal_stays_ignored() -> None:
    """Under ``nohup`` a lost terminal must not stop the import."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with handling(StopSignals()):
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)
