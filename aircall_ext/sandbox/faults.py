"""Fault injection: the failures a real network and gateway produce, on demand and reproducibly.

A spec like ``500:0.1,429:0.05,reset:0.02,slow:0.05`` gives each kind a probability per
request. One uniform draw per request picks at most one fault, so with ``--seed`` the same
request sequence meets the same faults. A ``reset`` on a write drops the connection either
before or after the write is applied: a client cannot tell which, exactly as in real life,
and must re-read rather than assume.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "reset", "slow"]
Phase = Literal["before", "after"]

DEFAULT_SLOW_SECONDS = 1.5
# What a gateway's own 429 says; short, so that fault soaks do not crawl.
FAULT_RETRY_AFTER = 1


class ConnectionDropped(Exception):
    """Raised by the app so the server closes the connection without any response."""

    def __init__(self, phase: Phase) -> None:
        super().__init__(f"connection dropped {phase} handling the request")
        self.phase = phase


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 0  # for kind == "status": 429 or a 5xx
    phase: Phase = "before"  # for kind == "reset"


@dataclass(frozen=True)
class FaultPlan:
    """Probability of each fault; ``items`` keeps the spec's order (it decides the draw)."""

    items: tuple[tuple[str, float], ...] = ()

    @classmethod
    def parse(cls, text: str) -> FaultPlan:
        """Parse ``KIND:P,...``; raises ValueError naming the bad item."""
        items: list[tuple[str, float]] = []
        for raw in text.split(","):
            item = raw.strip()
            if not item:
                continue
            kind, probability = _parse_item(item)
            if any(kind == seen for seen, _ in items):
                raise ValueError(f"{item!r}: {kind} is given twice")
            items.append((kind, probability))
        total = sum(p for _, p in items)
        if total > 1 + 1e-9:
            raise ValueError(f"probabilities add up to {total:g}; at most 1 in total")
        return cls(tuple(items))

    def __bool__(self) -> bool:
        return any(p > 0 for _, p in self.items)


def _parse_item(item: str) -> tuple[str, float]:
    kind, sep, value = item.partition(":")
    kind = kind.strip().lower()
    if not sep:
        raise ValueError(f"{item!r} is not KIND:PROBABILITY (e.g. 500:0.1)")
    if kind not in ("429", "reset", "slow") and not (
        len(kind) == 3 and kind.isascii() and kind.isdigit() and kind.startswith("5")
    ):
        raise ValueError(f"{item!r}: unknown fault {kind!r} (use 5xx, 429, reset or slow)")
    try:
        probability = float(value)
    except ValueError:
        raise ValueError(f"{item!r}: {value.strip()!r} is not a probability") from None
    if not 0 <= probability <= 1:
        raise ValueError(f"{item!r}: probability must be between 0 and 1")
    return kind, probability


class FaultInjector:
    """Draws the fault (if any) for each request from a seeded generator, thread-safely."""

    def __init__(self, plan: FaultPlan, *, seed: int | None = None) -> None:
        self.plan = plan
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}

    def draw(self, method: str) -> Fault | None:
        with self._lock:
            roll = self._rng.random()
            kind = self._pick(roll)
            if kind is None:
                return None
            self.injected[kind] = self.injected.get(kind, 0) + 1
            if kind == "slow":
                return Fault("slow")
            if kind == "reset":
                writes = method.upper() in ("PUT", "POST", "PATCH", "DELETE")
                phase: Phase = "after" if writes and self._rng.random() < 0.5 else "before"
                return Fault("reset", phase=phase)
            return Fault("status", status=int(kind))

    def _pick(self, roll: float) -> str | None:
        edge = 0.0
        for kind, probability in self.plan.items:
            edge += probability
            if roll < edge:
                return kind
        return None
