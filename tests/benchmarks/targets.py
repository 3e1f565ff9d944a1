"""The targets from the issue, in one place for the runner (what to profile) and the report."""

from __future__ import annotations

ENGINE_MAX_P50_AT_1000 = 0.001  # seconds per call with 1,000 busy intervals
ENGINE_MAX_GROWTH_PER_10X = 10.0  # "no worse than linear"
# In-process GET /api/v1/availability, p50 as a multiple of GET /health/live's p50 in the same run
# (issue 12): one therapist for one day, one therapist for 4 weeks, any of 10 for 4 weeks.
INPROCESS_MAX_RATIO = {"day": 5.0, "one": 8.0, "any": 25.0}
HISTORY_MAX_DIFFERENCE = 0.10  # p50 with 100,000 history rows vs with 100: within 10%


def history_difference(small: float, large: float) -> float:
    """How far the large-history p50 is from the small-history one, as a fraction of it."""
    return abs(large - small) / small
