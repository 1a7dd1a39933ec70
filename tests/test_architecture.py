"""Architecture rules: the domain package never imports the UI, and never coverage.py."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.tiny import ROOT


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_coverage_package_has_no_streamlit() -> None:
    offenders = [p.name for p in (ROOT / "coverage").glob("*.py")
                 if {"streamlit", "streamlit_folium"} & imported_modules(p)]
    assert offenders == []


def test_coverage_is_our_package_not_coverage_py() -> None:
    import coverage

    assert Path(coverage.__file__).resolve().parent == (ROOT / "coverage").resolve()


def test_pyproject_does_not_pull_coverage_py() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    for lock in ("requirements.lock", "requirements-dev.lock"):
        lines = (ROOT / lock).read_text().splitlines()
        assert not [line for line in lines if line.startswith(("coverage==", "pytest-cov=="))]
    assert "pytest-cov" not in text
