"""Where the time goes, by pyinstrument (a dev dependency): hot functions as shares of a run.

Self time includes time spent awaiting (pyinstrument's async mode charges it to the awaiting
frame), so waiting on a database thread or socket shows up where the code waits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

INTERVAL = 0.0002  # seconds between samples


@dataclass(frozen=True)
class HotFunction:
    name: str  # function (file:line)
    seconds: float
    share: float  # of the profiled total


@dataclass(frozen=True)
class Profile:
    label: str
    calls: int
    total: float  # profiled seconds (inflated by the profiler; read the shares)
    self_time: list[HotFunction]
    project: list[HotFunction]  # inclusive time of the project's own functions


def available() -> bool:
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        return False
    return True


async def profile_async(label: str, work: Callable[[], Awaitable[Any]], calls: int) -> Profile:
    from pyinstrument import Profiler

    profiler = Profiler(interval=INTERVAL, async_mode="enabled")
    profiler.start()
    for _ in range(calls):
        await work()
    profiler.stop()
    return _summarize(label, calls, profiler)


def profile_sync(label: str, work: Callable[[], Any], calls: int) -> Profile:
    from pyinstrument import Profiler

    profiler = Profiler(interval=INTERVAL, async_mode="disabled")
    profiler.start()
    for _ in range(calls):
        work()
    profiler.stop()
    return _summarize(label, calls, profiler)


def _name(frame: Any) -> str:
    path = frame.file_path_short or "?"
    for marker in ("site-packages/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{frame.function} ({path}:{frame.line_no})"


def _summarize(label: str, calls: int, profiler: Any, top: int = 10) -> Profile:
    session = profiler.last_session
    root = session.root_frame() if session else None
    if root is None:
        return Profile(label, calls, 0.0, [], [])
    total = root.time
    self_time: dict[str, float] = defaultdict(float)
    inclusive: dict[str, float] = defaultdict(float)

    def walk(frame: Any, open_project: frozenset[str]) -> None:
        if frame.is_synthetic:
            return
        name = _name(frame)
        self_time[name] += frame.total_self_time
        path = frame.file_path or ""
        is_project = "/booking/" in path and "site-packages" not in path
        if is_project and name not in open_project:  # count recursion once
            inclusive[name] += frame.time
            open_project = open_project | {name}
        for child in frame.children:
            walk(child, open_project)

    walk(root, frozenset())

    def ranked(table: dict[str, float]) -> list[HotFunction]:
        rows = sorted(table.items(), key=lambda kv: kv[1], reverse=True)[:top]
        return [HotFunction(n, s, s / total if total else 0.0) for n, s in rows]

    return Profile(label, calls, total, ranked(self_time), ranked(inclusive))
