"""The package's shape, read from the code with `ast` (issue 12): arrows point down only,
no import cycles (imports inside functions included), and the size rules.

    cli -> claims -> experiments -> harness / bench -> training / evaluation / parallel -> models / data
        -> config / records / stats / timing / recipes

An import `from . import x` is an edge to the submodule `x` when there is one, else to the
package's `__init__`; importing a submodule is not counted as importing its parents.
"""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "alexnet"
LOWER = ("models", "data", "training", "evaluation", "parallel")
UPPER = ("experiments", "harness", "claims", "plots", "bench", "cli", "figures")
MAX_MODULE_LINES, MAX_FUNCTION_LINES, MAX_PARAMETERS = 300, 40, 6


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def targets(node: ast.AST, here: str, is_package: bool, known: set[str]) -> set[str]:
    """The package modules an Import/ImportFrom node loads."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = here.split(".") if is_package else here.split(".")[:-1]
            base = base[:len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix for a in node.names]
    out = set()
    for name in names:
        while name and name not in known:          # import alexnet.models.vgg.x -> the module
            name = name.rpartition(".")[0]
        if name.startswith("alexnet"):
            out.add(name)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    edges = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found |= targets(node, name, is_package, known)
        edges[name] = found - {name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def area(module: str) -> str:
    """alexnet.models.vgg -> models; alexnet.cli -> cli; alexnet -> ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def arrows(edges, sources, forbidden) -> list[str]:
    return sorted(f"{a} -> {b}" for a, bs in edges.items() if area(a) in sources
                  for b in bs if area(b) in forbidden)


def test_the_graph_is_read():
    edges = graph()
    assert edges["alexnet.harness.runner"] >= {"alexnet.records", "alexnet.training.loop"}
    assert "alexnet.harness.runner" in edges["alexnet.experiments.pooling"]


def test_no_import_cycles():
    found = cycles(graph())
    assert not found, "import cycles (imports inside functions included):\n" + "\n".join(
        " <-> ".join(c) for c in found)


def test_lower_layers_do_not_import_upper_ones():
    bad = arrows(graph(), LOWER, UPPER)
    assert not bad, "arrows that run up:\n" + "\n".join(bad)


def test_plots_import_no_models_evaluation_training_or_experiments():
    bad = arrows(graph(), ("plots",), ("models", "evaluation", "training", "experiments"))
    assert not bad, "plots take records and arrays:\n" + "\n".join(bad)


def test_experiments_and_bench_do_not_import_each_other():
    edges = graph()
    bad = arrows(edges, ("experiments",), ("bench",)) + arrows(edges, ("bench",), ("experiments",))
    assert not bad, "\n".join(bad)


def test_modules_are_at_most_300_lines():
    long = sorted(f"{name}: {n} lines" for name, path in modules().items()
                  if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES)
    assert not long, "\n".join(long)


def functions():
    """(module, qualified name, node, inside a dataclass) for every function of the package."""
    for name, path in modules().items():
        tree = ast.parse(path.read_text(), filename=str(path))
        yield from _functions(name, tree, "", False)


def _functions(module, node, prefix, in_dataclass):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield module, prefix + child.name, child, in_dataclass
            yield from _functions(module, child, f"{prefix}{child.name}.", False)
        elif isinstance(child, ast.ClassDef):
            is_dc = any("dataclass" in ast.unparse(d) for d in child.decorator_list)
            yield from _functions(module, child, f"{prefix}{child.name}.", is_dc)
        else:
            yield from _functions(module, child, prefix, in_dataclass)


def test_functions_are_at_most_40_lines():
    long = sorted(f"{m}.{q}: {f.end_lineno - f.lineno + 1} lines" for m, q, f, _ in functions()
                  if f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES)
    assert not long, "\n".join(long)


def parameters(f: ast.FunctionDef) -> list[str]:
    """Positional and keyword-only parameters, without self/cls (nor the `ctx` of a
    torch.autograd.Function, torch's fixed first argument) and without *args/**kwargs."""
    names = [a.arg for a in f.args.posonlyargs + f.args.args + f.args.kwonlyargs]
    return names[1:] if names and names[0] in ("self", "cls", "ctx") else names


def test_functions_take_at_most_6_parameters():
    many = sorted(f"{m}.{q}: {len(parameters(f))} parameters" for m, q, f, dc in functions()
                  if not dc and len(parameters(f)) > MAX_PARAMETERS)
    assert not many, "\n".join(many)


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_experiments_and_their_machinery_read_no_claims():
    """The claims (scorecard, evidence) sit above the experiments that declare them."""
    bad = arrows(graph(), ("experiments", "harness"), ("claims", "cli"))
    assert not bad, "arrows that run up:\n" + "\n".join(bad)
