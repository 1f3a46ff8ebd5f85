"""tools/ is in layers that import only downward (docs: tools/*/__init__.py say what each layer may import).

Every import of a project module is read with `ast` from every tools/**/*.py, function-level ones included: a module
may import its own package (without a cycle) and any package of a lower layer, nothing of its own layer's other
package (bench and mutate) and nothing above it. Imports by name (importlib with a computed string: validate's
checks, bench's sections) stay inside one package and are not read."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from tools import REPO_ROOT

# Top-level package under tools/ -> layer. `tools` itself (REPO_ROOT) counts as layer 0 and any module may import it.
LAYERS = {"tools": 0, "base": 0, "cli": 1, "render": 2, "checks": 3, "image": 4, "cluster": 5, "smoke": 6,
          "bench": 7, "mutate": 7}


@dataclass(frozen=True)
class Import:
    importer: str  # module names: tools.cli.helm; a package's __init__.py is the package's name
    imported: str
    file: str  # relative to the root that was read
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(root, path): path for path in sorted((root / "tools").rglob("*.py"))}


def _resolve(known: dict[str, Path], base: str, names: list[str]) -> list[str]:
    """`from base import names`: each name that is a module of its own, else base itself."""
    found = [f"{base}.{name}" for name in names if f"{base}.{name}" in known]
    return found if len(found) == len(names) else [*found, base]


def imports(root: Path) -> list[Import]:
    """Every import of a tools module in root/tools/**/*.py, at module level or inside a function."""
    known = modules(root)
    found = []
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from .x import y, from .. import z
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, node.module] if node.module else anchor)
                else:
                    base = node.module or ""
                targets = _resolve(known, base, [alias.name for alias in node.names])
            else:
                continue
            for target in targets:
                if target == "tools" or target.startswith("tools."):
                    found.append(Import(name, target, path.relative_to(root).as_posix(), node.lineno))
    return found


def top_package(module: str) -> str:
    """tools.cli.helm -> cli; tools -> tools."""
    return module.split(".")[1] if "." in module else module


def unplaced(root: Path) -> list[str]:
    """Modules in no layer: a package missing from LAYERS, or a flat module beside the packages."""
    return [f"{path.relative_to(root).as_posix()}: {name} is in no layer (add its package to LAYERS and the "
            "architecture)" for name, path in modules(root).items()
            if top_package(name) not in LAYERS or (path.parent == root / "tools" and path.name != "__init__.py")]


def layer_problems(found: list[Import]) -> list[str]:
    """Upward imports and imports between two packages of the same layer, each naming both modules, file and line."""
    problems = []
    for imp in found:
        if imp.imported == "tools":
            continue
        source, target = top_package(imp.importer), top_package(imp.imported)
        if source == target or source not in LAYERS or target not in LAYERS:
            continue
        if LAYERS[target] > LAYERS[source]:
            problems.append(f"{imp.file}:{imp.line}: {imp.importer} (layer {LAYERS[source]}, {source}) imports "
                            f"{imp.imported} of a higher layer ({LAYERS[target]}, {target})")
        elif LAYERS[target] == LAYERS[source]:
            problems.append(f"{imp.file}:{imp.line}: {imp.importer} imports {imp.imported}: {source} and {target} "
                            f"are two packages of layer {LAYERS[source]}, which must not import each other")
    return problems


def cycles(found: list[Import]) -> list[str]:
    """Each import cycle once, as `a -> b -> a` with the file and line of every edge."""
    graph: dict[str, dict[str, Import]] = {}
    for imp in found:
        if imp.importer != imp.imported:
            graph.setdefault(imp.importer, {}).setdefault(imp.imported, imp)
    reported, problems = set(), []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    edges = [graph[a][b] for a, b in zip(cycle, [*cycle[1:], nxt], strict=True)]
                    problems.append(" -> ".join([*cycle, nxt]) + " (" +
                                    ", ".join(f"{e.file}:{e.line}" for e in edges) + ")")
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return problems


# -- the repository ---------------------------------------------------------------------------------------------------

def test_every_module_belongs_to_a_layer():
    assert unplaced(REPO_ROOT) == []


def test_tools_imports_only_downward():
    found = imports(REPO_ROOT)
    assert len(found) > 100, "the checker read the imports"
    assert layer_problems(found) == []


def test_tools_has_no_import_cycle():
    assert cycles(imports(REPO_ROOT)) == []


# -- the checker can fail -------------------------------------------------------------------------------------------

def plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"tools/__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_checker_finds_an_upward_import_inside_a_function(tmp_path):
    root = plant(tmp_path, {
        "tools/base/__init__.py": "", "tools/smoke/__init__.py": "", "tools/smoke/kube.py": "",
        "tools/base/run.py": "from tools import REPO_ROOT\n\n\ndef f():\n    from tools.smoke import kube\n",
    })
    assert layer_problems(imports(root)) == [
        "tools/base/run.py:5: tools.base.run (layer 0, base) imports tools.smoke.kube of a higher layer (6, smoke)"]


def test_the_checker_finds_an_import_between_the_packages_of_one_layer(tmp_path):
    root = plant(tmp_path, {"tools/bench/__init__.py": "", "tools/mutate/__init__.py": "import tools.bench\n"})
    (problem,) = layer_problems(imports(root))
    assert problem.startswith("tools/mutate/__init__.py:1: tools.mutate imports tools.bench: mutate and bench")


def test_the_checker_finds_a_cycle_through_a_relative_import(tmp_path):
    root = plant(tmp_path, {
        "tools/cluster/__init__.py": "",
        "tools/cluster/a.py": "from tools.cluster import b\n",
        "tools/cluster/b.py": "def late():\n    from . import a\n",
    })
    assert layer_problems(imports(root)) == []
    assert cycles(imports(root)) == [
        "tools.cluster.a -> tools.cluster.b -> tools.cluster.a (tools/cluster/a.py:1, tools/cluster/b.py:2)"]


def test_the_checker_places_every_module(tmp_path):
    root = plant(tmp_path, {"tools/base/__init__.py": "", "tools/stray.py": "", "tools/extras/__init__.py": ""})
    assert unplaced(root) == [
        "tools/extras/__init__.py: tools.extras is in no layer (add its package to LAYERS and the architecture)",
        "tools/stray.py: tools.stray is in no layer (add its package to LAYERS and the architecture)"]
