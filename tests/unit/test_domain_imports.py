"""Domains depend one way: scheduling <- bookings <- intake / notifications. A domain reaches
one above it only through an interface it defines itself (booking.scheduling.ports)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import booking

PACKAGE = Path(booking.__file__).parent
DOMAINS = ("scheduling", "bookings", "intake", "notifications")
# What each domain must not import, directly or inside a function.
FORBIDDEN = {
    "scheduling": ("bookings", "intake", "notifications"),
    "bookings": ("intake", "notifications"),
    "intake": ("notifications",),
    "notifications": ("intake",),
}
# HTTP modules still in the domains' folders until they move to booking/web.
WEB_MODULES = {"controllers.py", "pages.py", "manage_pages.py"}


def imported_domains(domain: str) -> set[str]:
    """`module:line -> domain` for each import of another domain from `domain`'s modules."""
    found: set[str] = set()
    for path in sorted((PACKAGE / domain).rglob("*.py")):
        if path.name in WEB_MODULES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if len(parts) > 1 and parts[0] == "booking" and parts[1] in DOMAINS:
                    found.add(f"{path.relative_to(PACKAGE)}:{node.lineno} -> {parts[1]}")
    return found


@pytest.mark.parametrize("domain", sorted(FORBIDDEN))
def test_a_domain_imports_no_domain_that_depends_on_it(domain: str) -> None:
    wrong = sorted(
        found
        for found in imported_domains(domain)
        if found.rsplit(" -> ", 1)[1] in FORBIDDEN[domain]
    )

    assert wrong == []
