"""Benchmarks: `python -m tests.benchmarks` (`make bench`) measures, writes docs/benchmarks.md.

Not part of the test suites: no module here is named `test_*`, so pytest collects nothing.
PostgreSQL runs when BENCH_DATABASE_URL (else TEST_DATABASE_URL) names a server the harness may
create databases on; otherwise SQLite only.
"""
