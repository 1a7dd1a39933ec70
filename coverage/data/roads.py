"""Road graph: build a directed, simplified networkx graph with travel times from road files."""

from __future__ import annotations

import ast
import logging
import math
import re
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from coverage import settings
from coverage.errors import DataError, DataWarning

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _ox() -> Any:
    """osmnx, imported on first use (it loads matplotlib: about a second at start-up)."""
    import osmnx

    return osmnx

_ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
_ONEWAY_REVERSE = frozenset({"-1"})
_MPH_TO_KPH = 1.609344
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.pbf", ".pbf", ".osm.gz")
LINE_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")


def parse_maxspeed(value: Any) -> float | None:
    """Return a ``maxspeed`` tag value in km/h, or None when it gives no usable number.

    Plain numbers are km/h, ``"30 mph"`` is converted, and where several values are given
    (``"50;30"``, or a list from a merged edge) the lowest counts. A value above
    ``settings.MAX_PLAUSIBLE_SPEED_KPH`` is a typo and is ignored (see
    :func:`implausible_maxspeed`).

    Examples
    --------
    >>> parse_maxspeed("30 mph")
    48.28032
    >>> parse_maxspeed("60;40")
    40.0
    >>> parse_maxspeed("signals") is None
    True
    """
    values = _as_list(value)
    speeds: list[float] = []
    for item in values:
        if isinstance(item, int | float) and not isinstance(item, bool):
            if math.isfinite(item) and 0 < item <= settings.MAX_PLAUSIBLE_SPEED_KPH:
                speeds.append(float(item))
            continue
        for part in re.split(r"[;|,]", str(item)):
            match = _NUMBER.match(part)
            if match is None:
                continue
            speed = float(match.group(1))
            unit = (match.group(2) or "").lower()
            if unit == "mph":
                speed *= _MPH_TO_KPH
            if 0 < speed <= settings.MAX_PLAUSIBLE_SPEED_KPH:
                speeds.append(speed)
    return min(speeds) if speeds else None


def implausible_maxspeed(value: Any) -> bool:
    """True when ``value`` holds a number above ``settings.MAX_PLAUSIBLE_SPEED_KPH``."""
    for item in _as_list(value):
        for part in re.split(r"[;|,]", str(item)):
            match = _NUMBER.match(part)
            if match is None:
                continue
            speed = float(match.group(1)) * (
                _MPH_TO_KPH if (match.group(2) or "").lower() == "mph" else 1.0)
            if speed > settings.MAX_PLAUSIBLE_SPEED_KPH:
                return True
    return False


def _warn_implausible(source: str, values: Mapping[str, int]) -> None:
    if values:
        shown = ", ".join(f"'{v}' ({n} way(s))" for v, n in list(values.items())[:5])
        warnings.warn(f"{source}: maxspeed beyond {settings.MAX_PLAUSIBLE_SPEED_KPH:g} km/h "
                      f"ignored at {shown}; the highway class default speed is used",
                      DataWarning, stacklevel=3)


def _as_list(value: Any) -> list[Any]:
    """Return ``value`` as a list: lists pass, list-like strings from GraphML are parsed."""
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return [v for v in value if v is not None]
    if isinstance(value, float) and math.isnan(value):
        return []
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return [text]
        return list(parsed) if isinstance(parsed, list | tuple) else [parsed]
    return [value] if text else []


def edge_speed_kph(
    highway: Any,
    maxspeed: Any,
    *,
    speeds_kph: Mapping[str, float] = settings.DEFAULT_SPEEDS_KPH,
    fallback_kph: float = settings.FALLBACK_SPEED_KPH,
) -> float:
    """Return the speed of an edge: its ``maxspeed`` if usable, else its class default.

    Where an edge carries several ``highway`` classes (a merged edge), the lowest default
    counts, as for several ``maxspeed`` values.
    """
    posted = parse_maxspeed(maxspeed)
    if posted is not None:
        return posted
    classes = [str(h) for h in _as_list(highway)]
    defaults = [speeds_kph[h] for h in classes if h in speeds_kph]
    return min(defaults) if defaults else fallback_kph


def oneway_direction(oneway: Any, junction: Any = None) -> int:
    """Return +1 (drawn direction only), -1 (reverse only) or 0 (two-way) for a way's tags.

    ``oneway`` of yes/true/1 is one-way as drawn, ``-1`` the reverse; anything else is two-way,
    except that a roundabout without a ``oneway`` tag is one-way as drawn.
    """
    if isinstance(oneway, bool):
        return 1 if oneway else 0
    if oneway is None or (isinstance(oneway, float) and math.isnan(oneway)):
        return 1 if str(junction).strip().lower() in {"roundabout", "circular"} else 0
    text = str(oneway).strip().lower()
    if text in {"1.0"}:
        text = "1"
    if text in {"-1.0"}:
        text = "-1"
    if text in _ONEWAY_FORWARD:
        return 1
    if text in _ONEWAY_REVERSE:
        return -1
    if text == "" or text == "nan":
        return 1 if str(junction).strip().lower() in {"roundabout", "circular"} else 0
    return 0


class _SegmentBuilder:
    """Collects directed road segments, then makes the simplified graph."""

    def __init__(
        self,
        source: str,
        *,
        speeds_kph: Mapping[str, float],
        fallback_kph: float,
    ) -> None:
        self.source = source
        self.speeds_kph = speeds_kph
        self.fallback_kph = fallback_kph
        self.nodes: dict[int, tuple[float, float]] = {}
        self.edges: list[tuple[int, int, dict[str, Any]]] = []
        self.skipped_classes: dict[str, int] = {}
        self.implausible: dict[str, int] = {}

    def add_way(
        self,
        refs: list[int],
        coords: list[tuple[float, float]],
        tags: Mapping[str, Any],
        *,
        way_id: int,
    ) -> None:
        """Add one way (node refs with lon/lat) as directed segments."""
        highway = tags.get("highway")
        if highway is not None and str(highway) in settings.NON_DRIVABLE_HIGHWAYS:
            self.skipped_classes[str(highway)] = self.skipped_classes.get(str(highway), 0) + 1
            return
        if str(tags.get("area", "")).lower() == "yes":
            return
        if len(refs) < 2:
            return
        direction = oneway_direction(tags.get("oneway"), tags.get("junction"))
        if implausible_maxspeed(tags.get("maxspeed")):
            key = str(tags.get("maxspeed"))
            self.implausible[key] = self.implausible.get(key, 0) + 1
        speed = edge_speed_kph(
            highway, tags.get("maxspeed"), speeds_kph=self.speeds_kph,
            fallback_kph=self.fallback_kph,
        )
        for ref, xy in zip(refs, coords, strict=True):
            self.nodes.setdefault(ref, xy)
        lon = np.array([c[0] for c in coords])
        lat = np.array([c[1] for c in coords])
        lengths = _ox().distance.great_circle(
            lat[:-1], lon[:-1], lat[1:], lon[1:], earth_radius=settings.EARTH_RADIUS_M
        )
        base = {
            "osmid": way_id,
            "highway": "road" if highway is None else str(highway),
            "name": str(tags.get("name") or ""),
            "oneway": direction != 0,
            "maxspeed": "" if tags.get("maxspeed") is None else str(tags.get("maxspeed")),
        }
        for i, length in enumerate(lengths):
            u, v = refs[i], refs[i + 1]
            if u == v:
                continue
            attrs = {
                **base, "length": float(length), "speed_kph": speed,
                "travel_time": float(length) / speed * 3.6,
            }
            if direction >= 0:
                self.edges.append((u, v, {**attrs, "reversed": False}))
            if direction <= 0:
                self.edges.append((v, u, {**attrs, "reversed": direction == 0}))

    def graph(self) -> nx.MultiDiGraph:
        """Return the simplified directed graph; raises DataError when there are no roads."""
        if self.skipped_classes:
            logger.info("%s: skipped non-drivable ways %s", self.source, self.skipped_classes)
        _warn_implausible(self.source, self.implausible)
        if not self.edges:
            msg = (
                f"{self.source}: no drivable roads found (need ways or lines with a highway "
                f"class vehicles can use; skipped: {self.skipped_classes or 'none'})"
            )
            raise DataError(msg)
        G = nx.MultiDiGraph(crs="EPSG:4326", source=self.source)
        G.add_nodes_from((n, {"x": xy[0], "y": xy[1]}) for n, xy in self.nodes.items())
        G.add_edges_from(self.edges)
        G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
        return simplify(G)


def simplify(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Return a new graph with interstitial nodes merged away (osmnx), times summed.

    Junctions where three or more segments meet, dead ends and nodes where one-way status
    changes are kept. Merged edges carry the summed ``length`` and ``travel_time``, and their
    ``speed_kph`` becomes the effective speed over the merged path.
    """
    raw_nodes = G.number_of_nodes()
    Gs = _ox().simplify_graph(
        G, remove_rings=False, edge_attr_aggs={"length": sum, "travel_time": sum}
    )
    for _, _, data in Gs.edges(data=True):
        if isinstance(data.get("speed_kph"), list):  # merged: effective speed over the path
            time_s = data["travel_time"]
            data["speed_kph"] = data["length"] / time_s * 3.6 if time_s > 0 else 0.0
        for key in ("highway", "name", "maxspeed", "osmid"):
            if isinstance(data.get(key), list):
                data[key] = sorted(data[key], key=str)[0] if key != "maxspeed" else ";".join(
                    sorted({str(v) for v in data[key] if str(v)})
                )
        data.pop("reversed", None)
    logger.info("simplified %d -> %d nodes, %d edges", raw_nodes, len(Gs), len(Gs.edges))
    return Gs


def load_graph(
    path: str | Path,
    *,
    speeds_kph: Mapping[str, float] = settings.DEFAULT_SPEEDS_KPH,
    fallback_kph: float = settings.FALLBACK_SPEED_KPH,
    progress: Progress | None = None,
) -> nx.MultiDiGraph:
    """Load a road file into a new directed, simplified graph with travel times.

    Parameters
    ----------
    path
        OpenStreetMap XML (``.osm``, ``.osm.bz2``) or PBF (``.osm.pbf``), a GraphML file,
        or a line file (GeoJSON, GeoPackage, zipped Shapefile) with optional ``highway``,
        ``maxspeed`` and ``oneway`` columns.
    speeds_kph, fallback_kph
        Default speed per ``highway`` class where ``maxspeed`` is missing, and for unknown
        classes.
    progress
        Called with a short message at each stage.

    Returns
    -------
    networkx.MultiDiGraph
        Nodes carry ``x`` (lon) and ``y`` (lat); edges carry ``length`` (m), ``travel_time``
        (s), ``speed_kph``, ``highway``, ``name`` and ``oneway``.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        msg = f"{name}: road file not found at {path}"
        raise DataError(msg)
    say = progress or (lambda _msg: None)
    lower = name.lower()
    say(f"reading {name}")
    if lower.endswith(OSM_SUFFIXES):
        builder = _read_osm(path, speeds_kph=speeds_kph, fallback_kph=fallback_kph)
    elif lower.endswith(".graphml"):
        return _read_graphml(path, speeds_kph=speeds_kph, fallback_kph=fallback_kph)
    elif lower.endswith(LINE_SUFFIXES):
        builder = _read_lines(path, speeds_kph=speeds_kph, fallback_kph=fallback_kph)
    else:
        msg = (
            f"{name}: unknown road file type; use .osm, .osm.bz2, .osm.pbf, .graphml, "
            ".geojson, .gpkg or a zipped Shapefile (.zip)"
        )
        raise DataError(msg)
    say(f"building graph from {len(builder.edges):,} segments")
    G = builder.graph()
    logger.info("%s: road graph with %d nodes and %d edges", name, len(G), len(G.edges))
    return G


def _read_osm(
    path: Path, *, speeds_kph: Mapping[str, float], fallback_kph: float
) -> _SegmentBuilder:
    """Read highway ways from OSM XML or PBF with pyosmium."""
    import osmium

    builder = _SegmentBuilder(path.name, speeds_kph=speeds_kph, fallback_kph=fallback_kph)
    missing = 0
    missing_ways: set[int] = set()
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in processor:
            if not isinstance(way, osmium.osm.Way):  # the filter passes ways only
                continue
            tags = {tag.k: tag.v for tag in way.tags}
            # A node without a valid location splits the way: its neighbours are not joined.
            runs: list[tuple[list[int], list[tuple[float, float]]]] = [([], [])]
            for node in way.nodes:
                if not node.location.valid():
                    missing += 1
                    missing_ways.add(int(way.id))
                    runs.append(([], []))
                    continue
                runs[-1][0].append(int(node.ref))
                runs[-1][1].append((float(node.lon), float(node.lat)))
            for refs, coords in runs:
                builder.add_way(refs, coords, tags, way_id=int(way.id))
    except Exception as exc:  # pyosmium raises RuntimeError, InvalidLocationError, ...
        msg = f"{path.name}: cannot read OpenStreetMap data: {exc} (is the file truncated?)"
        raise DataError(msg) from exc
    if missing:
        warnings.warn(
            f"{path.name}: {missing} way node reference(s) have no valid location (missing "
            "from the file, as in an extract cut at its edge, or out of range); the ways were "
            f"split there: way id(s) {', '.join(map(str, sorted(missing_ways)[:10]))}",
            DataWarning,
            stacklevel=3,
        )
    return builder


def _read_lines(
    path: Path, *, speeds_kph: Mapping[str, float], fallback_kph: float
) -> _SegmentBuilder:
    """Read a line file; vertices shared between lines (to ~1 cm) become junctions."""
    import geopandas as gpd
    import shapely

    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        msg = f"{path.name}: cannot read road lines: {exc}"
        raise DataError(msg) from exc
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    elif not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    builder = _SegmentBuilder(path.name, speeds_kph=speeds_kph, fallback_kph=fallback_kph)
    problems: list[str] = []
    node_ids: dict[tuple[int, int], int] = {}
    columns = [c for c in ("highway", "maxspeed", "oneway", "junction", "name") if c in gdf]
    for row, (geom, values) in enumerate(
        zip(gdf.geometry, gdf[columns].itertuples(index=False), strict=True), start=1
    ):
        if geom is None or geom.is_empty:
            problems.append(f"row {row}: geometry is empty")
            continue
        if geom.geom_type not in {"LineString", "MultiLineString"}:
            problems.append(f"row {row}: geometry is a {geom.geom_type}, not a line")
            continue
        tags = {
            c: v for c, v in zip(columns, values, strict=True)
            if v is not None and not (isinstance(v, float) and math.isnan(v))
        }
        for part in shapely.get_parts(geom):
            coords = [(float(x), float(y)) for x, y in np.asarray(part.coords)[:, :2]]
            if any(abs(x) > 180 or abs(y) > 90 for x, y in coords):
                problems.append(f"row {row}: coordinates are not longitude/latitude degrees")
                break
            refs = [
                node_ids.setdefault((round(x * 1e7), round(y * 1e7)), len(node_ids) + 1)
                for x, y in coords
            ]
            builder.add_way(refs, coords, tags, way_id=row)
    if problems:
        from coverage.errors import problems_message

        raise DataError(problems_message(path.name, problems))
    return builder


def _read_graphml(
    path: Path, *, speeds_kph: Mapping[str, float], fallback_kph: float
) -> nx.MultiDiGraph:
    """Read a GraphML road graph, reproject to lon/lat and recompute lengths and speeds."""
    try:
        G = _ox().load_graphml(path)
    except Exception as exc:
        msg = f"{path.name}: cannot read GraphML: {_graphml_problem(exc)}"
        raise DataError(msg) from exc
    if G.number_of_edges() == 0:
        msg = f"{path.name}: the graph has no edges (no roads)"
        raise DataError(msg)
    missing = [n for n, d in G.nodes(data=True) if "x" not in d or "y" not in d]
    if missing:
        msg = f"{path.name}: node(s) {missing[:5]} have no x/y coordinates"
        raise DataError(msg)
    crs = G.graph.get("crs")
    if crs is not None and _ox().projection.is_projected(crs):
        G = _ox().projection.project_graph(G, to_latlong=True)
    off = [n for n, d in G.nodes(data=True)
           if not (-180 <= float(d["x"]) <= 180 and -90 <= float(d["y"]) <= 90)]
    if off:
        msg = (f"{path.name}: node(s) {off[:5]} have x/y outside longitude/latitude degrees; "
               "a graph in metres must declare its CRS in the graph's 'crs' attribute")
        raise DataError(msg)
    G = nx.MultiDiGraph(G)
    G.graph["crs"] = "EPSG:4326"
    if not G.is_directed():  # pragma: no cover - load_graphml always returns a MultiDiGraph
        G = G.to_directed()
    implausible: dict[str, int] = {}
    for u, v, data in G.edges(data=True):
        if implausible_maxspeed(data.get("maxspeed")):
            key = str(data.get("maxspeed"))
            implausible[key] = implausible.get(key, 0) + 1
        geom = data.get("geometry")
        if geom is not None:
            xy = np.asarray(geom.coords)[:, :2]
        else:
            xy = np.array([[G.nodes[u]["x"], G.nodes[u]["y"]], [G.nodes[v]["x"], G.nodes[v]["y"]]])
        length = float(
            _ox().distance.great_circle(
                xy[:-1, 1], xy[:-1, 0], xy[1:, 1], xy[1:, 0], earth_radius=settings.EARTH_RADIUS_M
            ).sum()
        )
        speed = edge_speed_kph(
            data.get("highway"), data.get("maxspeed"), speeds_kph=speeds_kph,
            fallback_kph=fallback_kph,
        )
        data["length"] = length
        data["travel_time"] = length / speed * 3.6
        data["speed_kph"] = speed
        hw = _as_list(data.get("highway"))
        data["highway"] = str(hw[0]) if hw else "road"
        data["name"] = str(_first(data.get("name")) or "")
    _warn_implausible(path.name, implausible)
    if not G.graph.get("simplified"):
        G.graph.pop("simplified", None)
        G = simplify(G)
    logger.info("%s: road graph with %d nodes and %d edges", path.name, len(G), len(G.edges))
    return G


def _graphml_problem(exc: Exception) -> str:
    """Plain words for what osmnx's GraphML reader choked on (it reads osmnx's own files)."""
    text = str(exc).strip()
    fix = ("this reader expects GraphML as saved by osmnx (osmnx.save_graphml): whole-number "
           "node ids and numeric x, y and length")
    if m := re.search(r"invalid literal for int\(\) with base \d+: (.+)$", text):
        return f"the value {m.group(1)} should be a whole number (a node id or osmid); {fix}"
    if m := re.search(r"could not convert string to float: (.+)$", text):
        return f"the value {m.group(1)} should be a number (x, y, length or speed); {fix}"
    if isinstance(exc, KeyError):
        return f"an attribute {text} is missing; {fix}"
    if "syntax error" in text.lower() or "not well-formed" in text.lower():
        return f"not well-formed XML ({text}); check that the file is complete"
    return f"{text}; {fix}"


def _first(value: Any) -> Any:
    values = _as_list(value)
    return values[0] if values else None

