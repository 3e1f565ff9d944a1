"""The targets from the issue, in one place for the runner (what to profile) and the report."""

from __future__ import annotations

ENGINE_MAX_P50_AT_1000 = 0.001  # seconds per call with 1,000 busy intervals
ENGINE_MAX_GROWTH_PER_10X = 10.0  # "no worse than linear"
INPROCESS_MAX_P50 = {"one": 0.005, "any": 0.020}  # seconds, in-process GET /api/v1/availability
HISTORY_MAX_DIFFERENCE = 0.10  # p50 with 100,000 history rows vs with 100: within 10%


def history_difference(small: float, large: float) -> float:
    """How far the large-history p50 is from the small-history one, as a fraction of it."""
    return abs(large - small) / small
