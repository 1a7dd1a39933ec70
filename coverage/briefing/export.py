"""Export: a :class:`~coverage.briefing.brief.Brief` written as PNG map, standalone HTML map or PDF.

Each writer returns bytes (the app's download buttons call the same functions):

- :func:`export_html`: the coverage map as one file that opens offline (Leaflet inlined).
- :func:`export_png`: that map rendered in headless Chromium through Playwright; where no
  browser (or no Playwright) is available, a static matplotlib drawing instead, which the
  PNG's ``Renderer`` text chunk and :attr:`MapImage.note` say.
- :func:`export_pdf`: a one- or two-page briefing with figures, top gaps, map and legend.

Every export carries the handling marking; text from data files is escaped (HTML) or set
as plain text (PDF, PNG).
"""

from __future__ import annotations

import base64
import html
import io
import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from branca.element import Element, MacroElement
from jinja2 import Template

from coverage import settings
from coverage.briefing.assets import offline_html
from coverage.briefing.brief import Brief, figure_rows
from coverage.briefing.mapview import coverage_map, service_area_group
from coverage.errors import CoverageError

logger = logging.getLogger(__name__)

Renderer = Literal["auto", "chromium", "matplotlib"]
#: Debian's Chromium; ``SECCOV_CHROMIUM`` names another executable. Never downloaded.
CHROMIUM_PATH: Final[str] = "/usr/bin/chromium"
CHROMIUM_ARGS: Final[tuple[str, ...]] = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
#: Longest wait for the map to report that it has finished drawing, in seconds.
READY_TIMEOUT_S: Final[float] = 30.0
FORMATS: Final[tuple[str, ...]] = (".png", ".html", ".pdf")


class ExportError(CoverageError, RuntimeError):
    """An export cannot be written as asked (bad file name, renderer unavailable)."""


@dataclass(frozen=True)
class MapImage:
    """A rendered map: PNG bytes, the renderer used and, for a fallback, why."""

    png: bytes
    renderer: Literal["chromium", "matplotlib"]
    width_px: int
    height_px: int
    note: str | None = None

    @property
    def description(self) -> str:
        """One line for people: which renderer drew the map, and why if it fell back."""
        if self.renderer == "chromium":
            return "map rendered in headless Chromium (the app's map)"
        why = f": {self.note}" if self.note else ""
        return f"static matplotlib rendering of the map (fallback{why})"


class _ReadyFlag(MacroElement):
    """Sets ``window.seccovReady`` once every layer is drawn and tiles have loaded or failed."""

    _template = Template("""{% macro script(this, kwargs) %}
(function (map) {
  var tiles = [];
  map.eachLayer(function (l) { if (l instanceof L.TileLayer) { tiles.push(l); } });
  function done() { window.seccovReady = true; }
  function check() {
    var imgs = Array.prototype.slice.call(document.images);
    if (!imgs.every(function (i) { return i.complete; })) { setTimeout(check, 20); return; }
    if (tiles.every(function (l) { return !l.isLoading(); })) {
      requestAnimationFrame(function () { requestAnimationFrame(done); });
    }
  }
  tiles.forEach(function (l) { l.on("load tileerror", check); });
  map.whenReady(check);
})({{ this._parent.get_name() }});
{% endmacro %}""")


#: Width of the briefing panel beside the map (CSS px).
PANEL_PX: Final[int] = 330


class _Overlay(MacroElement):
    """Marking banners, the district inset and the briefing panel, built with textContent.

    With a panel, the map is narrowed and the panel stands beside it (never over it); the
    inset is in the panel. Without, the inset sits in the map's lower right corner.
    """

    _template = Template("""{% macro script(this, kwargs) %}
(function (map, d) {
  var box = map.getContainer();
  function el(tag, parent, text, css) {
    var e = document.createElement(tag); if (text !== null) { e.textContent = text; }
    if (css) { e.style.cssText = css; } parent.appendChild(e); return e;
  }
  var band = "position:absolute;left:50%;transform:translateX(-50%);z-index:1000;" +
    "background:rgba(255,255,255,.9);color:#a40e26;font:bold 12px sans-serif;" +
    "padding:2px 8px;border-radius:3px;pointer-events:none;white-space:nowrap;";
  el("div", box, d.marking, band + "top:6px;");
  el("div", box, d.title, band + "top:26px;color:#24292f;font-weight:normal;");
  el("div", box, d.marking, band + "bottom:22px;");
  function inset(parent, css) {
    var i = el("img", parent, null, css);
    i.alt = "District overview: the black frame is the map's view"; i.src = d.inset;
    i.className = "seccov-inset";
  }
  if (!d.panel) {
    if (d.inset) {
      inset(box, "position:absolute;right:8px;bottom:44px;z-index:1000;width:" +
            d.insetPx + "px;border:1px solid #57606a;background:#fff;pointer-events:none;");
    }
    return;
  }
  // A column whose inset shrinks to the room left; the last marking is pinned to the
  // bottom, so a tall panel (many figures) never pushes it out of a static image.
  var p = el("aside", document.body, null, "position:absolute;top:0;right:0;bottom:0;" +
    "width:" + d.panelPx + "px;box-sizing:border-box;overflow:hidden;background:#fff;" +
    "border-left:1px solid #d0d7de;font:12px sans-serif;color:#1f2328;" +
    "padding:8px 10px 30px 10px;display:flex;flex-direction:column;");
  p.className = "seccov-panel";
  el("div", p, d.marking, "color:#a40e26;font-weight:bold;text-align:center;");
  el("h1", p, d.title, "font-size:17px;margin:6px 0 2px 0;");
  el("div", p, d.created, "color:#57606a;");
  el("div", p, d.scenario, "margin:6px 0;");
  function table(rows, head) {
    var t = el("table", p, null, "border-collapse:collapse;width:100%;margin:4px 0;" +
               "flex-shrink:0;");
    rows.forEach(function (r, i) {
      var tr = el("tr", t, null, i === 0 && head ? "font-weight:bold;" : "");
      r.forEach(function (c, j) {
        el("td", tr, c, "padding:1px 4px 1px 0;border-bottom:1px solid #eaeef2;" +
           (j > 0 ? "text-align:right;" : ""));
      });
    });
  }
  el("div", p, "Key figures", "font-weight:bold;margin-top:6px;");
  table(d.rows, true);
  if (d.gaps.length > 1) {
    el("div", p, "Most urgent gaps", "font-weight:bold;margin-top:6px;");
    table(d.gaps, true);
  }
  if (d.expectedNote) { el("div", p, d.expectedNote, "margin-top:4px;color:#57606a;"); }
  el("div", p, "Legend", "font-weight:bold;margin-top:6px;");
  d.legend.forEach(function (l) {
    var row = el("div", p, null, "margin-top:2px;");
    el("span", row, "", "display:inline-block;width:10px;height:10px;margin-right:6px;" +
       "border:1px solid #24292f;vertical-align:middle;background:" + l[0] + ";");
    el("span", row, l[1], "");
  });
  el("div", p, d.redaction, "margin-top:6px;color:#57606a;");
  if (d.inset) {
    var room = el("div", p, null, "flex:1 1 auto;min-height:0;display:flex;" +
                  "justify-content:center;align-items:flex-start;margin-top:8px;");
    inset(room, "display:block;max-width:" + d.insetPx + "px;max-height:100%;" +
          "width:auto;height:auto;object-fit:contain;border:1px solid #57606a;");
  }
  el("div", p, d.marking, "position:absolute;left:0;right:0;bottom:0;color:#a40e26;" +
     "font-weight:bold;text-align:center;background:#fff;padding:6px 0 8px 0;");
})({{ this._parent.get_name() }}, {{ this.data|tojson }});
{% endmacro %}""")

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self.data = data


def legend_items(brief: Brief) -> list[tuple[str, str]]:
    """``(colour, label)`` pairs explaining the map's symbols."""
    from coverage.briefing.mapview import (
        AREA_COLOR,
        GAP_COLOR,
        NEW_GAP_COLOR,
        OK_COLOR,
        STATUS_STYLE,
    )

    items = [(GAP_COLOR, "Zone with a gap (not all covered in time, or too few officers)"),
             (OK_COLOR, "Zone covered within its target"),
             ("#ffffff", "Police station"), ("#8c959f", "Main road")]
    if brief.marks_new_gaps:
        items.insert(1, (NEW_GAP_COLOR, "Zone newly below target (black dashed outline)"))
    items += [(AREA_COLOR, label) for label, _ in brief.areas]
    if brief.redact == "stations":
        items += [(STATUS_STYLE["on_duty"]["color"],
                   "Officers per station (size: officers; some on duty)"),
                  (STATUS_STYLE["off_duty"]["color"], "Station with no officer on duty")]
    else:
        items += [(s["color"], f"Officer: {s['label'].lower()}") for s in STATUS_STYLE.values()]
    return items


def _gap_rows(brief: Brief, n: int = 5) -> list[list[str]]:
    g = brief.top_gaps.head(n)
    if brief.expected is not None:  # each listed zone's expected covered share beside it
        rows = [["Zone", "P", "Covered", "Expected", "Officers"]]
        rows += [[f"{z} {name}"[:28], p, c, e, o] for z, name, p, c, e, o in zip(
            g["zone_id"], g["name"], g["priority"], g["covered"], g["expected"],
            g["officers"], strict=True)]
        return rows
    rows = [["Zone", "P", "Covered", "Officers"]]
    rows += [[f"{z} {name}"[:34], p, c, o] for z, name, p, c, o in zip(
        g["zone_id"], g["name"], g["priority"], g["covered"], g["officers"], strict=True)]
    return rows


def map_page(
    brief: Brief, *, height_px: int | None = None, panel: bool = False,
    tiles_url: str | None = None, snapshot: bool = False,
) -> str:
    """Return the briefing's folium map as one offline HTML page (Leaflet inlined).

    ``height_px=None`` fills the browser window. ``tiles_url`` (default: the
    ``SECCOV_TILES_URL`` environment variable, as in the app; ``""``: none) adds a basemap;
    the page then loads tiles from that server, its only network reference.
    ``snapshot`` turns Leaflet's animations off, so the view is final once drawn.
    """
    options: dict[str, Any] = {"zoom_snap": 0.1}
    if snapshot:
        options |= {"zoom_animation": False, "fade_animation": False,
                    "marker_zoom_animation": False}
    m = coverage_map(brief.coverage, tiles_url=_tiles(tiles_url), height_px=height_px or 640,
                     officers=brief.officers, officers_name=brief.officers_name,
                     bounds=brief.extent, map_options=options,
                     baseline=brief.baseline if brief.marks_new_gaps else None,
                     extra=[service_area_group(area, label=label)
                            for label, area in brief.areas], controls=not snapshot)
    root = m.get_root()
    if panel:  # the map beside the panel, never under it
        root.header.add_child(Element(  # type: ignore[attr-defined]
            "<style>html, body { margin: 0; height: 100%; }\n"
            ".folium-map { position: absolute !important; left: 0 !important; "
            "top: 0 !important; bottom: 0 !important; "
            f"right: {PANEL_PX}px !important; width: auto !important; "
            "height: auto !important; }</style>"))
    elif height_px is None:
        root.header.add_child(Element(  # type: ignore[attr-defined]
            "<style>.folium-map { height: 100% !important; }</style>"))
    root.header.add_child(Element(  # type: ignore[attr-defined]
        '<meta name="robots" content="noindex, nofollow" />'))
    rows = [["", "Baseline", "Scenario"],
            *map(list, figure_rows(brief.before, brief.after, brief.expected))]
    from coverage.briefing._staticmap import inset_png

    inset_px = 200 if panel else 150
    inset = inset_png(brief, size_px=inset_px * 2) if brief.district is not None else None
    _Overlay({
        "marking": brief.handling, "title": brief.title, "panel": panel,
        "created": f"Prepared {brief.created_text}", "scenario": brief.scenario,
        "rows": rows, "gaps": _gap_rows(brief), "redaction": brief.redaction_note,
        "legend": [list(item) for item in legend_items(brief)], "panelPx": PANEL_PX,
        "inset": None if inset is None else
        "data:image/png;base64," + base64.b64encode(inset).decode("ascii"),
        "insetPx": inset_px,
    } | ({} if brief.expected is None else {"expectedNote": brief.expected.note})).add_to(m)
    _ReadyFlag().add_to(m)
    page = root.render()
    if "<title>" not in page:  # names the window and tab when the file is opened
        page = page.replace("<head>", f"<head>\n<title>{html.escape(brief.title)}</title>", 1)
    return offline_html(page)


def _tiles(tiles_url: str | None) -> str:
    """The basemap template in effect: the argument, else ``SECCOV_TILES_URL``, else none."""
    return tiles_url if tiles_url is not None else settings.tiles_url()


def _tile_pattern(template: str) -> re.Pattern[str] | None:
    """A pattern matching the tile URLs of ``template`` (``{s}``, ``{z}`` ... as wildcards)."""
    if not template:
        return None
    parts = re.split(r"(\{[^}]*\})", template)
    return re.compile("^" + "".join("[^/?#]+" if p.startswith("{") else re.escape(p)
                                    for p in parts if p) + "$")


def export_html(brief: Brief, *, tiles_url: str | None = None) -> bytes:
    """Return the standalone HTML map (UTF-8): opens offline, marking and figures on it.

    ``tiles_url``: see :func:`map_page`; without a basemap the file refers to no server.
    """
    return map_page(brief, panel=True, tiles_url=tiles_url).encode("utf-8")


def _chromium_png(page: str, width_px: int, height_px: int, *, scale: float,
                  tiles_url: str | None, timeout_s: float) -> bytes:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    exe = settings.chromium_path(CHROMIUM_PATH)
    if not Path(exe).is_file():
        msg = f"no browser at {exe}"
        raise ExportError(msg)
    allowed = _tile_pattern(_tiles(tiles_url))
    with tempfile.TemporaryDirectory(prefix="seccov-png-") as tmp:
        html_path = Path(tmp) / "map.html"
        html_path.write_text(page, encoding="utf-8")
        try:
            with sync_playwright() as pw:
                ctx = pw.chromium.launch_persistent_context(
                    str(Path(tmp) / "profile"), executable_path=exe, headless=True,
                    args=list(CHROMIUM_ARGS), viewport={"width": width_px, "height": height_px},
                    device_scale_factor=scale, offline=allowed is None,
                )
                try:
                    ctx.route(re.compile(r"^https?://", re.IGNORECASE), lambda route: (
                        route.continue_() if allowed and allowed.match(route.request.url)
                        else route.abort()))
                    tab = ctx.new_page()
                    tab.goto(html_path.as_uri(), wait_until="load")
                    tab.wait_for_function("window.seccovReady === true",
                                          timeout=timeout_s * 1000)
                    return tab.screenshot(type="png", full_page=False)
                finally:
                    ctx.close()
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            msg = f"headless Chromium failed: {first}"
            raise ExportError(msg) from exc


def _with_text(png: bytes, text: dict[str, str]) -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    out = io.BytesIO()
    with Image.open(io.BytesIO(png)) as img:
        img.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def render_map(
    brief: Brief, *, width_px: int = 1200, height_px: int = 800, scale: int = 1,
    renderer: Renderer | None = None, tiles_url: str | None = None,
    timeout_s: float = READY_TIMEOUT_S, panel: bool = True,
) -> MapImage:
    """Render the briefing's map as a PNG of exactly ``width_px`` x ``height_px`` x ``scale``.

    The map is laid out for ``width_px`` x ``height_px`` CSS pixels and drawn ``scale``
    times as dense (``scale=2``: a sharp image for print, same view and label sizes).

    ``renderer``: ``auto`` (default, or the ``SECCOV_PNG_RENDERER`` environment variable)
    tries headless Chromium and falls back to matplotlib, noting why; ``chromium`` raises
    :class:`ExportError` instead of falling back; ``matplotlib`` skips the browser.
    The screenshot is taken when the page reports every layer drawn, not after a sleep.
    ``panel`` (default) puts the title, local time, key figures, gaps, legend, inset and
    marking in a panel beside the map (the PNG stands alone); the PDF's map leaves it out
    (its pages carry them).
    """
    choice = renderer or settings.png_renderer()
    if choice not in ("auto", "chromium", "matplotlib"):
        msg = f"renderer must be auto, chromium or matplotlib, got {choice!r}"
        raise ExportError(msg)
    if not (100 <= width_px <= 8000 and 100 <= height_px <= 8000 and scale in (1, 2, 3)):
        msg = (f"map size must be 100-8000 px each way at scale 1, 2 or 3, got "
               f"{width_px}x{height_px} at {scale}")
        raise ExportError(msg)
    note: str | None = "matplotlib renderer requested" if choice == "matplotlib" else None
    if choice != "matplotlib":
        try:
            page = map_page(brief, height_px=height_px, tiles_url=_tiles(tiles_url),
                            snapshot=True, panel=panel)
            png = _chromium_png(page, width_px, height_px, scale=scale, tiles_url=tiles_url,
                                timeout_s=timeout_s)
            image = MapImage(png, "chromium", width_px * scale, height_px * scale)
        except ImportError:
            note = "the playwright package is not installed"
        except ExportError as exc:
            if choice == "chromium":
                raise
            note = str(exc)
        else:
            return _stamped(brief, image)
        if choice == "chromium":
            raise ExportError(note)
        logger.warning("PNG map: %s; drawing a static matplotlib map instead", note)
    from coverage.briefing._staticmap import static_map_png

    png = static_map_png(brief, width_px=width_px, height_px=height_px, scale=scale,
                         legend=legend_items(brief), panel=panel)
    return _stamped(brief, MapImage(png, "matplotlib", width_px * scale, height_px * scale,
                                    note))


def _stamped(brief: Brief, image: MapImage) -> MapImage:
    text = {
        "Title": brief.title, "Creation Time": brief.created_iso, "Software": "seccov",
        "Disclaimer": brief.handling, "Description": brief.scenario,
        "Renderer": image.description, "Redaction": brief.redaction_note,
    }
    return MapImage(_with_text(image.png, text), image.renderer, image.width_px,
                    image.height_px, image.note)


def export_png(brief: Brief, *, width_px: int = 1200, height_px: int = 800,
               renderer: Renderer | None = None) -> bytes:
    """Return the map as PNG bytes (see :func:`render_map`)."""
    return render_map(brief, width_px=width_px, height_px=height_px, renderer=renderer).png


def export_pdf(brief: Brief, *, map_image: MapImage | None = None,
               renderer: Renderer | None = None) -> bytes:
    """Return the PDF briefing; ``map_image`` defaults to :func:`pdf_map`."""
    from coverage.briefing._pdf import brief_pdf

    if map_image is None:
        map_image = pdf_map(brief, renderer=renderer)
    return brief_pdf(brief, map_image.png, map_caption=map_image.description,
                     legend=legend_items(brief))


def pdf_map(brief: Brief, *, renderer: Renderer | None = None) -> MapImage:
    """The PDF's map: 900 x 780 CSS px at scale 2 (1800 x 1560 px, 180 mm wide)."""
    return render_map(brief, width_px=900, height_px=780, scale=2, renderer=renderer,
                      panel=False)


@dataclass(frozen=True)
class Written:
    """What :func:`write_export` wrote."""

    path: Path
    size_bytes: int
    map_image: MapImage | None


def check_out_path(path: str | Path) -> str:
    """Return the export format (``.png``, ``.html``, ``.pdf``) of ``path``, or raise."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        msg = (f"--out {Path(path).name}: unknown export format {suffix or '(no suffix)'!r}; "
               "name the file .png, .html or .pdf")
        raise ExportError(msg)
    return suffix


def write_export(brief: Brief, path: str | Path, *, width_px: int = 1200,
                 height_px: int = 800, renderer: Renderer | None = None) -> Written:
    """Write ``brief`` to ``path`` in the format its suffix names."""
    suffix, path = check_out_path(path), Path(path)
    image = None
    if suffix == ".html":
        data = export_html(brief)
    elif suffix == ".png":
        image = render_map(brief, width_px=width_px, height_px=height_px, renderer=renderer)
        data = image.png
    else:
        image = pdf_map(brief, renderer=renderer)
        data = export_pdf(brief, map_image=image)
    try:
        path.write_bytes(data)
    except OSError as exc:
        msg = f"--out {path}: cannot write ({exc.strerror or exc})"
        raise ExportError(msg) from exc
    logger.info("export: wrote %s (%d bytes)", path.name, len(data))
    return Written(path, len(data), image)

