"""SIGINT/SIGTERM/SIGHUP/SIGQUIT become Interrupted once; during cleanup they never abort."""

from __future__ import annotations

import signal

import pytest

from harness.errors import Interrupted
from harness.run.signals import SignalGuard


@pytest.mark.parametrize(
    ("sig", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGQUIT, 131)],
)
def test_first_signal_raises_interrupted_with_exit_code(sig: signal.Signals, code: int) -> None:
    def unguarded(signum: int, _frame: object) -> None:
        raise AssertionError(f"{signal.Signals(signum).name} is not handled by SignalGuard")

    # Without this, an unhandled SIGHUP/SIGQUIT would end the whole test session.
    before = signal.signal(sig, unguarded)
    seen: list[tuple[int, bool]] = []
    try:
        with SignalGuard(lambda s, c: seen.append((s, c))) as guard:
            with pytest.raises(Interrupted) as info:
                # raise_signal runs the Python handler before it returns: no wait needed.
                signal.raise_signal(sig)
            assert info.value.exit_code == code
            assert guard.received == sig
    finally:
        signal.signal(sig, before)
    assert seen == [(sig, False)]


def test_signals_during_cleanup_do_not_raise() -> None:
    seen: list[tuple[int, bool]] = []
    with SignalGuard(lambda s, c: seen.append((s, c))) as guard:
        guard.cleaning()
        signal.raise_signal(signal.SIGTERM)
        assert guard.received == signal.SIGTERM
    assert seen == [(signal.SIGTERM, True)]


def test_previous_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with SignalGuard():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_raising_signal_callback_neither_hides_nor_aborts() -> None:
    def broken(signum: int, cleaning: bool) -> None:
        raise RuntimeError("the view is gone")

    with SignalGuard(broken) as guard:
        with pytest.raises(Interrupted):
            signal.raise_signal(signal.SIGTERM)
        guard.cleaning()
        signal.raise_signal(signal.SIGINT)  # during cleanup: neither raises
    assert guard.received == signal.SIGTERM
