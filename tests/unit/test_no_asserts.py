"""The service never decides anything with `assert`: `python -O` strips them, and what a user
sees must not depend on the interpreter's flags (tests/integration/test_optimised.py runs the
service under -O)."""

from __future__ import annotations

import ast
from pathlib import Path

import booking

PACKAGE = Path(booking.__file__).parent


def test_no_assert_statement_is_left_in_the_booking_package() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        if isinstance(node, ast.Assert)
    ]

    assert found == [], "use a real check (raise NotFound, ValidationFailed or RuntimeError)"
