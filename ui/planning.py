"""The planning pages' Streamlit helpers: where a plan starts, drawing on maps, plan maps.

Session keys live behind named functions here (:func:`last_plan`, :func:`set_last_plan`);
the current scenario itself is :func:`ui.state.current_scenario`.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import folium
import shapely
import streamlit as st
from folium.plugins import Draw

from coverage.engine.analysis import Coverage
from coverage.engine.report import key_figures
from coverage.errors import DataError
from coverage.ops import registry
from coverage.planning.backfill import Backfill
from coverage.planning.criticality import Criticality
from coverage.planning.desk import (
    Desk,
    TemporaryZone,
    add_closures,
    add_zone,
    deploy_reserve,
    desk_from_body,
    drawn_shapes,
    with_delays,
    zone_rows,
)
from coverage.planning.desk import describe as describe_desk
from coverage.planning.order import DeploymentOrder
from coverage.planning.scenario import Scenario
from coverage.planning.sweep import Outcome
from ui import state
from ui.feedback import checked, md, tooltip_text

VENDOR = Path(__file__).resolve().parent / "vendor" / "leaflet-draw"
_PLAN_KEY = "seccov_last_plan"
_PENDING_KEY = "seccov_select_current"
MOVE_COLOR = "#0969da"
RESERVE_COLOR = "#8250df"
RESTORED_COLOR = "#1a7f37"


@dataclass(frozen=True)
class PlanRun:
    """A plan made on the Plan page: the desk it started from, the plan and its order."""

    desk: Desk
    plan: Backfill
    order: DeploymentOrder
    seconds: float


def set_last_plan(run: PlanRun | None) -> None:
    """Remember the plan on screen (None: forget it)."""
    if run is None:
        st.session_state.pop(_PLAN_KEY, None)
    else:
        st.session_state[_PLAN_KEY] = run


def last_plan() -> PlanRun | None:
    """The plan last made in this session, or None."""
    value = st.session_state.get(_PLAN_KEY)
    return value if isinstance(value, PlanRun) else None


@st.cache_resource
def _draw_assets() -> str:
    """Copy Leaflet.draw (vendored, MIT) next to Leaflet in ./static; return its URL base."""
    target = state.ROOT / "static" / "leaflet-draw"
    shutil.copytree(VENDOR, target, dirs_exist_ok=True)
    return state.static_assets() + "/leaflet-draw"


def draw_control(*, polygon: bool = True, line: bool = False, point: bool = False) -> Draw:
    """The drawing tools (polygon and rectangle; optionally a line or a marker), with
    Leaflet.draw served by this app instead of a CDN."""
    base = _draw_assets()
    tool = Draw(
        export=False, position="topleft",
        draw_options={"polyline": line, "polygon": polygon, "rectangle": polygon,
                      "circle": False, "circlemarker": False, "marker": point},
        edit_options={"edit": False})
    tool.default_js = [("leaflet_draw_js", f"{base}/leaflet.draw.js")]
    tool.default_css = [("leaflet_draw_css", f"{base}/leaflet.draw.css")]
    return tool


def desk_choice(key: str) -> Desk:
    """Where the page starts: the current scenario, the last what-if, a saved scenario, or
    no suspensions (a selectbox)."""
    options: dict[str, Desk] = {}
    current = state.current_scenario()
    if current is not None:
        options[_current_label(current)] = current
    wi = state.what_if_desk()
    if wi is not None:
        options[f"The last what-if ({len(wi.scenario.remove)} suspended)"] = wi
    for label, saved in saved_desks().items():
        options[f"Saved {label}"] = saved
    options["No suspensions (the roster as it is)"] = Desk(Scenario(name="roster"))
    pending = st.session_state.pop(_PENDING_KEY, None)
    if pending is not None and pending[0] == key and pending[1] in options:
        st.session_state[key] = pending[1]  # set before the box exists: allowed
    pick = st.selectbox("Start from", list(options), key=key)
    return options[str(pick)]


def _current_label(desk: Desk) -> str:
    return f"Current scenario: {desk.scenario.name}"


def make_current(desk: Desk, choice_key: str) -> None:
    """Make ``desk`` the current scenario and select it in the page's "Start from" box
    (call before ``st.rerun()``)."""
    state.set_current_scenario(desk)
    st.session_state[_PENDING_KEY] = (choice_key, _current_label(desk))


def _head(a: tuple[float, float], b: tuple[float, float]) -> list[list[float]]:
    """The two strokes of an arrowhead at ``b`` (lat, lon) for a line from ``a``."""
    dy, dx = b[0] - a[0], (b[1] - a[1]) * math.cos(math.radians(b[0]))
    length = math.hypot(dx, dy)
    if length == 0:
        return []
    size = min(0.0015, length / 3)
    ux, uy = dx / length, dy / length
    out = []
    for sign in (1, -1):
        ang = math.radians(25) * sign
        vx = -(ux * math.cos(ang) - uy * math.sin(ang))
        vy = -(ux * math.sin(ang) + uy * math.cos(ang))
        out.append([b[0] + vy * size, b[1] + vx * size / math.cos(math.radians(b[0]))])
    return [out[0], [b[0], b[1]], out[1]]


def plan_layer(run: PlanRun) -> folium.FeatureGroup:
    """An arrow per order from the officer's origin to the site, and the restored zones."""
    group = folium.FeatureGroup(name="Plan")
    restored = {z for ln in run.order.lines for z in ln.restores}
    zones = run.plan.after.dataset.zones
    shown = zones.loc[zones["zone_id"].astype(str).isin(restored)]
    if len(shown):
        folium.GeoJson(shown[["zone_id", "geometry"]].to_json(), style_function=lambda _: {
            "color": RESTORED_COLOR, "weight": 4, "fill": False, "dashArray": "6 4"},
            tooltip=None).add_to(group)
    for ln in run.order.lines:
        a, b = (ln.from_lat, ln.from_lon), (ln.lat, ln.lon)
        color = MOVE_COLOR if ln.kind == "move" else RESERVE_COLOR
        tip = folium.Tooltip(tooltip_text(f"{ln.number}. {ln.officer_id} {ln.name}: "
                                        f"{ln.from_station} to {ln.to_site}"), sticky=True)
        folium.PolyLine([a, b], color=color, weight=3, opacity=0.9, tooltip=tip).add_to(group)
        head = _head(a, b)
        if head:
            folium.PolyLine(head, color=color, weight=3, opacity=0.9).add_to(group)
        folium.CircleMarker(a, radius=4, color=color, fill=True, fill_opacity=1,
                            weight=1).add_to(group)
    return group


def figures_table(runs: dict[str, Coverage]) -> Any:
    """Key figures of several runs side by side (one column per run)."""
    import pandas as pd

    def shown(name: str, value: Any) -> str:
        if value is None:
            return "unreachable" if name == "worst_p90_min" else "-"
        if name == "covered_share":
            return f"{100 * value:.1f}%"
        return f"{value:.1f}" if isinstance(value, float) else str(value)

    rows = {run: {k: shown(k, v) for k, v in vars(key_figures(cov)).items()}
            for run, cov in runs.items()}
    return pd.DataFrame(rows)


def legend() -> None:
    """The plan map's extra legend (fixed text only)."""
    st.html(
        '<div style="font-size:0.85rem">'
        f'<span style="color:{MOVE_COLOR};font-weight:700">&#8594;</span> on-duty officer moved'
        f' &nbsp; <span style="color:{RESERVE_COLOR};font-weight:700">&#8594;</span> reserve '
        f'deployed &nbsp; <span style="border:2px dashed {RESTORED_COLOR};padding:0 6px">'
        '</span> zone the plan restores</div>')


_SWEEP_KEY = "seccov_last_random_suspensions"


def set_last_sweep(outcomes: list[Outcome]) -> None:
    """Remember the random suspension outcomes on screen."""
    st.session_state[_SWEEP_KEY] = list(outcomes)


def last_sweep() -> list[Outcome]:
    """The random suspension outcomes last run in this session (empty if none)."""
    value = st.session_state.get(_SWEEP_KEY)
    return value if isinstance(value, list) else []


def sweep_summary(outcomes: list[Outcome]) -> Any:
    """Min, median and max of each outcome figure over the random sets (a small table)."""
    import pandas as pd

    frame = pd.DataFrame([vars(o) for o in outcomes]).drop(columns=["removed"])
    return frame.describe(percentiles=[0.05, 0.5, 0.95]).T.reset_index(names="figure")


def critical_table(crit: Criticality, top: int) -> Any:
    """The ``top`` most critical officers, without the map columns."""
    return crit.table.head(top).drop(columns=["node_id", "lon", "lat"])


def single_points_layer(crit: Criticality) -> folium.FeatureGroup:
    """Red rings at the officers who are single points of failure (tooltip: which zones)."""
    group = folium.FeatureGroup(name="Single points of failure")
    where = {str(o): (float(la), float(lo)) for o, la, lo in zip(
        crit.table["officer_id"], crit.table["lat"], crit.table["lon"], strict=True)}
    for oid, rows in crit.single_points.groupby("officer_id", sort=True):
        if str(oid) not in where:
            continue
        zones = ", ".join(f"{z} ({k.replace('_', ' ')})"
                          for z, k in zip(rows["zone_id"], rows["kind"], strict=True))
        folium.CircleMarker(
            where[str(oid)], radius=9,
            color="#cf222e", weight=3, fill=False,
            tooltip=folium.Tooltip(tooltip_text(f"{oid}: {zones}"), sticky=True)).add_to(group)
    return group


#: What a drawing on the scenario builder's map means.
DRAW_MODES = {"close": "close roads (area or line)", "zone": "add a temporary sensitive zone",
              "reserve": "send a reserve to a point"}
_ROUND_KEY = "seccov_draw_round"


def draw_round() -> int:
    """The drawing map's generation: a new one (drawings cleared) after each addition."""
    return int(st.session_state.get(_ROUND_KEY, 0))


def next_draw_round() -> None:
    """Clear the drawing map on the next run."""
    st.session_state[_ROUND_KEY] = draw_round() + 1


def zone_fields(mode: str, *, key: str) -> dict[str, Any]:
    """Name, priority, target and minimum officers of a temporary zone (zone mode only)."""
    if mode != "zone":
        return {}
    c1, c2, c3, c4, c5 = st.columns([1, 2, 1, 1, 1])
    return {"zone_id": c1.text_input("Zone id", "TMP-1", max_chars=40, key=f"{key}-id"),
            "name": c2.text_input("Name", "Procession route", max_chars=80, key=f"{key}-name"),
            "priority": c3.selectbox("Priority", [1, 2, 3], key=f"{key}-prio"),
            "target_min": c4.number_input("Target (min)", 1.0, 60.0, 5.0, 0.5,
                                          key=f"{key}-target"),
            "min_officers": c5.number_input("Min officers", 0, 50, 2, key=f"{key}-min")}


def reserve_field(mode: str, cov: Coverage, *, key: str) -> str | None:
    """The reserve officer to send (reserve mode only)."""
    if mode != "reserve":
        return None
    off = cov.dataset.officers
    ids = sorted(off.loc[(off["status"] == "reserve")
                         & ~off["officer_id"].isin(cov.suspended), "officer_id"].astype(str))
    return st.selectbox("Reserve officer", ids, key=key) if ids else None


def add_drawings(desk: Desk, mode: str, features: Any, *,
                 zone: dict[str, Any], reserve: str | None) -> Desk:
    """The desk with what was drawn added, as ``mode`` says; DataError when nothing fits."""
    polygons, points, lines = drawn_shapes(features)
    if mode == "close" and (polygons or lines):
        return add_closures(desk, polygons, lines)
    if mode == "zone" and polygons:
        wkt = polygons[-1]
        return add_zone(desk, TemporaryZone(wkt=wkt, **zone))
    if mode == "reserve" and points and reserve:
        return deploy_reserve(desk, reserve, *points[-1])
    what = {"close": "a polygon, rectangle or line", "zone": "a polygon or rectangle",
            "reserve": "a marker (and pick a reserve officer)"}[mode]
    msg = f"Nothing to add: draw {what} on the map first."
    raise DataError(msg)


def with_station_delays(desk: Desk, cov: Coverage, every_s: float, stations: list[str],
                        own_s: float, officers: list[str] | None = None) -> Desk:
    """The desk with turnout delays: every unit, and the officers of ``stations`` and
    ``officers`` their own."""
    off = cov.dataset.officers
    ids = off.loc[off["station_id"].astype(str).isin(stations), "officer_id"].astype(str)
    return with_delays(desk, every_s, sorted({*ids, *(officers or [])}), own_s)


def closures_layer(desk: Desk) -> folium.FeatureGroup:
    """The scenario's closed areas, hatched red (fixed style, no text from data)."""
    group = folium.FeatureGroup(name="Closed roads")
    for wkt in desk.scenario.closed_areas:
        folium.GeoJson(shapely.geometry.mapping(shapely.from_wkt(wkt)), style_function=lambda _: {
            "color": "#cf222e", "weight": 2, "fillColor": "#cf222e", "fillOpacity": 0.25,
            "dashArray": "4 3"}, tooltip="closed").add_to(group)
    return group


def temporary_zone_rows(cov: Coverage, desk: Desk) -> Any:
    """The temporary zones' rows of the zone table."""
    return zone_rows(cov, [z.zone_id for z in desk.zones])


def named(desk: Desk, name: str, author: str) -> Desk:
    """The desk renamed (and its author set) for saving."""
    return replace(desk, scenario=replace(desk.scenario, name=name.strip() or "scenario",
                                          author=author), label=name)


def saved_desks() -> dict[str, Desk]:
    """The scenarios saved in the store, newest first, by label."""
    out: dict[str, Desk] = {}
    for rec in reversed(checked(registry.scenarios, state.store())):
        try:
            out[f"#{rec.id} {rec.name} ({rec.author}, {rec.created_at:%Y-%m-%d %H:%M})"] = \
                desk_from_body(rec.body)
        except DataError:
            continue  # saved by another tool (not a desk)
    return out


def describe(desk: Desk) -> str:
    """What the desk's scenario changes, escaped for the screen."""
    return md(describe_desk(desk))
