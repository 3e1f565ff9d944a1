"""Latency samples and their summaries (nearest-rank percentiles, no third-party code)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Summary:
    """Per-call latencies in seconds; `rps` is requests (calls) per second of wall time."""

    n: int
    p50: float
    p99: float
    mean: float
    minimum: float
    rps: float


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest sample with at least `fraction` at or below."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarize(samples: Sequence[float], wall: float | None = None) -> Summary:
    """Summary of `samples`; `wall` is the elapsed time (default: their sum, i.e. sequential)."""
    elapsed = sum(samples) if wall is None else wall
    return Summary(
        n=len(samples),
        p50=statistics.median(samples),
        p99=percentile(samples, 0.99),
        mean=statistics.fmean(samples),
        minimum=min(samples),
        rps=len(samples) / elapsed if elapsed > 0 else math.inf,
    )


def ms(seconds: float) -> str:
    """Milliseconds with three significant-ish digits."""
    value = seconds * 1000
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def us(seconds: float) -> str:
    value = seconds * 1_000_000
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"
