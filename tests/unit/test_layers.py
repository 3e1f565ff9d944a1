"""The domains know nothing of HTTP: no domain module imports Litestar or the web layer, so a
domain can be used by the worker, the command line or a test without the web application."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import booking

ROOT = Path(booking.__file__).parent
DOMAINS = ("scheduling", "bookings", "intake", "notifications", "audit")
ABOVE_THE_DOMAINS = ("litestar", "booking.web")


def imported_modules(source: Path) -> set[str]:
    """Every module `source` imports, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("domain", DOMAINS)
def test_no_domain_module_imports_litestar_or_the_web_layer(domain: str) -> None:
    modules = sorted((ROOT / domain).rglob("*.py"))
    assert modules, domain

    offending = {
        f"{source.relative_to(ROOT)}: {name}"
        for source in modules
        for name in imported_modules(source)
        if any(name == above or name.startswith(f"{above}.") for above in ABOVE_THE_DOMAINS)
    }

    assert not offending
