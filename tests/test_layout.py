"""The package's shape: stages import only stages below them, no import circle, short functions.

The stage ranks follow the way data flows (document → chunks → index → passages → cited
answer → UI): a stage may use what is below it, never what is above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "assistant"

# Base types and text analysis; the external parts; the stages that read them; answers; the
# chain; the app and the evaluation; training that asks the whole chain; the command line over
# all of them.
RANK = {
    "models": 0, "settings": 0, "text": 0,
    "store": 1,
    "ingest": 2, "search": 2, "safety": 2,
    "answer": 3,
    "service": 4,
    "app": 5, "evaluation": 5,
    "training": 6,
    "cli": 7,
    "__main__": 8,
}
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every `assistant.*` module the file imports, at top level or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("assistant"):
                found.add(node.module)
                # `from assistant.safety import rules` imports the submodule itself.
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    if _exists(sub):
                        found.add(sub)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("assistant"))
    return found


def _exists(module: str) -> bool:
    base = ROOT.joinpath(*module.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_stage_has_a_rank() -> None:
    stages = {_stage(m) for m in _graph()} - {""}
    assert stages <= set(RANK), f"stages without a rank: {sorted(stages - set(RANK))}"


def test_no_stage_imports_a_stage_above_it_or_beside_it() -> None:
    wrong = []
    for module, imports in _graph().items():
        here = _stage(module)
        if not here:
            continue
        for target in imports:
            there = _stage(target)
            if there and there != here and RANK[there] >= RANK[here]:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "upward or sideways imports:\n" + "\n".join(sorted(wrong))


def test_no_import_circle() -> None:
    graph = {m: {t for t in ts if t in _graph_keys()} for m, ts in _graph().items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif not state.get(nxt):
                visit(nxt, path + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if not state.get(module):
            visit(module, [module])
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def _graph_keys() -> set[str]:
    return {_module_name(p) for p in PACKAGE.rglob("*.py")}


def test_the_checker_sees_a_circle_and_an_upward_import(tmp_path: Path) -> None:
    # The walker itself must be able to fail: a planted upward import is found.
    planted = tmp_path / "x.py"
    planted.write_text("from assistant.service import Assistant\n"
                       "def f():\n    from assistant.app.server import serve\n", encoding="utf-8")
    assert _imports(planted) == {"assistant.service", "assistant.app.server"}


def _long_functions(paths: list[Path]) -> list[str]:
    long = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    rel = path.relative_to(ROOT)
                    long.append(f"{rel}:{node.lineno} {node.name} ({lines} lines)")
    return long


def test_no_function_over_80_lines_outside_tests() -> None:
    paths = [*PACKAGE.rglob("*.py"), *(ROOT / "bench").rglob("*.py"), ROOT / "app.py"]
    long = _long_functions(paths)
    assert not long, "functions over 80 lines:\n" + "\n".join(long)
