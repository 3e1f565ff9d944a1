"""Generated secrets: one per data directory, however many processes start at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from booking.core.private_files import read_or_create_secret


def test_processes_racing_for_a_new_secret_all_keep_the_same_one(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    racers = 8
    # Every racer has found no file before any of them writes: the worst interleaving.
    all_looked = threading.Barrier(racers)
    counter = iter(range(racers))

    def generate() -> str:
        mine = f"secret-{next(counter)}"
        all_looked.wait(timeout=10)
        return mine

    with ThreadPoolExecutor(racers) as pool:
        results = list(pool.map(lambda _: read_or_create_secret(path, generate), range(racers)))

    secrets = {secret for secret, _ in results}
    assert len(secrets) == 1
    assert [created for _, created in results].count(True) == 1
    assert path.read_text().strip() in secrets
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no leftovers


def test_an_existing_secret_is_read_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("kept-as-it-is\n")

    assert read_or_create_secret(path, lambda: "new") == ("kept-as-it-is", False)
