"""The availability engine alone: `compute_slots` for one therapist over a four-week window.

Weekdays 09:00-17:00 in Toronto, a 50-minute type on a 30-minute interval with a 10-minute
buffer, 0 to 10,000 busy intervals handed over in shuffled order (the worst case for the sort that
merges them). Busy shapes:
- spread: disjoint intervals evenly spaced across the window (half the spacing long, at most
  20 minutes), so merging keeps every one of them and each search runs over all of them;
- random: starts uniform in the window, 15 minutes to 3 hours long, overlapping one another;
- covering: every interval overlaps the whole window (it merges to one; no slot is left);
- spread, sorted: as spread, handed over in order (rows read through an index arrive so).
Each case: warm-up, then individually timed calls (perf_counter_ns, GC off, as timeit does).
"""

from __future__ import annotations

import gc
import random
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.scheduling.engine import Policy, TherapistCalendar, WeeklyHours, compute_slots
from tests.benchmarks.stats import Summary, summarize

TZ = ZoneInfo("America/Toronto")
FIRST = date(2027, 1, 11)  # a Monday, far from a clock change
DAYS = 28
SIZES = (0, 100, 1_000, 10_000)
SHAPES = ("spread", "random", "covering", "spread, sorted")
POLICY = Policy(
    duration_minutes=50,
    slot_interval_minutes=30,
    buffer_after_minutes=10,
    min_notice_minutes=0,
    horizon_days=60,
)
WEEKLY = tuple(WeeklyHours(d, time(9), time(17)) for d in range(5))
# Per case: calls are added until this much time is spent (bounded below and above).
CASE_SECONDS = 0.5
MIN_CALLS = 50
MAX_CALLS = 5_000


@dataclass(frozen=True)
class EngineCase:
    shape: str
    busy: int
    slots: int  # slots returned (the same on every call)
    summary: Summary


def window() -> tuple[int, int, int]:
    start = int(datetime.combine(FIRST, time(0), tzinfo=TZ).timestamp())
    end = int(datetime.combine(FIRST + timedelta(days=DAYS), time(0), tzinfo=TZ).timestamp())
    now = start - 86_400
    return start, end, now


def busy_intervals(shape: str, count: int, start: int, end: int) -> list[tuple[int, int]]:
    rng = random.Random(f"{shape}-{count}")
    span = end - start
    intervals: list[tuple[int, int]] = []
    if shape.startswith("spread"):
        spacing = span / count if count else 0
        length = max(60, int(min(20 * 60, spacing / 2)))
        intervals = [
            (start + int(i * spacing), start + int(i * spacing) + length) for i in range(count)
        ]
    elif shape == "random":
        for _ in range(count):
            lo = start + rng.randrange(span)
            intervals.append((lo, lo + rng.randrange(15 * 60, 3 * 3600)))
    elif shape == "covering":
        for _ in range(count):
            intervals.append((start - rng.randrange(1, 86_400), end + rng.randrange(1, 86_400)))
    else:
        raise ValueError(shape)
    if not shape.endswith("sorted"):
        rng.shuffle(intervals)
    return intervals


def time_calls(call: Callable[[], object]) -> Summary:
    """Individually timed calls of `call`, after a warm-up that also sizes the sample."""
    started = clock.perf_counter()
    warm = 0
    while warm < 5 or (clock.perf_counter() - started < 0.05 and warm < 200):
        call()
        warm += 1
    per_call = (clock.perf_counter() - started) / warm
    calls = max(MIN_CALLS, min(MAX_CALLS, int(CASE_SECONDS / per_call)))
    samples: list[float] = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(calls):
            t0 = clock.perf_counter_ns()
            call()
            samples.append((clock.perf_counter_ns() - t0) / 1e9)
    finally:
        if enabled:
            gc.enable()
    return summarize(samples)


def run() -> list[EngineCase]:
    start, end, now = window()
    cases: list[EngineCase] = []
    for shape in SHAPES:
        for count in SIZES:
            calendar = TherapistCalendar(
                therapist="bench",
                timezone=TZ,
                weekly=WEEKLY,
                busy=busy_intervals(shape, count, start, end),
            )

            def call(calendar: TherapistCalendar = calendar) -> object:
                return compute_slots(calendar, POLICY, start, end, now)

            slots = len(compute_slots(calendar, POLICY, start, end, now))
            cases.append(EngineCase(shape, count, slots, time_calls(call)))
    return cases
