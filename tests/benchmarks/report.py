"""docs/benchmarks.md: the run's environment, its figures, and one line per target."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

from tests.benchmarks import bench_engine, invitations, phases, runner, targets, writes
from tests.benchmarks.profiling import Profile
from tests.benchmarks.stats import Summary, ms, percentile, us

LIBRARIES = (
    "litestar",
    "piccolo",
    "aiosqlite",
    "asyncpg",
    "msgspec",
    "uvicorn",
    "uvloop",
    "httptools",
    "httpx",
    "pyinstrument",
)
NAMES = {
    "live": "GET /health/live",
    "day": "availability, one therapist, one day",
    "one": "availability, one therapist",
    "any": "availability, any of 10",
}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def cpu_busy(seconds: float = 1.0) -> float | None:
    """The fraction of all cores busy over `seconds` (from /proc/stat); call it while the
    harness itself is idle to see what the rest of the machine is doing."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields[:8]), idle

    try:
        total_a, idle_a = sample()
        time.sleep(seconds)
        total_b, idle_b = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total_b - total_a
    return (total - (idle_b - idle_a)) / total if total > 0 else None


def versions() -> str:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def verdict(ok: bool | None) -> str:
    return {True: "**met**", False: "**not met**", None: "**not measured**"}[ok]


def busy(value: float | None) -> str:
    return "?" if value is None else f"{value * 100:.0f}%"


def load(values: tuple[float, float, float] | None) -> str:
    return "/".join(f"{v:.2f}" for v in values) if values else "?"


# --- targets ---------------------------------------------------------------------------------


def engine_growth(cases: list[bench_engine.EngineCase]) -> list[tuple[str, int, float]]:
    """(shape, busy, p50 ratio to the case with 10x fewer busy intervals)."""
    by_key = {(c.shape, c.busy): c.summary.p50 for c in cases}
    return [
        (c.shape, c.busy, c.summary.p50 / by_key[(c.shape, c.busy // 10)])
        for c in cases
        if c.busy >= 1000 and (c.shape, c.busy // 10) in by_key
    ]


def multiple(value: float) -> str:
    """A multiple, to two significant figures below 100."""
    return f"{value:.1f}x" if value < 100 else f"{value:,.0f}x"


def target_lines(results: runner.Results) -> list[str]:
    lines: list[str] = []
    at_1000 = [c for c in results.engine if c.busy == 1000]
    if at_1000:
        worst = max(at_1000, key=lambda c: c.summary.p50)
        ok: bool | None = worst.summary.p50 <= targets.ENGINE_MAX_P50_AT_1000
        detail = f"worst shape {worst.shape}: p50 {us(worst.summary.p50)} µs"
    else:
        ok, detail = None, results.engine_error or "not run"
    lines.append(
        f"- {verdict(ok)}: engine, at most 1 ms per call with 1,000 busy intervals ({detail})"
    )
    growth = engine_growth(results.engine)
    if growth:
        shape, busy, ratio = max(growth, key=lambda g: g[2])
        ok = ratio <= targets.ENGINE_MAX_GROWTH_PER_10X
        detail = f"largest p50 ratio per 10x: {ratio:.1f} ({shape}, {busy // 10:,} to {busy:,})"
    else:
        ok, detail = None, results.engine_error or "not run"
    lines.append(f"- {verdict(ok)}: engine, growth no worse than linear ({detail})")
    for result in results.api:
        if result.mode != "in-process":
            continue
        live = result.summaries.get("live")
        for name in runner.AVAILABILITY:
            limit = targets.INPROCESS_MAX_RATIO[name]
            summary = result.summaries.get(name)
            if summary is None or live is None:
                ok, detail = None, result.error or "not run"
            else:
                ok = summary.p50 <= limit * live.p50
                detail = (
                    f"p50 {ms(summary.p50)} ms, {multiple(summary.p50 / live.p50)} of "
                    f"/health/live's {ms(live.p50)} ms"
                )
            lines.append(
                f"- {verdict(ok)}: {result.backend}, in-process p50 at most {limit:g}x "
                f"GET /health/live for {NAMES[name]} ({detail})"
            )
    small, large = runner.HISTORY_SIZES
    for history in results.history:
        for name in ("one", "any"):
            a = history.summaries.get((name, small))
            b = history.summaries.get((name, large))
            if a and b:
                difference = targets.history_difference(a.p50, b.p50)
                ok = difference <= targets.HISTORY_MAX_DIFFERENCE
                detail = f"p50 {ms(a.p50)} ms vs {ms(b.p50)} ms, {(b.p50 / a.p50 - 1) * 100:+.1f}%"
            else:
                ok, detail = None, history.error or "not run"
            lines.append(
                f"- {verdict(ok)}: {history.backend}, {NAMES[name]} with {large:,} past rows "
                f"within 10% of {small:,} ({detail})"
            )
    lines += figure_lines(results)
    if not results.admin_url_set:
        lines.append(
            "- PostgreSQL targets: **not measured** (neither BENCH_DATABASE_URL nor "
            "TEST_DATABASE_URL was set; this run is SQLite only)"
        )
    return lines


# --- sections --------------------------------------------------------------------------------


def engine_section(results: runner.Results) -> list[str]:
    lines = [
        "## 1. The engine alone (`compute_slots`)",
        "",
        "One therapist, 4 weeks (2027-01-11 to 2027-02-07, America/Toronto), weekdays "
        "09:00-17:00, 50-minute type, 30-minute interval, 10-minute buffer; the busy "
        "intervals are handed over shuffled (the worst case for the sort that merges them). "
        "Shapes: *spread* = disjoint, evenly spaced across the window (all survive merging); "
        "*random* = uniform random starts in the window, 15 min to 3 h long (overlapping one "
        "another); *covering* = every interval overlaps the whole window; *spread, sorted* = "
        "spread, handed over in order. Each call timed on its own (`perf_counter_ns`, GC off "
        "during the sample).",
        "",
    ]
    if results.engine_error:
        return [*lines, f"Error: `{results.engine_error}`", ""]
    ratios = {(shape, busy): ratio for shape, busy, ratio in engine_growth(results.engine)}
    p50 = {(c.shape, c.busy): c.summary.p50 for c in results.engine}

    def marginal(shape: str, busy: int) -> str:
        """Growth of the part of the time that the busy intervals add (over 0 intervals)."""
        base = p50.get((shape, 0))
        fewer = p50.get((shape, busy // 10))
        # Only where the intervals' share is well above the noise of the base time.
        if base is None or fewer is None or busy < 1000 or fewer - base < 0.1 * base:
            return ""
        return f"{(p50[(shape, busy)] - base) / (fewer - base):.1f}"

    rows = [
        (
            c.shape,
            f"{c.busy:,}",
            c.slots,
            c.summary.n,
            us(c.summary.p50),
            us(c.summary.p99),
            f"{ratios[(c.shape, c.busy)]:.2f}" if (c.shape, c.busy) in ratios else "",
            marginal(c.shape, c.busy),
        )
        for c in results.engine
    ]
    header = [
        "shape",
        "busy intervals",
        "slots",
        "calls",
        "p50 µs",
        "p99 µs",
        "p50 ÷ p50 at 10x fewer",
        "(p50 − p50 at 0) ÷ same at 10x fewer",
    ]
    lines += [
        "The last column is the growth of what the busy intervals add to a call (the p50 "
        "minus the p50 with none), shown where that part is at least a tenth of the base: "
        "linear growth is 10. The target is judged on the plain ratio (the column before).",
        "",
    ]
    return lines + table(header, rows)


def api_rows(result: runner.ApiResult) -> list[tuple[object, ...]]:
    live = result.summaries.get("live")
    rows: list[tuple[object, ...]] = []
    for name in runner.ENDPOINTS:
        s: Summary | None = result.summaries.get(name)
        if s is None:
            continue
        times = multiple(s.p50 / live.p50) if live and name != "live" else ""
        rows.append(
            (
                result.backend,
                NAMES[name],
                s.n,
                ms(s.p50),
                ms(s.p99),
                f"{s.rps:,.0f}",
                times,
                result.slots.get(name, ""),
                f"{result.body_bytes[name] / 1024:.0f}" if result.body_bytes.get(name) else "",
            )
        )
    return rows


def api_section(results: runner.Results) -> list[str]:
    header = [
        "database",
        "request",
        "requests",
        "p50 ms",
        "p99 ms",
        "req/s",
        "p50 ÷ live p50",
        "slots",
        "body KiB",
    ]
    lines = [
        "## 2. `GET /api/v1/availability`, 4 weeks",
        "",
        "Ten therapists (7 in Toronto, 3 in Vancouver) offering one 50-minute type, weekdays "
        "09:00-17:00 (every other one with a lunch break); in and around the window each has two "
        "confirmed bookings per working day, live and expired payment holds, 8 imported busy "
        "blocks, a day off and 2 date overrides (`tests/benchmarks/seed.py`). *One therapist* is "
        f"`therapist={runner.ONE}` (zone America/Toronto); *any* is `therapist=any` over all ten. "
        "Each figure sits beside `GET /health/live` of the same app in the same run.",
        "",
        "### In-process",
        "",
        "The ASGI app called directly by a minimal caller (`tests/benchmarks/asgi_client.py`), "
        "lifespan entered on the same event loop (asyncio), one request at a time, the "
        "endpoints interleaved in rounds; fixed clock "
        f"{runner.FIXED_NOW.isoformat()}; no hold sweeper and no embedded worker "
        "(HOLD_SWEEP_SECONDS=0, BOOKING_EMBEDDED_WORKER=0, as in tests/conftest.py: the "
        "worker's relay thread would use this loop's connection pool from a loop of its own). "
        "req/s = 1 / mean latency.",
        "",
    ]
    inprocess = [r for r in results.api if r.mode == "in-process"]
    rows = [row for r in inprocess for row in api_rows(r)]
    lines += table(header, rows) if rows else ["Not measured.", ""]
    lines += [f"Error ({r.backend}): `{r.error}`" for r in inprocess if r.error]
    lines += [
        "",
        "### Over HTTP",
        "",
        "One `booking serve` process (uvicorn, 1 worker; BOOKING_ENV=development, "
        "BOOKING_DEMO_DATA=0, LOG_LEVEL=WARNING, otherwise the service's defaults, so with its "
        "hold sweeper and embedded worker) on 127.0.0.1, data seeded relative to the real "
        "clock, driven by an "
        f"httpx.AsyncClient with {runner.HTTP_CONCURRENCY} concurrent keep-alive connections "
        f"from this process; a fixed number of requests per endpoint after "
        f"{runner.HTTP_WARMUP} warm-up requests. The client shares the machine's cores with "
        "the server. With 8 requests in flight against one process, latency is mostly "
        "queueing (about 8 x the service time); req/s is the figure to read.",
        "",
    ]
    http = [r for r in results.api if r.mode == "HTTP"]
    rows = [row for r in http for row in api_rows(r)]
    lines += table(header, rows) if rows else ["Not measured.", ""]
    lines += [f"Error ({r.backend}): `{r.error}`" for r in http if r.error]
    budgets = [(r.backend, NAMES[n], b) for r in inprocess for n, b in r.budgets.items()]
    if budgets:
        lines += ["", "### Time budget of an in-process request", "", BUDGET_TEXT, ""]
        lines += budget_table(budgets)
    counted = [r for r in inprocess if r.round_trips]
    if counted:
        lines += [
            "",
            "### Database work per availability request",
            "",
            "Counted by wrapping Piccolo's `run_querystring` and the drivers for one request "
            "(`tests/benchmarks/roundtrips.py`). SQLite: aiosqlite opens a connection, with a "
            "worker thread of its own, for every query outside a transaction; each execute, "
            "fetch, commit and close is a hop to that thread. PostgreSQL: statements sent by "
            "asyncpg, including BEGIN/COMMIT and the pool's reset on release.",
            "",
        ]
        rows = []
        for r in counted:
            for name, counts in r.round_trips.items():
                driver = ", ".join(
                    f"{v} {k}" for k, v in sorted(counts.items()) if k != "piccolo queries"
                )
                rows.append((r.backend, NAMES[name], counts.get("piccolo queries", 0), driver))
        lines += table(["database", "request", "Piccolo queries", "driver calls"], rows)
    return lines


def budget_table(rows: list[tuple[str, str, phases.Budget]]) -> list[str]:
    steps = [s for s in (*phases.ORDER, phases.REST) if any(s in b.steps for _, _, b in rows)]
    header = ["database", "request", "requests", "mean ms", *steps]
    body = []
    for backend, label, b in rows:
        cells = [
            f"{ms(b.steps[s])} ({b.steps[s] / b.total * 100:.0f}%)" if s in b.steps else ""
            for s in steps
        ]
        body.append((backend, label, b.requests, ms(b.total), *cells))
    missing = sorted({m for _, _, b in rows for m in b.missing})
    note = [f"Not found in this version of the code: {', '.join(missing)}.", ""] if missing else []
    return table(header, body) + note


DATABASE_STEPS = ("type query", "therapists query", "calendar queries")
BUDGET_TEXT = (
    "Mean wall time per request in each step, measured by wrapping the step's function "
    "(`tests/benchmarks/phases.py`; no profiler, so no distortion): *type query* = the "
    "consultation type, *therapists query* = who offers it, *calendar queries* = "
    "`load_calendars` (hours, overrides, time off, busy blocks and bookings in one "
    "transaction), then the engine, the response objects, msgspec's JSON encoding, and *the "
    "rest* (Litestar's routing, parameters, dependency injection and response, plus anything "
    "not listed). Means over the faster half of the requests made (the *requests* column), so "
    "they add up and a slow spell on a shared machine stays out of them."
)


def history_section(results: runner.Results) -> list[str]:
    small, large = runner.HISTORY_SIZES
    lines = [
        "## 3. History outside the window",
        "",
        f"The in-process requests of section 2 against two databases seeded alike, one with "
        f"{small:,} and one with {large:,} past rows (half confirmed bookings, half busy blocks, "
        "shared evenly by the ten therapists, 1 to 4 years before the window; inserted with "
        "Piccolo in chunks of 1,000 in one transaction). The two apps are timed in the same "
        "interleaved rounds. *Identical* says whether both answered byte for byte the same.",
        "",
    ]
    rows = []
    for h in results.history:
        for name in ("one", "any"):
            a = h.summaries.get((name, small))
            b = h.summaries.get((name, large))
            if not (a and b):
                continue
            rows.append(
                (
                    h.backend,
                    NAMES[name],
                    ms(a.p50),
                    ms(b.p50),
                    f"{(b.p50 / a.p50 - 1) * 100:+.1f}%",
                    ms(a.p99),
                    ms(b.p99),
                    f"{a.n}/{b.n}",
                    "yes" if h.identical.get(name) else "no",
                )
            )
    header = [
        "database",
        "request",
        f"p50 ms ({small:,})",
        f"p50 ms ({large:,})",
        "difference",
        f"p99 ms ({small:,})",
        f"p99 ms ({large:,})",
        "requests",
        "identical",
    ]
    lines += table(header, rows) if rows else ["Not measured.", ""]
    seeding = [
        f"{h.backend}: " + ", ".join(f"{s:,} rows {t:.1f} s" for s, t in h.seed_seconds.items())
        for h in results.history
        if h.seed_seconds
    ]
    if seeding:
        lines += [
            "Seeding time (database created, migrated and filled): " + "; ".join(seeding) + ".",
            "",
        ]
    plan_rows = []
    overhead_rows = []
    for h in results.history:
        for name in ("one", "any"):
            pair = (h.plans.get((name, small)), h.plans.get((name, large)))
            if not (pair[0] and pair[1]):
                continue
            for plan_a, plan_b in zip(pair[0], pair[1], strict=False):
                plan_rows.append(
                    (
                        h.backend,
                        NAMES[name],
                        plan_a.table,
                        f"{plan_a.rows}/{plan_b.rows}",
                        ms(plan_a.seconds),
                        ms(plan_b.seconds),
                        f"{plan_b.seconds / plan_a.seconds:.1f}x" if plan_a.seconds else "",
                        plan_b.plan,
                        "same" if plan_a.plan == plan_b.plan else plan_a.plan,
                    )
                )
            spent = h.budgets.get((name, small))
            if spent:
                driver = sum(p.seconds for p in pair[0])
                service = sum(spent.steps.get(s, 0.0) for s in DATABASE_STEPS)
                overhead_rows.append(
                    (
                        h.backend,
                        NAMES[name],
                        len(pair[0]),
                        ms(driver),
                        ms(service),
                        ms(service - driver),
                    )
                )
    if plan_rows:
        lines += [
            "Each query of one request, run on its own through the driver "
            "(`tests/benchmarks/plans.py`; median of 15 runs) with its plan: SQLite's EXPLAIN "
            "QUERY PLAN, PostgreSQL's EXPLAIN ANALYZE scan nodes. Rows are those returned.",
            "",
        ]
        lines += table(
            [
                "database",
                "request",
                "table",
                f"rows ({small:,}/{large:,})",
                f"ms ({small:,})",
                f"ms ({large:,})",
                "ratio",
                f"plan ({large:,})",
                f"plan ({small:,})",
            ],
            plan_rows,
        )
    flags = [
        f"- {backend}, {request}: the `{table_name}` query takes {ratio} as long with "
        f"{large:,} past rows ({before} ms to {after} ms), plan: {plan}"
        for backend, request, table_name, _, before, after, ratio, plan, _ in plan_rows
        if ratio and float(ratio.rstrip("x")) >= 2.0 and float(after) >= 0.5
    ]
    if flags:
        lines += ["Queries whose time follows the history (2x or more, and at least 0.5 ms):", ""]
        lines += [*flags, ""]
    if overhead_rows:
        lines += [
            f"The same queries alone through the driver, against the database steps of the "
            f"time budget below (type, therapists and calendar queries; {small:,}-row "
            "database): the difference is what Piccolo, the async driver layer (for SQLite, "
            "aiosqlite's connection threads) and the transaction add.",
            "",
        ]
        lines += table(
            ["database", "request", "queries", "driver ms", "service ms", "added ms"],
            overhead_rows,
        )
    budgets = [
        (h.backend, f"{NAMES[name]}, {size:,} past rows", b)
        for h in results.history
        for (name, size), b in sorted(h.budgets.items())
    ]
    if budgets:
        lines += ["Time budget (as in section 2):", ""]
        lines += budget_table(budgets)
    lines += [f"Error ({h.backend}): `{h.error}`" for h in results.history if h.error]
    return lines


def profile_section(profiles: list[Profile]) -> list[str]:
    if not profiles:
        return []
    lines = [
        "## Where the time goes",
        "",
        "pyinstrument (async mode, 0.2 ms interval) over repeated calls of each in-process "
        "availability request of section 2, and of any other case that missed its target. "
        "Shares of the profiled time (the profiler inflates totals). Self "
        "time includes time spent awaiting, charged to the frame that awaits.",
        "",
    ]
    return lines + profile_tables(profiles)


def profile_tables(profiles: list[Profile], level: str = "###") -> list[str]:
    lines: list[str] = []
    for p in profiles:
        per_call = p.total / p.calls if p.calls else 0.0
        lines += [
            f"{level} {p.label}",
            "",
            f"{p.calls} calls, {ms(per_call)} ms per call under the profiler.",
            "",
        ]
        lines += ["Hottest functions by self time:", ""]
        lines += table(
            ["function", "share", "ms per call"],
            (
                (f"`{h.name}`", f"{h.share * 100:.1f}%", ms(h.seconds / p.calls))
                for h in p.self_time
            ),
        )
        if p.project:
            lines += ["The project's functions, inclusive time:", ""]
            lines += table(
                ["function", "share", "ms per call"],
                (
                    (f"`{h.name}`", f"{h.share * 100:.1f}%", ms(h.seconds / p.calls))
                    for h in p.project
                ),
            )
    return lines


# --- bookings and invitations (figures only: these have no targets) ---------------------------


def seconds(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def figure_lines(results: runner.Results) -> list[str]:
    """One line per new measurement: figures, no verdict (no target was set for them)."""
    lines: list[str] = []
    for w in results.writes:
        runs = ", ".join(
            f"{r.summary.rps:,.0f}/s at concurrency {r.concurrency} (p50 {ms(r.summary.p50)} ms)"
            for r in w.runs
        )
        answers = (
            "all 201"
            if w.runs and not any(r.statuses != {"201": r.summary.n} for r in w.runs)
            else "**not all 201**"
        )
        detail = f"{runs}; {answers}" if w.runs else (w.error or "not run")
        lines.append(f"- figure, no target: {w.backend}, bookings on distinct slots: {detail}")
        walls = [r.wall for r in w.rounds]
        if walls:
            ok = all(r.ok for r in w.rounds)
            detail = (
                f"all answered in {ms(statistics.median(walls))} ms median, {ms(max(walls))} ms "
                f"max over {len(walls)} rounds; "
                + (
                    "one 201 and 49 409 every round"
                    if ok
                    else "**not one 201 and 49 409 every round**"
                )
            )
        else:
            detail = w.error or "not run"
        lines.append(
            f"- figure, no target: {w.backend}, {writes.CONTENDERS} requests for one slot: {detail}"
        )
    for i in results.invitations:
        if i.delivered:
            detail = (
                f"{i.delivered:,} of {i.expected:,} messages"
                + ("" if i.complete else " **(deadline reached)**")
                + f", {i.messages_per_second:,.1f} messages/s, "
                f"{i.bookings_per_second:,.1f} bookings/s from the first commit to the last "
                "acceptance"
            )
            if i.accepted:
                detail += f"; commit to accepted p50 {seconds(i.accepted.p50)} s"
        else:
            detail = i.error or "nothing delivered"
        lines.append(
            f"- figure, no target: {i.backend}, invitations through Redis and one worker: {detail}"
        )
    return lines


def writes_section(results: runner.Results) -> list[str]:
    if not results.writes:
        return []
    lines = [
        "## 4. `POST /api/v1/bookings` on distinct slots",
        "",
        f"Ten therapists (America/Toronto) working {writes.HOURS[0]}-{writes.HOURS[1]} every "
        "day, one 15-minute type (15-minute interval, no buffer, no notice), so no two offered "
        f"slots overlap. The open slots of {writes.WINDOW_DAYS} days are read from "
        "`GET /api/v1/availability` (therapist=any) first; each POST books a different one of "
        "them (a fixed random order, so concurrent requests usually go to different "
        "therapists), with the body of `tests.factories.booking_request` (two partners, intake "
        "answers, consents). In-process as in section 2 (same fixed clock, no worker: the "
        "outbox rows stay queued), RATE_LIMIT_PER_MINUTE out of the way. "
        f"{writes.WARMUP} warm-up bookings, then {writes.BOOKINGS_PER_RUN} at concurrency 1 "
        f"and {writes.BOOKINGS_PER_RUN} more at concurrency 8 (asyncio tasks, each taking the "
        "next request when its last was answered), in one database. bookings/s = bookings "
        "answered / wall time of the run.",
        "",
    ]
    rows = [
        (
            w.backend,
            r.concurrency,
            r.summary.n,
            writes.describe_statuses(r.statuses),
            f"{r.summary.rps:,.1f}",
            ms(r.summary.p50),
            ms(r.summary.p99),
            ms(r.maximum),
            ms(r.summary.mean),
            *(r.over.get(t, "") for t in writes.OVER),
        )
        for w in results.writes
        for r in w.runs
    ]
    header = [
        "database",
        "concurrency",
        "bookings",
        "answers",
        "bookings/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "mean ms",
        *(f"over {ms(t)} ms" for t in writes.OVER),
    ]
    lines += table(header, rows) if rows else ["Not measured.", ""]
    lines += waits_table(results.writes)
    offered = [f"{w.backend} {w.offered:,}" for w in results.writes if w.offered]
    if offered:
        lines += [f"Open slots before the first booking: {', '.join(offered)}.", ""]
    lines += [f"Error ({w.backend}): `{w.error}`" for w in results.writes if w.error]
    profiles = [p for w in results.writes for p in w.profiles]
    if profiles:
        lines += [
            "",
            "### Where the time of a booking goes",
            "",
            f"pyinstrument (async mode, 0.2 ms interval) over {writes.PROFILE_CALLS} more "
            "bookings made one at a time after the runs above, as in the profiles at the end.",
            "",
        ]
        lines += profile_tables(profiles, "####")
    return lines


def waits_table(found: list[writes.WriteResult]) -> list[str]:
    rows = []
    missing: set[str] = set()
    for w in found:
        for r in w.runs:
            t = r.waits
            if t is None or not t.begin:
                continue
            missing.update(t.missing)
            waited = sum(t.begin) + sum(t.lock)
            total = r.summary.mean * r.summary.n
            rows.append(
                (
                    w.backend,
                    r.concurrency,
                    ms(statistics.fmean(t.begin)),
                    ms(percentile(t.begin, 0.99)),
                    ms(max(t.begin)),
                    ms(statistics.fmean(t.lock)) if t.lock else "",
                    ms(max(t.lock)) if t.lock else "",
                    ms(statistics.median(t.held)) if t.held else "",
                    ms(max(t.held)) if t.held else "",
                    f"{waited / total * 100:.0f}%" if total else "",
                )
            )
    if not rows:
        return []
    lines = [
        "Inside the booking transactions of the same runs, per booking (measured by wrapping "
        "`write_transaction` and `lock` of `booking/bookings/create.py` in the "
        "harness): *begin* = until the write transaction was open (SQLite: BEGIN IMMEDIATE, "
        "which waits for the file's write lock, polling with SQLite's busy handler; "
        "PostgreSQL: a pooled connection and BEGIN), *lock* = the therapist's advisory lock "
        "(PostgreSQL only), *held* = from open to committed; *waiting* = begin and lock as a "
        "share of the requests' total time.",
        "",
    ]
    lines += table(
        [
            "database",
            "concurrency",
            "begin mean ms",
            "begin p99 ms",
            "begin max ms",
            "lock mean ms",
            "lock max ms",
            "held p50 ms",
            "held max ms",
            "waiting",
        ],
        rows,
    )
    if missing:
        lines += [f"Not found in this version of the code: {', '.join(sorted(missing))}.", ""]
    return lines


def contention_section(results: runner.Results) -> list[str]:
    measured = [w for w in results.writes if w.rounds]
    if not results.writes:
        return []
    lines = [
        f"## 5. {writes.CONTENDERS} simultaneous requests for one slot",
        "",
        f"In the app of section 4, after its runs: {writes.CONTENDERS} identical POSTs for one "
        "open slot started together (`asyncio.gather`), a fresh slot each round. *All "
        "answered* is the wall time from the start until the last answer; *201 after* is when "
        f"the one booking was answered. Expected every round: one 201 and "
        f"{writes.CONTENDERS - 1} `409 slot_unavailable`.",
        "",
    ]
    rows = []
    for w in measured:
        walls = [r.wall for r in w.rounds]
        winners = [r.winner for r in w.rounds]
        outcomes = Counter(writes.describe_statuses(r.statuses) for r in w.rounds)
        rows.append(
            (
                w.backend,
                len(w.rounds),
                ms(statistics.median(walls)),
                ms(max(walls)),
                ms(min(walls)),
                ms(statistics.median(winners)),
                "; ".join(f"{n} rounds: {k}" for k, n in outcomes.items()),
            )
        )
    header = [
        "database",
        "rounds",
        "all answered, median ms",
        "max ms",
        "min ms",
        "201 after, median ms",
        "answers",
    ]
    lines += table(header, rows) if rows else ["Not measured.", ""]
    for w in measured:
        lines += [
            f"{w.backend}, each round (ms): " + ", ".join(ms(r.wall) for r in w.rounds) + ".",
            "",
        ]
    return lines


def backlog_notes(found: list[invitations.InvitationResult]) -> list[str]:
    """Where the messages waited, read off the figures."""
    lines = []
    for i in found:
        if not (i.handoff and i.answered_to_accepted and i.post_latency and i.span):
            continue
        committing = i.bookings / i.commit_seconds if i.commit_seconds else 0.0
        if i.answered_to_accepted.p50 > max(2.0, 3 * i.handoff.p99):
            lines.append(
                f"- {i.backend}: the relay handed rows to Redis within "
                f"{seconds(i.handoff.p99)} s of their commit at the 99th percentile (whole "
                "seconds) while acceptance took "
                f"{seconds(i.answered_to_accepted.p50)} s at the median: the backlog waited "
                "in Redis for the worker's deliveries, not in the outbox. Bookings were "
                f"committed at {committing:,.0f}/s ({2 * committing:,.0f} messages/s) and "
                f"delivered at {i.messages_per_second:,.1f} messages/s overall, so the queue "
                "grew while the bookings came in and drained after."
            )
    return [*lines, ""] if lines else []


def delivery_cost(found: list[invitations.InvitationResult]) -> list[str]:
    measured = [i for i in found if i.delivery]
    if not measured:
        return []
    lines = [
        "### What one delivery costs",
        "",
        f"After the timed part (worker stopped): {invitations.PROFILE_BOOKINGS} more bookings, "
        "and their invitations delivered in this process by the actor's own code "
        "(`Deliverer.deliver`: read the row and the booking, build the email and its "
        "calendar invitation, send it over SMTP to the same server, mark the row), one at a "
        "time, without Dramatiq or Redis: half timed, half under pyinstrument. CPU time is "
        "this process's, so it includes the SMTP server's side. *Worker CPU per message* is "
        "the worker process's CPU seconds in the timed part divided by the messages accepted.",
        "",
    ]
    rows = []
    for i in measured:
        assert i.delivery is not None
        d = i.delivery
        worker = ms(i.cpu.worker / i.delivered) if i.cpu and i.delivered else ""
        rows.append(
            (
                i.backend,
                d.messages,
                writes.describe_statuses(d.statuses),
                ms(d.wall),
                ms(d.cpu),
                f"{1 / d.wall:,.0f}" if d.wall else "",
                worker,
            )
        )
    lines += table(
        [
            "database",
            "messages",
            "results",
            "wall ms per message",
            "CPU ms per message",
            "messages/s at that pace",
            "worker CPU ms per message (timed part)",
        ],
        rows,
    )
    profiles = [p for i in measured for p in i.profiles]
    return lines + profile_tables(profiles, "####")


def invitations_section(results: runner.Results) -> list[str]:
    if not results.invitations:
        return []
    lines = [
        "## 6. Invitations end to end: Redis and one worker process",
        "",
        f"{invitations.BOOKINGS:,} confirmed bookings (the practice of section 4; the "
        "therapists have no email address, so each booking queues two invitations, one per "
        f"partner) committed as fast as the in-process app takes them (concurrency "
        f"{invitations.CONCURRENCY}, the real clock), with BROKER_URL on Redis; one worker "
        f"process, `python -m booking worker --processes 1 --threads "
        f"{invitations.WORKER_THREADS}` (should that fail to start, the Dramatiq command it "
        "runs, `python -m dramatiq booking.worker_process:setup` with the same options; the "
        "notes under the tables say which ran), on the same database with the same "
        "BOOKING_SECRET_KEY, BOOKING_DATA_KEY and PUBLIC_BASE_URL, OUTBOX_POLL_SECONDS="
        f"{invitations.POLL_SECONDS}, LOG_LEVEL=WARNING, and SMTP_URL on an aiosmtpd server in "
        "this process (a thread of its own) whose handler notes each message's Message-ID and "
        "time.time() as it accepts it. Before the timed part one booking is made and the "
        "worker counts as ready once its two messages are accepted. Then the bookings are "
        f"committed and the run waits for every message, or gives up at a deadline "
        f"({', '.join(f'{b} {s:.0f} s' for b, s in invitations.DELIVERY_DEADLINE.items())} "
        "after the first commit). The app, the SMTP server, the worker, Redis and "
        "PostgreSQL share the machine's cores.",
        "",
        "*First commit* is when the first booking of the timed part was answered (this "
        "process's clock, a millisecond or so after its commit); messages/s and bookings/s "
        "run from it to the last SMTP acceptance, bookings counted as messages / 2.",
        "",
    ]
    rows = []
    for i in results.invitations:
        if not i.delivered and i.error:
            continue
        rows.append(
            (
                i.backend,
                f"{i.bookings:,}",
                f"{i.delivered:,}/{i.expected:,}" + ("" if i.complete else " (deadline)"),
                seconds(i.span),
                f"{i.messages_per_second:,.1f}",
                f"{i.bookings_per_second:,.1f}",
                f"{seconds(i.commit_seconds)} ({i.post_latency.rps:,.0f}/s)"
                if i.post_latency
                else "",
                ms(i.post_latency.p50) if i.post_latency else "",
                seconds(i.ready_seconds) if i.ready_seconds is not None else "",
            )
        )
    header = [
        "database",
        "bookings",
        "messages accepted",
        "first commit to last acceptance, s",
        "messages/s",
        "bookings/s",
        "committing took, s (bookings/s)",
        "POST p50 ms",
        "worker ready after, s",
    ]
    lines += table(header, rows) if rows else ["Not measured.", ""]
    latency_rows = []
    for i in results.invitations:
        for label, value in (
            ("commit to hand-off (relayed_at − created_at)", i.handoff),
            ("commit to accepted (arrival − created_at)", i.accepted),
            ("POST answered to accepted (this process's clock)", i.answered_to_accepted),
        ):
            if value is not None:
                latency_rows.append(
                    (
                        i.backend,
                        label,
                        f"{value.n:,}",
                        seconds(value.minimum),
                        seconds(value.p50),
                        seconds(value.p99),
                        seconds(value.maximum),
                    )
                )
    if latency_rows:
        lines += [
            "Per message, in seconds. `created_at` and `relayed_at` are stored by the service "
            "from its clock, which reads whole seconds (`booking.core.timezones.utc_now` drops the "
            "microseconds): `created_at` is the booking transaction's clock reading, up to a "
            "second before its commit, and `relayed_at` the worker's reading when it claimed "
            "the row, so the first two lines are whole seconds, each up to a second off. The "
            "last line times the same path to the millisecond, from when this process got the "
            "booking's 201 to the message's acceptance.",
            "",
        ]
        lines += table(
            ["database", "interval", "messages", "min", "p50", "p99", "max"], latency_rows
        )
        lines += backlog_notes(results.invitations)
    cpu_rows = [
        (
            i.backend,
            seconds(i.cpu.seconds),
            busy(i.cpu.machine_busy),
            f"{i.cpu.worker:.1f} ({i.cpu.worker / i.cpu.seconds * 100:.0f}%)",
            f"{i.cpu.harness:.1f} ({i.cpu.harness / i.cpu.seconds * 100:.0f}%)",
            f"{i.cpu.postgres:.1f} ({i.cpu.postgres / i.cpu.seconds * 100:.0f}%)",
            f"{i.cpu.redis:.1f} ({i.cpu.redis / i.cpu.seconds * 100:.0f}%)",
            f"{i.cpu.other:.1f} ({i.cpu.other / i.cpu.seconds * 100:.0f}%)"
            if i.cpu.other is not None
            else "",
        )
        for i in results.invitations
        if i.cpu and i.cpu.seconds > 0
    ]
    if cpu_rows:
        lines += [
            "Where the CPU went during the timed part (from /proc: CPU seconds, and as a share "
            "of one core; *this process* is the app, the SMTP server's thread and the client; "
            "*PostgreSQL* is every postgres process on the machine; *everything else* is the "
            "machine's busy time less these, the kernel and any other work on the machine "
            "included):",
            "",
        ]
        lines += table(
            [
                "database",
                "seconds",
                "machine busy (all cores)",
                "worker process",
                "this process",
                "PostgreSQL",
                "Redis",
                "everything else",
            ],
            cpu_rows,
        )
    lines += delivery_cost(results.invitations)
    details = []
    for i in results.invitations:
        parts = [f"broker {i.broker}" if i.broker else ""]
        if i.command:
            parts.append(f"worker command `{i.command}`, {i.worker_exit}")
        if i.statuses:
            parts.append(
                "outbox rows of the timed bookings at the end: "
                + ", ".join(f"{n:,} {k}" for k, n in sorted(i.statuses.items()))
            )
        if i.duplicates:
            parts.append(f"{i.duplicates} duplicate acceptances")
        parts += i.notes
        parts += [f"**{p}**" for p in i.problems]
        if i.error:
            parts.append(f"error: `{i.error}`")
        details.append(f"- {i.backend}: " + "; ".join(p for p in parts if p) + ".")
    if details:
        lines += [*details, ""]
    return lines


KEPT_MARKER = "<!-- Notes written by hand: `make bench` keeps everything below this line. -->"


def kept_notes(path: Path) -> str:
    """What follows the marker in the last report (the marker included), or nothing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    at = text.find(KEPT_MARKER)
    return "" if at < 0 else "\n" + text[at:]


def commands_section(results: runner.Results) -> list[str]:
    lines: list[str] = []
    for number, c in enumerate(results.commands, start=7):
        lines += [
            f"## {number}. {runner.COMMANDS[c.name]}",
            "",
            f"`python -m tests.benchmarks.{c.name}`, run by `make bench` as a process of its own "
            f"({c.seconds:.0f} s); what it printed:",
            "",
        ]
        # Its own heading, if it prints one, is the one above.
        lines += [line for line in c.output.splitlines() if not line.startswith("## ")]
        lines += ["", *([f"Error: `{c.error}`", ""] if c.error else [])]
    return lines


def render(results: runner.Results) -> str:
    started = results.started.strftime("%Y-%m-%d %H:%M UTC")
    minutes, seconds = divmod(int(results.seconds), 60)
    databases = [results.database_versions.get("sqlite", "SQLite")]
    if results.admin_url_set:
        databases.append(
            results.database_versions.get("postgres", "PostgreSQL") + " on the local server"
        )
    else:
        databases.append(
            "PostgreSQL not run: set BENCH_DATABASE_URL or TEST_DATABASE_URL to include it"
        )
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m tests.benchmarks` (`make bench`); rerun it rather than editing "
        "this file. PostgreSQL is included when `BENCH_DATABASE_URL` or `TEST_DATABASE_URL` "
        "names a server on which the harness may create (and then drops) its own databases.",
        "",
        "## Run",
        "",
        f"- Date: {started} (the run took {minutes} min {seconds} s)",
        f"- Tool: the harness in `tests/benchmarks/` of this repository; Python "
        f"{platform.python_version()} ({platform.python_implementation()}); {versions()}",
        f"- Databases: {'; '.join(databases)}",
        f"- Machine: {cpu_model()}, {os.cpu_count()} cores ({usable} usable), "
        f"{memory()} memory, {platform.system()} {platform.release()}; load average "
        f"(1/5/15 min) {load(results.load_before)} at the start, {load(results.load_after)} at "
        f"the end; CPU busy with other work in a 1 s sample while the harness idled: "
        f"{busy(results.background_before)} before, {busy(results.background_after)} after "
        "(of all cores; anything above a few percent inflates every figure below)",
        "",
        "## Targets",
        "",
        *target_lines(results),
        "",
    ]
    if not results.admin_url_set:
        lines += ["**This run is SQLite only**: no PostgreSQL URL was set.", ""]
    lines += engine_section(results)
    lines += api_section(results)
    lines += history_section(results)
    lines += writes_section(results)
    lines += contention_section(results)
    lines += invitations_section(results)
    lines += commands_section(results)
    lines += profile_section(results.profiles)
    if results.notes:
        lines += ["## Notes", "", *(f"- {n}" for n in results.notes), ""]
    if results.errors:
        lines += ["## Errors", "", *(f"- `{e}`" for e in results.errors), ""]
    tidy = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]
    return "\n".join(tidy).rstrip() + "\n"
