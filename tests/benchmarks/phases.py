"""A time budget for one availability request: wall time spent in each step, no profiler.

The steps are found by name and wrapped for the duration (a name that is not there is skipped,
so a rename in the service shows up as a missing row, not a failure). The steps do not nest,
so what they leave of the request's time is the framework's part (routing, parameter
parsing, dependency injection, the response) and anything not listed.
"""

from __future__ import annotations

import importlib
import inspect
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any

from tests.benchmarks.asgi_client import ASGIApp, Request, call

# (module, attribute path, step); several names for one step cover renames in progress.
STEPS: tuple[tuple[str, str, str], ...] = (
    ("booking.scheduling.services", "load_type_row", "type query"),
    ("booking.scheduling.services", "_type_row", "type query"),
    ("booking.scheduling.services", "AvailabilityService.therapists_offering", "therapists query"),
    ("booking.scheduling.services", "AvailabilityService._therapists_offering", "therapists query"),
    ("booking.scheduling.cache", "lookup", "version check"),
    ("booking.scheduling.services", "load_calendars", "calendar queries"),
    ("booking.scheduling.cache", "CachedAvailability._read_inputs", "calendar queries"),
    ("booking.scheduling.services", "compute_slots", "compute_slots"),
    ("booking.scheduling.cache", "open_slots", "compute_slots"),
    ("booking.scheduling.services", "merge_slots", "merge_slots"),
    ("booking.web.public_api", "availability_out", "availability_out"),
    ("litestar.response.base", "encode_json", "JSON encoding"),
)
ORDER = tuple(dict.fromkeys(step for _, _, step in STEPS))
REST = "the rest"


@dataclass(frozen=True)
class Budget:
    requests: int  # the requests averaged (the faster half of those made)
    total: float  # mean seconds per request
    steps: dict[str, float]  # mean seconds per request, by step (and REST)
    missing: list[str]  # steps with no function of any of their names


def _resolve(module_name: str, path: str) -> tuple[Any, str, Any] | None:
    try:
        owner: Any = importlib.import_module(module_name)
    except ImportError:
        return None
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent, None)
        if owner is None:
            return None
    function = getattr(owner, name, None) if name in vars(owner) else None
    return (owner, name, function) if callable(function) else None


def _timed(spent: dict[str, float], step: str, function: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(function):

        @wraps(function)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                spent[step] += time.perf_counter() - t0

        return async_wrapper

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[step] += time.perf_counter() - t0

    return wrapper


@contextmanager
def timed_steps() -> Iterator[tuple[dict[str, float], list[str]]]:
    spent: dict[str, float] = defaultdict(float)
    patched: list[tuple[Any, str, Any]] = []
    found: set[str] = set()
    try:
        for module_name, path, step in STEPS:
            resolved = _resolve(module_name, path)
            if resolved is None:
                continue
            owner, name, function = resolved
            patched.append((owner, name, function))
            setattr(owner, name, _timed(spent, step, function))
            found.add(step)
        yield spent, [s for s in ORDER if s not in found]
    finally:
        for owner, name, function in reversed(patched):
            setattr(owner, name, function)


async def budget(
    app: ASGIApp, request: Request, requests: int, prepare: Callable[[], None] = lambda: None
) -> Budget:
    """Mean time per request in each step over the typical half of `requests` sequential
    requests (those at or below the median total), so a slow spell on a shared machine does
    not land in one step's figure."""
    prepare()
    await call(app, request)  # warm
    records: list[tuple[float, dict[str, float]]] = []
    with timed_steps() as (spent, missing):
        for _ in range(requests):
            before = dict(spent)
            t0 = time.perf_counter()
            await call(app, request)
            total = time.perf_counter() - t0
            records.append((total, {k: v - before.get(k, 0.0) for k, v in spent.items()}))
    records.sort(key=lambda r: r[0])
    typical = records[: max(1, (len(records) + 1) // 2)]
    mean = sum(t for t, _ in typical) / len(typical)
    steps = {
        s: sum(r.get(s, 0.0) for _, r in typical) / len(typical) for s in ORDER if s not in missing
    }
    steps[REST] = mean - sum(steps.values())
    return Budget(len(typical), mean, steps, missing)
