"""The layers hold: import-linter's contracts pass, a forbidden import fails them, no cycles."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "booking", tmp_path / "booking", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_layer_contracts_hold(tmp_path: Path) -> None:
    result = lint_imports(copy_of_the_package(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_a_domain_importing_the_web_layer_breaks_the_contracts(tmp_path: Path) -> None:
    tree = copy_of_the_package(tmp_path)
    services = tree / "booking" / "scheduling" / "services.py"
    services.write_text(services.read_text() + "\nfrom booking.web import app as _app  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "booking.scheduling.services -> booking.web" in result.stdout


def test_the_core_importing_a_domain_breaks_the_contracts(tmp_path: Path) -> None:
    tree = copy_of_the_package(tmp_path)
    settings = tree / "booking" / "core" / "settings.py"
    settings.write_text(settings.read_text() + "\nimport booking.bookings.tables  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "booking.core.settings -> booking.bookings.tables" in result.stdout


def test_no_module_of_the_service_imports_itself_through_others() -> None:
    graph = grimp.build_graph("booking")
    cycles = [component for component in strongly_connected(graph) if len(component) > 1]
    assert cycles == []


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's components of the module import graph (iterative: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = []
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        work.append((start, sorted(graph.find_modules_directly_imported_by(start))))
        while work:
            node, pending = work[-1]
            if pending:
                child = pending.pop()
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(graph.find_modules_directly_imported_by(child))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components
