"""The import graph of the mtsrnn package: no cycles, counting the imports
inside functions (a function-local import hides a cycle from Python's import
machinery, not from the design), and mtsrnn.stages at the bottom.

The source is parsed with `ast`, not imported, so every module is checked,
those that need torch or pyserial included."""

import ast
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "host" / "mtsrnn"
PACKAGE = "mtsrnn"
# Compiled modules of the package (host/src/_core.c): leaves of the graph.
EXTENSIONS = {"mtsrnn._core"}


def module_names():
    """{module name: source path} for every .py file of the package."""
    names = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE_DIR).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join([PACKAGE, *parts])] = path
    return names


def graph_nodes():
    return set(module_names()) | EXTENSIONS


def imports_of(name, path, modules):
    """The package modules `name` imports anywhere in its source (module
    level or inside functions), relative or absolute."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()

    def add(target):
        # `import a.b.c` runs a, a.b and a.b.c: count the deepest package module.
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                base = f"{base}.{node.module}" if node.module else base
            elif node.module and (node.module == PACKAGE
                                  or node.module.startswith(PACKAGE + ".")):
                base = node.module
            else:
                continue
            for alias in node.names:
                # `from . import x`: the submodule x if there is one, else the package.
                submodule = f"{base}.{alias.name}"
                add(submodule if submodule in modules else base)
    return found


def import_graph():
    nodes = graph_nodes()
    return {name: imports_of(name, path, nodes) for name, path in module_names().items()}


def find_cycle(graph):
    """One import cycle as a list of modules (first == last), or None."""
    state = {}  # 1: on the current path, 2: done
    path = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_is_read():
    graph = import_graph()
    assert {"mtsrnn", "mtsrnn.model", "mtsrnn.stages", "mtsrnn.mtsfile",
            "mtsrnn.harness.client"} <= set(graph)
    assert "mtsrnn.stages" in graph["mtsrnn.model"]
    assert "mtsrnn.model" in graph["mtsrnn.mtsfile"]
    # A function-level import counts (cli.py imports the bench inside functions).
    assert "mtsrnn.bench.host" in graph["mtsrnn.cli"] or "mtsrnn.bench" in graph["mtsrnn.cli"]


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_writer_sits_on_the_stage_table():
    """mtsrnn.mtsimage (the .mts writer) reads the stage table and nothing
    above it, so Model, the reader and the tests can all use it."""
    path = module_names()["mtsrnn.mtsimage"]
    assert imports_of("mtsrnn.mtsimage", path, graph_nodes()) == {"mtsrnn.stages"}


def test_stages_is_the_bottom_of_the_package():
    """mtsrnn.stages imports nothing from the package but the C binding."""
    path = module_names()["mtsrnn.stages"]
    assert imports_of("mtsrnn.stages", path, graph_nodes()) == {"mtsrnn._core"}
    tree = ast.parse(path.read_text())
    relative = {(node.level, node.module, alias.name) for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.level
                for alias in node.names}
    assert relative == {(1, None, "_core")}
    absolute = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names if alias.name.startswith(PACKAGE)]
    assert absolute == []
