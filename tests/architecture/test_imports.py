"""The package's shape: no import cycle between modules, and imports inside functions only where
they defer an optional or slow dependency (the list below, each with its reason).

The layers themselves (cli at the top, core at the bottom) are import-linter's contract in
pyproject.toml, checked by ``lint-imports`` in the README's test command; these tests cover what a
layers contract between packages cannot see: cycles inside one package, and imports hidden in
function bodies (import-linter counts those too, but a lazy import is also how a cycle is hidden).
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2] / "robostress"

# module prefix imported inside a function -> why it is deferred
LAZY: dict[str, str] = {
    "mitsuba": "rendering only: evaluating a built benchmark never loads Mitsuba (and its JIT backends)",
    "drjit": "rendering only, with mitsuba",
    "mujoco": "the arm's kinematics, only while sampling scenes with a robot (the assets extra)",
    "torch": "the hf extra (optional); also keeps `robostress --help` fast",
    "transformers": "the hf extra (optional)",
    "tokenizers": "the hf extra (optional): tiny test tokenizers are trained on the fly",
    "vllm": "the vllm extra (optional, CUDA-only)",
    "datasets": "the export extra (optional)",
    "pyarrow": "the export extra (optional): reading an exported dataset",
    "matplotlib": "figures only: about half a second to import, kept off every other command",
    "pyoidn": "rendering only, with renderer.denoise=oidn (a missing install is a ConfigError naming the fix)",
}
# The CLI defers each subcommand's pipeline to the moment it runs, so that `robostress --help` and a
# config error answer at once (0.26 s, against 1.1-1.7 s to import evaluate, report or leaderboard);
# each such line says so with a trailing "# deferred:" comment.
DEFERRED_IN = "robostress/cli/"


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph("robostress", cache_dir=None)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert _cycles(edges) == []


def _function_imports() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        source = path.read_text()
        lines = source.splitlines()
        tree = ast.parse(source, str(path))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                rel = str(path.relative_to(ROOT.parent))
                text = "\n".join(lines[node.lineno - 1:node.end_lineno])
                if rel.startswith(DEFERRED_IN) and "# deferred:" in text:
                    continue
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                found += [(rel, node.lineno, name) for name in names]
    return found


def _allowed(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in LAZY)


def test_imports_inside_functions_only_defer_optional_or_slow_dependencies() -> None:
    bad = [f"{path}:{line} imports {mod}" for path, line, mod in _function_imports() if not _allowed(mod)]
    assert bad == [], "import these at module level (or add the dependency to LAZY with its reason):\n" + "\n".join(bad)


@pytest.mark.parametrize("module", sorted(LAZY))
def test_every_lazy_dependency_is_still_imported_lazily_somewhere(module: str) -> None:
    """A stale entry would let a new lazy import through unexplained."""
    assert any(_allowed(m) and (m == module or m.startswith(module + ".")) for _, _, m in _function_imports())
