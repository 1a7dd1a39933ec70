"""Exports: offline HTML, PNG (Chromium and the matplotlib fallback), PDF, redaction, CLI."""

from __future__ import annotations

import io
import json
import os
import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from coverage import analyse, load_dataset, report_dict, suspend
from coverage.briefing.assets import AssetError, offline_html, static_files
from coverage.briefing.brief import DISPLACE_MIN_M, build_brief
from coverage.briefing.export import ExportError, export_html, export_pdf, export_png, render_map
from coverage.briefing.mapview import coverage_map
from coverage.cli.main import main
from coverage.settings import HANDLING_MARKING
from tests.support.tiny import haversine_m, write

XSS = "<script>alert(1)</script>"
B_OWN = (71.502, 34.001)  # officer B's own position


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SECCOV_TILES_URL", "SECCOV_PNG_RENDERER", "SECCOV_CHROMIUM"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def inputs(tiny_inputs, tmp_path):
    """tiny_inputs with hostile and non-Latin zone names."""
    zones = json.loads(tiny_inputs["zones"].read_text())
    zones["features"][0]["properties"]["name"] = f"{XSS} Qissa Khwani پشاور 北京"
    zones["features"][1]["properties"]["name"] = "West Ūrdū ✓"
    return {**tiny_inputs, "zones": write(tmp_path / "zones_x.geojson", json.dumps(zones))}


def make_brief(p, redact="stations", **kw):
    ds = load_dataset(p["roads"], p["stations"], p["zones"], p["officers"])
    base = analyse(ds)
    return build_brief(suspend(base, ["B"]), baseline=base, redact=redact, seed=5,
                       suspension_source="suspend.csv", title="Night shift <b>brief</b>",
                       created=datetime(2026, 11, 25, 8, 0, tzinfo=timezone(timedelta(hours=5))),
                       **kw)


def chromium_or_skip() -> None:
    """Browser tests skip without Chromium, except in CI (CI=true), where they must fail."""
    exe = Path("/usr/bin/chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the playwright package"
    else:
        missing = "" if exe.is_file() else str(exe)
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: {missing} is missing; browser tests must run in CI")
        pytest.skip(f"{missing} is missing")


class Refs(HTMLParser):
    """Collects what a page would load: script src, link href, CSS url() and @import."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.style = False

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"])
        self.style = tag == "style"

    def handle_data(self, data) -> None:
        if self.style:
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)
            self.urls += re.findall(r"@import\s+['\"]([^'\"]+)", data)


def web_refs(page: str) -> list[str]:
    parser = Refs()
    parser.feed(page)
    return [u for u in parser.urls if re.match(r"(?i)(https?:)?//", u)]


def geojson_coords(page: str) -> list[tuple[float, float]]:
    """Every coordinate pair of every GeoJSON object the page adds to the map."""
    out: list[tuple[float, float]] = []

    def walk(c) -> None:
        if isinstance(c, list) and len(c) == 2 and all(isinstance(v, float | int) for v in c):
            out.append((float(c[0]), float(c[1])))
        elif isinstance(c, list):
            for item in c:
                walk(item)

    blobs = re.findall(r"_add\((\{.*?\})\);\n", page)
    assert blobs
    for blob in blobs:
        for f in json.loads(blob)["features"]:
            walk(f["geometry"]["coordinates"])
    return out


def officer_layer(page: str) -> list[dict]:
    for blob in re.findall(r"_add\((\{.*?\})\);\n", page):
        feats = json.loads(blob)["features"]
        if feats and "officer_id" in feats[0]["properties"]:
            return feats
    return []


def near(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) < 1e-6 and abs(a[1] - b[1]) < 1e-6


# ---------------------------------------------------------------- HTML


def test_html_is_offline_and_escaped(inputs) -> None:
    page = export_html(make_brief(inputs)).decode("utf-8")
    assert web_refs(page) == []
    assert "cdn.jsdelivr" not in page
    assert "jquery" not in page.lower()
    assert "L.map(" in page
    assert 'version="1.9.3"' in page or "1.9.3" in page  # Leaflet inlined
    assert XSS not in page
    assert "alert(1)" in page  # present, but only escaped
    assert "<b>brief</b>" not in page
    assert HANDLING_MARKING in page or json.dumps(HANDLING_MARKING)[1:-1] in page
    assert "window.seccovReady" in page


def test_html_with_tiles_references_only_the_tile_server(inputs) -> None:
    url = "https://tiles.example.invalid/{z}/{x}/{y}.png"
    page = export_html(make_brief(inputs), tiles_url=url).decode("utf-8")
    assert web_refs(page) == []
    others = set(re.findall(r"https?://[\w.-]+", page)) - {
        "https://tiles.example.invalid", "http://www.w3.org", "https://leafletjs.com",
        "https://bugzilla.mozilla.org"}  # the last three: Leaflet's code and comments
    assert others == set()


@pytest.mark.parametrize("redact", ["stations", "displace"])
def test_redacted_html_holds_no_officer_coordinates(inputs, redact) -> None:
    brief = make_brief(inputs, redact=redact)
    page = export_html(brief).decode("utf-8")
    coords = geojson_coords(page)
    assert not any(near(c, B_OWN) for c in coords)
    true = brief.coverage.dataset.officers.set_index("officer_id").geometry
    for f in officer_layer(page):
        x, y = f["geometry"]["coordinates"]
        oid = f["properties"]["officer_id"]
        assert haversine_m(true[oid].x, true[oid].y, x, y) >= DISPLACE_MIN_M * 0.999
    if redact == "stations":
        assert officer_layer(page) == []
        assert "Officer B" not in page


def test_unredacted_html_shows_exact_positions(inputs) -> None:
    page = export_html(make_brief(inputs, redact="none")).decode("utf-8")
    assert any(near(c, B_OWN) for c in geojson_coords(page))


def test_coverage_map_default_is_unchanged(inputs) -> None:
    brief = make_brief(inputs, redact="none")
    page = coverage_map(brief.coverage).get_root().render()
    assert any(near(c, B_OWN) for c in geojson_coords(page))
    assert '"place": "own position"' in page


def test_coverage_map_with_an_empty_officer_layer(inputs) -> None:
    brief = make_brief(inputs)
    page = coverage_map(brief.coverage, officers=brief.officers.iloc[0:0],
                        officers_name="Officers per station").get_root().render()
    assert "Officers per station" in page
    assert not any(near(c, B_OWN) for c in geojson_coords(page))


def test_assets() -> None:
    files = static_files()
    assert {"leaflet.js", "leaflet.css", "images/layers.png"} <= set(files)
    js = '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
    assert offline_html(f"<html><head>{js}</head><body></body></html>").count("jquery") == 0
    with pytest.raises(AssetError, match="jquery"):
        offline_html(f"<html><head>{js}</head><script>$(document).ready(f);</script></html>")
    with pytest.raises(AssetError, match="no offline copy"):
        offline_html('<head><script src="https://cdn.example/other.js"></script></head>')


# ---------------------------------------------------------------- PNG


def colours(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as img:
        return len(img.convert("RGB").getcolors(maxcolors=1 << 20) or [])


def test_matplotlib_png_by_parameter(inputs) -> None:
    image = render_map(make_brief(inputs), width_px=640, height_px=400, renderer="matplotlib")
    with Image.open(io.BytesIO(image.png)) as img:
        assert img.size == (640, 400)
        assert "matplotlib" in img.text["Renderer"]
        assert img.text["Disclaimer"] == HANDLING_MARKING
    assert image.renderer == "matplotlib"
    assert colours(image.png) >= 5
    sharp = render_map(make_brief(inputs), width_px=320, height_px=200, scale=2,
                       renderer="matplotlib")
    assert Image.open(io.BytesIO(sharp.png)).size == (640, 400)


def test_matplotlib_png_by_env_and_missing_browser(inputs, monkeypatch, caplog) -> None:
    monkeypatch.setenv("SECCOV_PNG_RENDERER", "matplotlib")
    png = export_png(make_brief(inputs), width_px=300, height_px=200)
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (300, 200)
    monkeypatch.setenv("SECCOV_PNG_RENDERER", "auto")
    monkeypatch.setenv("SECCOV_CHROMIUM", "/nonexistent/chromium")
    image = render_map(make_brief(inputs), width_px=300, height_px=200)
    assert image.renderer == "matplotlib"
    assert "no browser at /nonexistent/chromium" in (image.note or "")
    assert "drawing a static matplotlib map instead" in caplog.text
    with pytest.raises(ExportError, match="no browser"):
        render_map(make_brief(inputs), width_px=300, height_px=200, renderer="chromium")


def test_chromium_png(inputs) -> None:
    chromium_or_skip()
    image = render_map(make_brief(inputs), width_px=800, height_px=500, renderer="chromium")
    assert image.renderer == "chromium"
    with Image.open(io.BytesIO(image.png)) as img:
        assert img.size == (800, 500)
        assert "Chromium" in img.text["Renderer"]
    assert colours(image.png) >= 5


def test_chromium_png_waits_for_tiles(inputs) -> None:
    """With a basemap, the snapshot waits for the tiles (served here on loopback)."""
    chromium_or_skip()
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (250, 200, 40)).save(buf, format="PNG")
    tile, served = buf.getvalue(), []

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile)))
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Tiles) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
        try:
            image = render_map(make_brief(inputs), width_px=400, height_px=300,
                               renderer="chromium", tiles_url=url)
        finally:
            server.shutdown()
    assert served
    with Image.open(io.BytesIO(image.png)) as img:
        assert (250, 200, 40) in {c for _, c in img.convert("RGB").getcolors(1 << 20)}


# ---------------------------------------------------------------- PDF


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


def test_pdf_figures_names_and_no_coordinates(inputs) -> None:
    brief = make_brief(inputs)
    n, text = pdf_text(export_pdf(brief, renderer="matplotlib"))
    assert n in (1, 2)
    flat = " ".join(text.split())
    assert brief.title in flat
    assert HANDLING_MARKING in flat
    assert "Prepared 25 Nov 2026 08:00 PKT (Asia/Karachi, UTC+05:00)" in flat
    assert "1 officer suspended (list: suspend.csv); threshold 10 min" in flat
    assert "tiny.osm" in flat
    assert "zones_x.geojson" in flat
    assert XSS in flat  # plain text in a PDF, never markup
    assert "Qissa Khwani" in flat
    assert "??" in flat  # CJK is not in DejaVu Sans: printed as '?', never a crash
    rep = report_dict(brief.coverage)
    assert f"Available units 3 {rep['units']['available']}" in flat
    assert f"{rep['overall']['covered_share']:.1%}" in flat
    assert "Static" not in flat or "matplotlib" in flat
    for value in (str(B_OWN[0]), str(B_OWN[1]), "Officer B"):
        assert value not in flat


def test_chromium_pdf(inputs) -> None:
    chromium_or_skip()
    n, text = pdf_text(export_pdf(make_brief(inputs), renderer="chromium"))
    assert n == 2
    assert "headless Chromium" in text


# ---------------------------------------------------------------- CLI


def cli(p, out, *extra) -> list[str]:
    return ["-q", "brief", "--roads", str(p["roads"]), "--stations", str(p["stations"]),
            "--zones", str(p["zones"]), "--officers", str(p["officers"]),
            "--suspend", str(p["suspend"]), "--out", str(out), *extra]


def test_cli_bad_suffix_exit_2(inputs, tmp_path, capsys) -> None:
    assert main(cli(inputs, tmp_path / "brief.docx")) == 2
    err = capsys.readouterr().err
    assert "error: --out brief.docx" in err
    assert ".png, .html or .pdf" in err
    assert "Traceback" not in err
    assert not (tmp_path / "brief.docx").exists()


def test_cli_writes_html_and_fallback_png(inputs, tmp_path, capsys) -> None:
    assert main(cli(inputs, tmp_path / "b.html")) == 0
    assert "offline HTML map" in capsys.readouterr().out
    assert web_refs((tmp_path / "b.html").read_text(encoding="utf-8")) == []
    assert main(cli(inputs, tmp_path / "b.png", "--renderer", "matplotlib",
                    "--width-px", "400", "--height-px", "300")) == 0
    captured = capsys.readouterr()
    assert "note: static matplotlib rendering" in captured.err
    assert "wrote" in captured.out
    with Image.open(tmp_path / "b.png") as img:
        assert img.size == (400, 300)


def test_export_draws_what_the_screen_drew(inputs) -> None:
    from coverage.briefing.export import legend_items
    from coverage.briefing.layers import node_grid, service_area, start_node

    ds = load_dataset(inputs["roads"], inputs["stations"], inputs["zones"], inputs["officers"])
    base = analyse(ds, threshold_min=1.0)
    after = suspend(base, ["A", "B"])  # Z2 (West) falls below target
    node, label = start_node(after, station_id="S1")
    area = service_area(node_grid(ds.network, cell_m=30.0), node, minutes=1.0).area
    title = f"Service area of <i>{label}</i>"
    brief = build_brief(after, baseline=base, areas=((title, area),), seed=1)
    assert brief.marks_new_gaps
    page = export_html(brief).decode("utf-8")
    assert "<i>station S1</i>" not in page
    assert "Service area of \\u0026lt;i\\u0026gt;station S1" in page
    newly = set(after.table.loc[after.table["gap"], "zone_id"]) - set(
        base.table.loc[base.table["gap"], "zone_id"])
    assert newly == {"Z2"}
    assert page.count('"change": "newly below target"') == len(newly)
    labels = [text for _, text in legend_items(brief)]
    assert title in labels
    assert any("newly below target" in t for t in labels)
    png = render_map(brief, width_px=400, height_px=300, renderer="matplotlib").png
    assert colours(png) >= 5
    odd = build_brief(after, baseline=base, areas=(("cost $5 and $x^{$", area),), seed=1)
    assert colours(render_map(odd, width_px=400, height_px=300,
                              renderer="matplotlib").png) >= 5  # no mathtext, no crash
    plain = build_brief(base)  # nothing suspended: nothing to outline
    assert not plain.marks_new_gaps
    assert not any("newly" in t for _, t in legend_items(plain))
