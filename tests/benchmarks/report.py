"""docs/benchmarks.md: the run's environment, its figures, and one line per target."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

from tests.benchmarks import bench_engine, phases, runner, targets
from tests.benchmarks.profiling import Profile
from tests.benchmarks.stats import Summary, ms, us

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
        for name in ("one", "any"):
            limit = targets.INPROCESS_MAX_P50[name]
            summary = result.summaries.get(name)
            ok = None if summary is None else summary.p50 <= limit
            detail = f"p50 {ms(summary.p50)} ms" if summary else (result.error or "not run")
            lines.append(
                f"- {verdict(ok)}: {result.backend}, in-process p50 at most {ms(limit)} ms "
                f"for {NAMES[name]} ({detail})"
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
        ratio = f"{s.p50 / live.p50:,.0f}x" if live and name != "live" else ""
        rows.append(
            (
                result.backend,
                NAMES[name],
                s.n,
                ms(s.p50),
                ms(s.p99),
                f"{s.rps:,.0f}",
                ratio,
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
        "## Where the time goes (targets not met)",
        "",
        "pyinstrument (async mode, 0.2 ms interval) over repeated calls of each case that "
        "missed its target. Shares of the profiled time (the profiler inflates totals). Self "
        "time includes time spent awaiting, charged to the frame that awaits.",
        "",
    ]
    for p in profiles:
        per_call = p.total / p.calls if p.calls else 0.0
        lines += [
            f"### {p.label}",
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
    lines += profile_section(results.profiles)
    if results.notes:
        lines += ["## Notes", "", *(f"- {n}" for n in results.notes), ""]
    if results.errors:
        lines += ["## Errors", "", *(f"- `{e}`" for e in results.errors), ""]
    tidy = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]
    return "\n".join(tidy).rstrip() + "\n"
