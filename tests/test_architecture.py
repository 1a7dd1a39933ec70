"""Architecture rules: layered subpackages, no import circles, thin pages, settings in one place.

The layers (docs/architecture.md): data <- engine <- planning, ops <- briefing <- cli. A module
may import its own layer and the layers below; ``coverage`` never imports ``ui`` or
Streamlit; no two modules import each other, directly or in a ring.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.tiny import ROOT

#: What each layer may import (besides itself and the package root: settings, errors).
ALLOWED = {
    "data": set(),
    "engine": {"data"},
    "planning": {"data", "engine"},
    "ops": {"data", "engine"},
    "briefing": {"data", "engine", "planning", "ops"},
    "cli": {"data", "engine", "planning", "ops", "briefing"},
}
ROOT_MODULES = {"coverage", "coverage.settings", "coverage.errors", "coverage.__main__"}
MAX_PAGE_LINES = 150


def module_name(path: Path, base: Path = ROOT) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path, base: Path = ROOT) -> set[str]:
    """Absolute module names imported by ``path`` (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path, base)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                target = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def package_graph(base: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (``from a import b`` counts a.b if a module)."""
    mods = {module_name(p, base): p for p in (base / "coverage").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for target in imports_of(path, base):
            while target and target not in mods:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                deps.add(target)
        graph[name] = deps
    return graph


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for mod, deps in sorted(graph.items()):
        mine = layer(mod)
        for dep in sorted(deps):
            theirs = layer(dep)
            if mine is None:
                if mod in ROOT_MODULES - {"coverage", "coverage.__main__"} and theirs is not None:
                    out.append(f"{mod} (root) imports {dep}")
                continue
            if theirs is not None and theirs != mine and theirs not in ALLOWED[mine]:
                out.append(f"{mod} (layer {mine}) imports {dep} (layer {theirs})")
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), as sorted lists."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# --- the rules, on the real tree -------------------------------------------------------------

def test_every_layer_is_a_package_and_nothing_else_sits_at_the_root() -> None:
    for name in ALLOWED:
        assert (ROOT / "coverage" / name / "__init__.py").is_file(), name
    loose = sorted(p.stem for p in (ROOT / "coverage").glob("*.py")
                   if p.stem not in {"__init__", "__main__", "settings", "errors"})
    assert loose == []


def test_lower_layers_never_import_higher_ones() -> None:
    assert layer_violations(package_graph()) == []


def test_no_modules_import_each_other() -> None:
    assert cycles(package_graph()) == []


def test_coverage_package_has_no_streamlit_and_no_ui() -> None:
    offenders = []
    for p in (ROOT / "coverage").rglob("*.py"):
        tops = {name.split(".")[0] for name in imports_of(p)}
        if tops & {"streamlit", "streamlit_folium", "ui", "pages"}:
            offenders.append(module_name(p))
    assert offenders == []


def long_pages(folder: Path) -> dict[str, int]:
    """Page scripts over :data:`MAX_PAGE_LINES` lines, with their length."""
    return {p.name: n for p in sorted(folder.glob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_PAGE_LINES}


def test_pages_are_thin_scripts_and_helpers_live_in_ui() -> None:
    pages = sorted((ROOT / "pages").glob("*.py"))
    assert pages, "no page scripts"
    helpers = [p.name for p in pages if p.name.startswith("_") and p.name != "__init__.py"]
    assert helpers == []
    assert long_pages(ROOT / "pages") == {}


def test_seccov_settings_are_read_only_in_settings() -> None:
    pattern = re.compile(r"""(environ|getenv)\b[^\n]*["']SECCOV_""")
    readers = sorted(str(p.relative_to(ROOT))
                     for folder in ("coverage", "ui", "pages")
                     for p in (ROOT / folder).rglob("*.py")
                     if pattern.search(p.read_text(encoding="utf-8")))
    readers += [name for name in ("app.py",)
                if pattern.search((ROOT / name).read_text(encoding="utf-8"))]
    assert readers == ["coverage/settings.py"]


# --- the checks themselves fail when they should -----------------------------------------

def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_a_lower_layer_importing_a_higher_one_is_caught(tmp_path: Path) -> None:
    base = _tree(tmp_path, {
        "coverage/__init__.py": "",
        "coverage/data/__init__.py": "",
        "coverage/data/loaders.py": "from coverage.engine.analysis import analyse\n",
        "coverage/engine/__init__.py": "",
        "coverage/engine/analysis.py": "from coverage.data import loaders\n",
        "coverage/planning/__init__.py": "",
        "coverage/planning/whatif.py": "from ..briefing.brief import key_figures\n",
        "coverage/briefing/__init__.py": "",
        "coverage/briefing/brief.py": "key_figures = 1\n",
    })
    graph = package_graph(base)
    assert layer_violations(graph) == [
        "coverage.data.loaders (layer data) imports coverage.engine.analysis (layer engine)",
        "coverage.planning.whatif (layer planning) imports coverage.briefing.brief "
        "(layer briefing)",
    ]
    assert cycles(graph) == [["coverage.data.loaders", "coverage.engine.analysis"]]


def test_a_ring_of_three_modules_is_caught(tmp_path: Path) -> None:
    base = _tree(tmp_path, {
        "coverage/__init__.py": "",
        "coverage/ops/__init__.py": "",
        "coverage/ops/a.py": "from coverage.ops import b\n",
        "coverage/ops/b.py": "import coverage.ops.c\n",
        "coverage/ops/c.py": "from coverage.ops.a import x\n",
    })
    assert cycles(package_graph(base)) == [["coverage.ops.a", "coverage.ops.b", "coverage.ops.c"]]


@pytest.mark.parametrize(("lines", "caught"), [(150, False), (151, True)])
def test_a_long_page_is_caught(tmp_path: Path, lines: int, caught: bool) -> None:
    (tmp_path / "page.py").write_text("x = 1\n" * lines, encoding="utf-8")
    assert long_pages(tmp_path) == ({"page.py": lines} if caught else {})


# --- the package is ours ---------------------------------------------------------------------

def test_coverage_is_our_package_not_coverage_py() -> None:
    import coverage

    assert Path(coverage.__file__).resolve().parent == (ROOT / "coverage").resolve()


def test_pyproject_does_not_pull_coverage_py() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    for lock in ("requirements.lock", "requirements-dev.lock"):
        lines = (ROOT / lock).read_text().splitlines()
        assert not [line for line in lines if line.startswith(("coverage==", "pytest-cov=="))]
    assert "pytest-cov" not in text


def test_old_module_paths_are_aliases_of_the_new_ones() -> None:
    import importlib

    import coverage

    for old, new in coverage.MOVED_MODULES.items():
        assert importlib.import_module(f"coverage.{old}") is importlib.import_module(
            f"coverage.{new}"), old
    from coverage.analysis import suspend  # the README of before the move named this path

    from coverage.engine.analysis import suspend as moved

    assert suspend is moved


def test_public_names_and_layers_are_reachable_from_the_package() -> None:
    """Every name of ``coverage.__all__`` imports (the engine's lazily), ``dir`` lists them,
    and the layers are attributes of the package as they were before the lazy imports."""
    import importlib

    import coverage

    for name in coverage.__all__:
        assert getattr(coverage, name) is not None, name
        assert name in dir(coverage)
    for layer in ("data", "engine", "planning", "ops", "briefing", "cli"):
        assert getattr(coverage, layer) is importlib.import_module(f"coverage.{layer}")
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = coverage.nothing
