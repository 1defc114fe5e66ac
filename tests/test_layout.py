"""The layout's promises, read from the code: dependencies run one way (runtime ->
stages and release -> schemas; nothing but evaluation, tests and benchmarks imports
evaluation), no import cycles, Prefect only in the flows and the runtime, and no
module over 500 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PACKAGES = ("flows", "schemas", "evaluation")
MAX_LINES = 500


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((PROJECT / package).rglob("*.py")):
            name = ".".join(path.relative_to(PROJECT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every module (of `known`, or a third-party top-level name) that `path` imports,
    at the top or inside functions."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            while target and target not in known and "." in target:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    paths = modules()
    return {name: imports(path, name, set(paths)) for name, path in paths.items()}


def test_no_import_cycles():
    edges = graph()
    state: dict[str, str] = {}

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if target not in edges:
                continue
            assert state.get(target) != "open", f"import cycle: {' -> '.join(trail + [node, target])}"
            if target not in state:
                visit(target, trail + [node])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [])


def test_dependencies_run_one_way():
    edges = graph()
    wrong = []
    for name, targets in sorted(edges.items()):
        for target in sorted(targets):
            if not name.startswith("evaluation") and name != "flows.cli" and target.startswith("evaluation"):
                wrong.append(f"{name} imports {target}")
            if name.startswith("flows.stages") and target.startswith(
                    ("flows.release", "flows.runtime", "flows.pipeline", "flows.build", "flows.serve")):
                wrong.append(f"stage {name} imports {target}")
            if name.startswith("flows.release") and target.startswith(("flows.runtime", "flows.build")):
                wrong.append(f"release module {name} imports {target}")
            if name.startswith("schemas") and target.startswith("flows"):
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_prefect_only_in_the_flows_and_the_runtime():
    users = sorted(name for name, targets in graph().items()
                   if any(t == "prefect" or t.startswith(("prefect.", "prefect_dask")) for t in targets))
    assert users and all(name in ("flows.build", "flows.serve") or name.startswith("flows.runtime")
                         for name in users), users


def test_no_module_over_500_lines():
    long = {name: lines for name, path in modules().items()
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_a_stage_imports_neither_prefect_nor_great_expectations():
    probe = ("import sys, flows.stages.quotes, flows.stages.entities.linker, flows.pipeline; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'great_expectations'}))")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT, check=True)
    assert shown.stdout.strip() == "[]"
