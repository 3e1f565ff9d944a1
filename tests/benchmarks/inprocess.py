"""Timing requests through the ASGI app in this process, one at a time, interleaved in rounds.

Every endpoint of a comparison is measured in the same rounds (a few calls of each in turn), so
a slow spell on the machine lands on all of them rather than on whichever ran last.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tests.benchmarks.asgi_client import ASGIApp, Request, call
from tests.benchmarks.stats import Summary, summarize

ROUNDS = 20
WARMUP = 10


class BenchError(RuntimeError):
    """A request did not answer as the benchmark expects (the figures would be meaningless)."""


@dataclass
class Target:
    """One endpoint of one app: `prepare` runs before each of its rounds (e.g. rebinding the
    tables to that app's engine)."""

    label: str
    app: ASGIApp
    request: Request
    calls: int  # at most this many timed calls
    seconds: float  # or until this much time is spent (at least MIN_CALLS)
    prepare: Callable[[], None] = lambda: None
    expect_slots: bool = False
    samples: list[float] = field(default_factory=list)
    slots: int | None = None
    body_bytes: int = 0
    body_sha256: str = ""


MIN_CALLS = 50


async def check(target: Target) -> None:
    """One call that must succeed; records the body's size, digest and slot count."""
    target.prepare()
    response = await call(target.app, target.request)
    if response.status != 200:
        raise BenchError(
            f"{target.label}: GET {target.request.url} answered {response.status}: "
            f"{response.body[:300]!r}"
        )
    target.body_bytes = len(response.body)
    target.body_sha256 = hashlib.sha256(response.body).hexdigest()
    if target.expect_slots:
        slots = json.loads(response.body)["slots"]
        if not slots:
            raise BenchError(f"{target.label}: GET {target.request.url} offered no slots")
        target.slots = len(slots)


async def measure(targets: Sequence[Target]) -> dict[str, Summary]:
    """Warm up and check each target, then time them in interleaved rounds."""
    for target in targets:
        await check(target)
        for _ in range(WARMUP):
            await call(target.app, target.request)
    budget = {t.label: (t.calls, t.seconds) for t in targets}
    spent = {t.label: 0.0 for t in targets}
    for round_no in range(ROUNDS):
        for target in targets:
            calls, seconds = budget[target.label]
            # This round's share of what is left of the target's call and time budgets.
            remaining_calls = calls - len(target.samples)
            share = max(1, remaining_calls // (ROUNDS - round_no))
            deadline = time.perf_counter() + (seconds - spent[target.label]) / (ROUNDS - round_no)
            target.prepare()
            done = 0
            started = time.perf_counter()
            while done < share:
                t0 = time.perf_counter_ns()
                response = await call(target.app, target.request)
                target.samples.append((time.perf_counter_ns() - t0) / 1e9)
                if response.status != 200:
                    raise BenchError(f"{target.label}: status {response.status} while timing")
                done += 1
                floor = MIN_CALLS * (round_no + 1) // ROUNDS
                if time.perf_counter() > deadline and len(target.samples) >= floor:
                    break
            spent[target.label] += time.perf_counter() - started
    return {t.label: summarize(t.samples) for t in targets}
