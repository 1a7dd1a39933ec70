"""Assets: offline copies of the map's JavaScript and CSS, so exported maps need no CDN.

folium links Leaflet, jQuery, Bootstrap, Font Awesome and awesome-markers from CDNs. The
coverage map needs only Leaflet, which the ``XStatic-Leaflet`` package on PyPI ships
(``leaflet.js``, ``leaflet.css`` and its images; installed from ``requirements.lock``).
:func:`offline_html` inlines Leaflet into a rendered page and drops the libraries the page
does not use; a page that needs a library with no offline copy raises :class:`AssetError`
rather than silently reaching for the network. :func:`static_files` lists the same files for
an app that serves them itself.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from coverage.errors import CoverageError

_INSTALL = "install it with: pip install -r requirements.lock (package XStatic-Leaflet)"


class AssetError(CoverageError, RuntimeError):
    """A map needs a script or stylesheet that has no offline copy."""


def leaflet_dir() -> Path:
    """Return the folder holding ``leaflet.js``, ``leaflet.css`` and ``images/``."""
    try:
        from xstatic.pkg import leaflet
    except ImportError:
        msg = f"offline map assets: the Leaflet files are missing; {_INSTALL}"
        raise AssetError(msg) from None
    return Path(leaflet.BASE_DIR)


def leaflet_version() -> str:
    """Version of the packaged Leaflet, e.g. ``1.9.3``."""
    leaflet_dir()
    from xstatic.pkg import leaflet

    return str(leaflet.VERSION)


def static_files() -> dict[str, Path]:
    """Return the Leaflet files to serve offline, by relative URL path.

    Keys: ``leaflet.js``, ``leaflet.css`` and ``images/<name>.png`` (the paths leaflet.css
    refers to), so copying each file to ``<static>/<key>`` gives a working folder.
    """
    base = leaflet_dir()
    files = {"leaflet.js": base / "leaflet.js", "leaflet.css": base / "leaflet.css"}
    files |= {f"images/{p.name}": p for p in sorted((base / "images").glob("*.png"))}
    missing = [k for k, p in files.items() if not p.is_file()]
    if missing:
        msg = f"offline map assets: {', '.join(missing)} missing from {base}; {_INSTALL}"
        raise AssetError(msg)
    return files


@functools.cache
def leaflet_js() -> str:
    """Leaflet's JavaScript, safe to place inside a ``<script>`` element."""
    text = static_files()["leaflet.js"].read_text(encoding="utf-8")
    text = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", text)
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


@functools.cache
def leaflet_css() -> str:
    """Leaflet's stylesheet with its images inlined as ``data:`` URIs."""
    files = static_files()
    css = files["leaflet.css"].read_text(encoding="utf-8")

    def data_uri(m: re.Match[str]) -> str:
        path = files.get(m["path"])
        if path is None:
            return m[0]
        b64 = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'url("data:image/png;base64,{b64}")'

    css = re.sub(r"""url\(\s*['"]?(?P<path>images/[\w.-]+)['"]?\s*\)""", data_uri, css)
    if "</" in css:
        msg = "offline map assets: leaflet.css contains '</' and cannot be inlined"
        raise AssetError(msg)
    return css


@dataclass(frozen=True)
class _Known:
    """A library folium may link: how to recognise its URL and whether a page uses it."""

    url: re.Pattern[str]
    used_by: re.Pattern[str] | None  # searched in the page with string literals removed
    local: Callable[[], str] | None


_JQUERY = re.compile(r"(?<![\w$])(?:\$|jQuery)\s*[(.]")
_AWESOME = re.compile(r"AwesomeMarkers")
_KNOWN: tuple[_Known, ...] = (
    _Known(re.compile(r"/leaflet(?:@[\w.-]+)?/dist/leaflet\.js$"), None, leaflet_js),
    _Known(re.compile(r"/leaflet(?:@[\w.-]+)?/dist/leaflet\.css$"), None, leaflet_css),
    _Known(re.compile(r"/jquery[-\w.]*\.js$"), _JQUERY, None),
    _Known(re.compile(r"/bootstrap(?:\.bundle)?(?:\.min)?\.js$"),
           re.compile(r"bootstrap\.|data-bs-"), None),
    # Bootstrap's stylesheet only restyles folium's page (fonts, margins): never required.
    _Known(re.compile(r"/bootstrap(?:\.min)?\.css$"), re.compile(r"(?!)"), None),
    _Known(re.compile(r"/bootstrap-glyphicons\.css$"), re.compile(r"glyphicon|AwesomeMarkers"),
           None),
    _Known(re.compile(r"fontawesome|font-awesome"), re.compile(r"\bfa-|AwesomeMarkers"), None),
    _Known(re.compile(r"awesome-markers|awesome\.rotate"), _AWESOME, None),
)
_LINK = re.compile(
    r'<script\s+src="(?P<js>[^"]+)"\s*>\s*</script>'
    r'|<link\s+rel="stylesheet"\s+href="(?P<css>[^"]+)"\s*/?>'
)
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _external(url: str) -> bool:
    return bool(re.match(r"(?i)(?:https?:)?//", url.strip()))


def offline_html(page: str) -> str:
    """Return ``page`` (a rendered folium map) with every CDN link replaced or dropped.

    Leaflet is inlined; jQuery, Bootstrap, Font Awesome and awesome-markers are dropped when
    the page does not use them. Raises :class:`AssetError` if the page needs a library that
    has no offline copy, or still refers to an external script or stylesheet afterwards.
    """
    code = _STRING.sub('""', _LINK.sub("", page))  # data lives in strings: never "used"

    def swap(m: re.Match[str]) -> str:
        url = m["js"] or m["css"]
        if not _external(url):
            return m[0]
        known = next((k for k in _KNOWN if k.url.search(url)), None)
        if known is None:
            msg = (f"offline map: the page links {url}, which has no offline copy; remove "
                   "the map feature that needs it or add the file to coverage/assets.py")
            raise AssetError(msg)
        if known.local is not None:
            text = known.local()
            return f"<script>{text}</script>" if m["js"] else f"<style>{text}</style>"
        if known.used_by is not None and known.used_by.search(code):
            msg = (f"offline map: the page uses {url}, which has no offline copy; remove the "
                   "map feature that needs it or add the file to coverage/assets.py")
            raise AssetError(msg)
        return ""

    out = _LINK.sub(swap, page)
    left = external_references(out)
    if left:
        msg = f"offline map: external references remain: {', '.join(left[:5])}"
        raise AssetError(msg)
    return out


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in {"script": ("src",), "link": ("href",), "img": ("src",),
                    "iframe": ("src",), "source": ("src",)}.get(tag, ()):
            if a.get(key):
                self.urls.append(str(a[key]))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += re.findall(r"""url\(\s*['"]?([^'")\s]+)""", data)
            self.urls += re.findall(r"""@import\s+['"]([^'"]+)""", data)


def external_references(page: str) -> list[str]:
    """Return the ``http(s)://`` (or ``//``) URLs the page loads as scripts, styles or media.

    Covers ``<script src>``, ``<link href>``, ``<img>``/``<iframe>``/``<source>`` and CSS
    ``url()``/``@import`` in ``<style>``. Tile URL templates inside scripts are not loads
    of the page itself and are not listed; plain ``<a href>`` links are not either.
    """
    parser = _Refs()
    parser.feed(page)
    parser.close()
    return [u for u in parser.urls if _external(u)]


def install_static(folder: str | Path) -> Path:
    """Copy the Leaflet files into ``folder`` (created if needed) and return it.

    An app serving ``folder`` (Streamlit: ``static/`` beside the main script with
    ``server.enableStaticServing``) then needs no CDN. Files already up to date are left alone.
    """
    target = Path(folder)
    for key, source in static_files().items():
        dest = target / key
        data = source.read_bytes()
        if not dest.is_file() or dest.read_bytes() != data:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
    return target


def local_links(
    links: list[tuple[str, str]], *, base_url: str, kind: str
) -> list[tuple[str, str]]:
    """Return folium ``default_js``/``default_css`` entries pointing at local copies.

    Leaflet's entry becomes ``<base_url>/leaflet.js`` (or ``.css``); the libraries the
    coverage map does not use (jQuery, Bootstrap, Font Awesome, awesome-markers) are dropped.
    A link to anything else raises :class:`AssetError`: it has no offline copy.
    """
    out: list[tuple[str, str]] = []
    for name, url in links:
        if not _external(url):
            out.append((name, url))
            continue
        known = next((k for k in _KNOWN if k.url.search(url)), None)
        if known is None:
            msg = f"offline map: {url} ({name}) has no offline copy in coverage/assets.py"
            raise AssetError(msg)
        if known.local is not None:
            out.append((name, f"{base_url.rstrip('/')}/leaflet.{kind}"))
    return out
