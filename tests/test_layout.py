"""The package layout holds: no import cycles (lazy and TYPE_CHECKING imports count), one-way layers, no
package that swallows the code base, and every package says what it owns and may import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["media", "voice", "asr", "biometrics", "hints", "core", "privacy", "profiles", "callcenter", "store",
            "webhooks", "verification", "calls", "console", "web", "app", "hotline"]
NON_TEST = [*PACKAGES, "benchmarks"]


def _cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(imports):
        if root in index:
            continue
        work = [(root, iter(sorted(imports[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(imports.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_modules():
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False, exclude_type_checking_imports=False)
    imports = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert _cycles(imports) == []


def test_lazy_imports_are_in_the_graph():
    """grimp sees an import inside a function: the cycle test above would catch a lazy cycle."""
    graph = grimp.build_graph("calls", "verification", "biometrics", "media", "store", "core", "privacy",
                              "profiles", "callcenter", include_external_packages=False)
    assert "biometrics.passive" in graph.find_modules_directly_imported_by("verification.passive")


def test_layer_contracts_hold():
    run = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def _lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def test_no_package_holds_more_than_30_percent_of_the_code_or_30_modules():
    sizes = {pkg: sum(_lines(f) for f in (ROOT / pkg).rglob("*.py")) for pkg in NON_TEST}
    total = sum(sizes.values())
    for pkg in NON_TEST:
        modules = len(list((ROOT / pkg).rglob("*.py")))
        assert sizes[pkg] <= 0.30 * total, f"{pkg}: {sizes[pkg]} of {total} lines"
        assert modules <= 30, f"{pkg}: {modules} modules"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_says_what_it_owns(package: str):
    doc = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8")))
    assert doc and len(doc) > 40, f"{package}/__init__.py needs a docstring: what it owns, what it may import"
