"""Rules of design.md that a test can hold: module size, and the import contracts."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "switchboard"
WEB = ROOT / "web" / "src"
HARD_CAP = 400


def _modules() -> list[Path]:
    """The Python package and the web app's own sources (its generated API types excepted)."""
    web = [path for pattern in ("*.ts", "*.svelte") for path in WEB.rglob(pattern) if path.name != "openapi.d.ts"]
    return [*SRC.rglob("*.py"), *web]


def test_no_module_exceeds_the_hard_cap() -> None:
    too_big = {
        str(path.relative_to(ROOT)): lines
        for path in _modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > HARD_CAP
    }
    assert not too_big, f"split these modules by concept (hard cap {HARD_CAP} lines): {too_big}"


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=SRC.parents[1])
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_import_cycle_under_src() -> None:
    """Every module can be read bottom-up: no chain of imports (not even type-only ones) comes back."""
    import grimp

    graph = grimp.build_graph("switchboard", cache_dir=None)
    modules = sorted(graph.modules)
    imports = {name: graph.find_modules_directly_imported_by(name) for name in modules}
    cycles = [group for group in _strongly_connected(modules, imports) if len(group) > 1]
    assert not cycles, f"import cycles: {cycles}"


def _strongly_connected(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so that a deep import graph cannot hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next((c for c in children if c in edges), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(group)
    return groups
