"""The demo district is defined once (coverage.data.demo) and says so when it is missing."""

from __future__ import annotations

import pytest

from coverage.data import demo
from coverage.errors import DataError


def test_the_checkout_has_the_demo() -> None:
    assert demo.has_demo()
    files = demo.demo_files()
    assert list(files) == ["roads", "stations", "zones", "officers"]
    assert all(p.is_file() and p.parent == demo.DEMO_DIR for p in files.values())


def test_an_installation_without_the_demo_says_so(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(demo, "DEMO_FILES", {"roads": tmp_path / "roads.osm.pbf"})
    assert not demo.has_demo()
    with pytest.raises(DataError, match=r"not installed.*source checkout, not with the wheel"):
        demo.demo_files()
