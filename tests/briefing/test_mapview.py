"""The map the app shows: offline assets, escaped text, layers present."""

from __future__ import annotations

import pytest

from coverage.briefing.assets import AssetError, external_references, local_links
from coverage.briefing.mapview import coverage_map
from coverage.data.dataset import load_dataset
from coverage.engine.analysis import analyse


@pytest.fixture
def cov(tiny_inputs):
    p = tiny_inputs
    return analyse(load_dataset(p["roads"], p["stations"], p["zones"], p["officers"]))


def test_local_assets_leave_no_cdn_links(cov) -> None:
    page = coverage_map(cov, asset_base_url="/app/static").get_root().render()
    assert external_references(page) == []
    assert '<script src="/app/static/leaflet.js"></script>' in page
    assert "/app/static/leaflet.css" in page
    assert "jquery" not in page.lower()


def test_default_map_uses_folium_cdns(cov) -> None:
    # without the option the map is folium's own (used by the HTML export, which inlines)
    page = coverage_map(cov).get_root().render()
    assert any("leaflet" in url for url in external_references(page))


def test_text_from_files_is_escaped(cov) -> None:
    page = coverage_map(cov, asset_base_url="/app/static").get_root().render()
    assert "East <script>" not in page
    # html-escaped before folium's JSON (which writes & as \u0026): the tooltip shows text
    assert "East \\u0026lt;script\\u0026gt;" in page


def test_unknown_cdn_library_is_refused() -> None:
    with pytest.raises(AssetError, match="no offline copy"):
        local_links([("x", "https://cdn.example/x.js")], base_url="/s", kind="js")
    assert local_links([("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"),
                        ("jquery", "https://code.jquery.com/jquery-3.7.1.min.js")],
                       base_url="/s/", kind="js") == [("leaflet", "/s/leaflet.js")]
