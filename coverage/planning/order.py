"""Deployment order: a backfill plan as a document a commander signs (numbered orders, figures).

:func:`deployment_order` turns a :class:`~coverage.planning.backfill.Backfill` into a
:class:`DeploymentOrder`: one numbered line per officer (name, rank, from, to, travel
minutes and the zones the order restores), the key figures before and after, the time of
issue in local time (``settings.local_tz()``) and the handling marking. :func:`order_csv`
writes it as CSV with every cell from the data files guarded against formula injection;
the PDF is :func:`coverage.briefing.order_pdf.order_pdf`.

Examples
--------
>>> from datetime import UTC, datetime
>>> from coverage.data.examples import example_dataset
>>> from coverage.engine.analysis import analyse, suspend
>>> from coverage.planning.backfill import backfill
>>> cov = suspend(analyse(example_dataset(), threshold_min=10), ["A", "B"])  # D left at node 5
>>> order = deployment_order(backfill(cov, 1), issued=datetime(2026, 11, 25, 3, tzinfo=UTC))
>>> ln = order.lines[0]
>>> ln.number, ln.kind, ln.name, ln.to_site, ln.restores   # C at S1 covers Z2's only node, 1
(1, 'reserve', 'Officer C', 'S1', ('Z2',))
>>> figure_rows(order)[0]   # 3 per zone node covered: node 5, then nodes 5 and 1
('Objective (DATA.md)', '3 of 12', '6 of 12')
>>> csv_cell("=HYPERLINK()")   # a data cell never runs as a spreadsheet formula
"'=HYPERLINK()"
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np

from coverage import settings
from coverage.data.csvsafe import safe_cell
from coverage.engine.analysis import Coverage
from coverage.engine.metrics import demand, zone_objective
from coverage.engine.report import KeyFigures, key_figures
from coverage.planning.backfill import Backfill, OfficerMove, orders
from coverage.planning.scenario import Deployment, Scenario, apply_scenario


class TemporaryZoneLike(Protocol):
    """What :func:`plan_conditions` reads of a temporary zone (``desk.TemporaryZone``)."""

    zone_id: str
    name: str
    priority: int | None
    target_min: float | None
    min_officers: int


@dataclass(frozen=True)
class OrderLine:
    """One numbered order: who goes where, how far, and which zones it restores."""

    number: int
    kind: str  # "reserve" (a reserve placed) or "move" (an on-duty officer moved)
    officer_id: str
    name: str
    rank: str
    from_station: str
    from_lat: float
    from_lon: float
    to_site: str
    node_id: int
    lat: float
    lon: float
    travel_min: float | None
    gain: float
    restores: tuple[str, ...]


@dataclass(frozen=True)
class DeploymentOrder:
    """A plan ready to sign: the numbered orders, the figures before and after, when issued."""

    title: str
    issued: datetime
    marking: str
    lines: tuple[OrderLine, ...]
    before: KeyFigures
    after: KeyFigures
    objective_before: float
    objective_after: float
    objective_max: float
    optimal: bool
    method: str
    suspended: int
    scenario_sha256: str
    notes: tuple[str, ...]
    conditions: tuple[str, ...] = ()


def _zone_state(cov: Coverage) -> tuple[np.ndarray, np.ndarray]:
    """Per zone: the objective covered and the officers short."""
    covered = zone_objective(demand(cov.zones), cov.times.seconds)
    within = cov.table["officers_within_target"].to_numpy(dtype=np.int64)
    return covered, np.maximum(np.asarray(cov.zones.min_officers) - within, 0)


def restored_zones(bf: Backfill) -> list[tuple[str, ...]]:
    """Per order, in rank order: the zone ids whose covered nodes rise or whose officers
    short fall when that order is carried out after the ones ranked before it (measured by
    running each step as a scenario)."""
    out: list[tuple[str, ...]] = []
    cov = bf.before
    state = _zone_state(cov)
    ids = list(cov.zones.zone_id)
    delays = dict(bf.scenario.unit_turnout_s)
    for o in orders(bf):
        step = Scenario(name=f"order {o.rank}", deploy=(Deployment(o.officer_id,
                                                                   node_id=o.node_id),),
                        unit_turnout_s=((o.officer_id, delays[o.officer_id]),)
                        if o.officer_id in delays else ())
        cov = apply_scenario(cov, step)
        now = _zone_state(cov)
        better = (now[0] > state[0] + 1e-9) | (now[1] < state[1])
        out.append(tuple(ids[z] for z in np.flatnonzero(better)))
        state = now
    return out


def plan_conditions(scenario: Scenario, temporary_zones: Sequence[TemporaryZoneLike] = (),
                    *, site_turnout_s: float = 0.0) -> tuple[str, ...]:
    """What the plan assumed besides the roster: closures, turnout delays, temporary zones.

    ``scenario`` is the one the plan started from (the desk's, or ``--scenario``); its
    suspensions are counted in the order's heading, not here. ``site_turnout_s`` is the
    plan's own turnout at the site (``backfill(turnout_s=...)``). Each line is plain text
    for the order's "Planned under" section.

    >>> s = Scenario(closed_roads=((1, 2),), turnout_s=60, unit_turnout_s=(("A", 90.0),))
    >>> for line in plan_conditions(s):
    ...     print(line)
    Roads closed: 1 road segment(s) (both directions).
    Turnout: 60 s before every unit moves; own delay for 1 officer(s).
    """
    s = scenario
    out = []
    if s.closed_areas or s.closed_roads:
        what = [f"{len(s.closed_areas)} drawn area(s) (every road touching one)"
                if s.closed_areas else "",
                f"{len(s.closed_roads)} road segment(s) (both directions)"
                if s.closed_roads else ""]
        out.append("Roads closed: " + "; ".join(w for w in what if w) + ".")
    if s.turnout_s or s.unit_turnout_s:
        own = (f"own delay for {len(s.unit_turnout_s)} officer(s)"
               if s.unit_turnout_s else "")
        every = f"{s.turnout_s:g} s before every unit moves" if s.turnout_s else ""
        out.append("Turnout: " + "; ".join(t for t in (every, own) if t) + ".")
    if site_turnout_s:
        out.append(f"Turnout at the site: {site_turnout_s:g} s before an officer sent by "
                   "this order moves on.")
    if s.deploy or s.reassign:
        out.append(f"Already in the scenario: {len(s.deploy)} officer(s) sent to a site, "
                   f"{len(s.reassign)} moved to another station.")
    for z in temporary_zones:
        target = "the run's threshold" if z.target_min is None else f"{z.target_min:g} min"
        prio = "-" if z.priority is None else str(z.priority)
        out.append(f"Temporary zone {z.zone_id} '{z.name}': priority {prio}, target "
                   f"{target}, {z.min_officers} officer(s) required.")
    return tuple(out)


def deployment_order(bf: Backfill, *, issued: datetime | None = None,
                     title: str = "Deployment order",
                     conditions: Sequence[str] = ()) -> DeploymentOrder:
    """Return the plan ``bf`` as a deployment order issued at ``issued`` (default: now).

    The time is shown in ``settings.local_tz()`` (``SECCOV_TZ``, default Asia/Karachi).
    ``conditions`` (from :func:`plan_conditions`) say what the plan assumed: closed roads,
    delays, temporary zones; the order prints them so nobody carries it out unaware.
    """
    tz = ZoneInfo(settings.local_tz())
    when = (issued or datetime.now(tz)).astimezone(tz)
    roster = bf.before.dataset.officers.set_index("officer_id")
    lines = []
    for number, (o, zones) in enumerate(zip(orders(bf), restored_zones(bf), strict=True),
                                        start=1):
        row = roster.loc[o.officer_id]
        lines.append(OrderLine(
            number=number, kind="move" if isinstance(o, OfficerMove) else "reserve",
            officer_id=o.officer_id, name=str(row.get("name", "")),
            rank=str(row.get("rank", "")), from_station=o.from_station, from_lat=o.from_lat,
            from_lon=o.from_lon, to_site=o.site,
            node_id=o.node_id, lat=o.lat, lon=o.lon, travel_min=o.travel_min, gain=o.gain,
            restores=zones))
    return DeploymentOrder(
        title=title, issued=when, marking=settings.HANDLING_MARKING, lines=tuple(lines),
        before=key_figures(bf.before), after=key_figures(bf.after),
        objective_before=bf.objective_before, objective_after=bf.objective_after,
        objective_max=bf.objective_max, optimal=bf.optimal, method=bf.method,
        suspended=len(bf.before.suspended), scenario_sha256=bf.scenario.sha256,
        notes=bf.notes, conditions=tuple(conditions))


def csv_cell(value: object) -> str:
    """``value`` as CSV text; text starting like a formula gets a leading ``'`` (never run)."""
    return str(safe_cell("" if value is None else str(value)))


def issued_text(order: DeploymentOrder) -> str:
    """The time of issue as people read it, e.g. ``2026-11-28 10:15 PKT (Asia/Karachi)``."""
    return f"{order.issued:%Y-%m-%d %H:%M} {order.issued.tzname()} ({order.issued.tzinfo})"


def figure_rows(order: DeploymentOrder) -> list[tuple[str, str, str]]:
    """(figure, before, after) rows of the key figures, formatted for a document."""
    b, a = order.before, order.after

    def pct(v: float) -> str:
        return f"{100 * v:.1f}%"

    def p90(v: float | None) -> str:
        return "unreachable" if v is None else f"{v:.1f} min"

    return [
        ("Objective (DATA.md)", f"{order.objective_before:g} of {order.objective_max:g}",
         f"{order.objective_after:g} of {order.objective_max:g}"),
        ("Available units", str(b.available_units), str(a.available_units)),
        ("Zones with a gap", f"{b.zones_with_gap} of {b.zones}",
         f"{a.zones_with_gap} of {a.zones}"),
        ("Zone nodes covered", pct(b.covered_share), pct(a.covered_share)),
        ("Officers short", str(b.officers_short), str(a.officers_short)),
        ("Worst zone p90", p90(b.worst_p90_min), p90(a.worst_p90_min)),
    ]


ORDER_COLUMNS = ("order", "kind", "officer_id", "name", "rank", "from_station", "to_site",
                 "to_node_id", "lat", "lon", "travel_min", "restores_zones")


def order_csv(order: DeploymentOrder) -> bytes:
    """Return the order as UTF-8 CSV: marking, issue time and figures, then one row per order.

    Every cell is passed through :func:`csv_cell`, so an id or name from a data file that
    starts with ``=``, ``+``, ``-``, ``@`` or a tab cannot run as a spreadsheet formula.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")

    def row(*cells: object) -> None:
        w.writerow([csv_cell(c) for c in cells])

    row("marking", order.marking)
    row("title", order.title)
    row("issued", order.issued.isoformat(timespec="seconds"), issued_text(order))
    row("plan", f"{order.method}, {'optimal' if order.optimal else 'not proven optimal'}",
        f"scenario sha256 {order.scenario_sha256}")
    for text in order.conditions:  # closures, delays, temporary zones the plan assumed
        row("planned under", text)
    row("figure", "before", "after")
    for f in figure_rows(order):
        row(*f)
    row()
    row(*ORDER_COLUMNS)
    for ln in order.lines:
        row(ln.number, ln.kind, ln.officer_id, ln.name, ln.rank, ln.from_station, ln.to_site,
            ln.node_id, f"{ln.lat:.6f}", f"{ln.lon:.6f}",
            "" if ln.travel_min is None else f"{ln.travel_min:.1f}", "; ".join(ln.restores))
    for note in order.notes:  # e.g. which stations' kit held reserves back
        row("note", note)
    row()
    row("issued by (name, rank)", "", "signature", "")
    return buf.getvalue().encode("utf-8")
