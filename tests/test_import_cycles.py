"""No import cycle inside any package: grimp (which import-linter is built on) reads every import
statement — module-level and inside functions, leaving out ``if TYPE_CHECKING:`` ones — into a graph,
and a strongly connected component of more than one module, among the modules of one package, is a
cycle. On the commit before the dashboard was sorted by screen this found the eleven-module circle
``components/duty_*`` → ``pages/__init__`` → ``pages/duty`` → ``components/duty_*``."""

from __future__ import annotations

import grimp
import pytest

PACKAGES = ["data", "layers", "workers", "dashboard", "gridcc"]


def cycles(modules: set[str], imports: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one member, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(imports[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(imports[child]))))
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


def test_cycles_finds_a_circle_and_nothing_else() -> None:
    imports = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(set(imports), imports) == [["a", "b", "c"]]
    assert cycles({"a", "b"}, {"a": {"b"}, "b": set()}) == []


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside(graph: grimp.ImportGraph, package: str) -> None:
    modules = {m for m in graph.modules if m == package or m.startswith(package + ".")}
    imports = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    assert cycles(modules, imports) == []
