"""App tests: every page runs on the demo district without an exception."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECCOV_DEMO", "1")
    # the demo graph compiled by scripts/setup.sh, not a fresh per-test cache
    monkeypatch.delenv("SECCOV_CACHE_DIR")
    monkeypatch.chdir(ROOT)


def test_live_map_page(demo_env) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert "Available units" in labels
    assert "Zones with a gap" in labels
    assert any("SYNTHETIC DEMO DATA" in w.value for w in at.warning)
