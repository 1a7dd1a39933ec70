"""Report: a run's key figures, the one before/after comparison, and the ``report`` outputs.

:func:`key_figures` and :func:`compare` are the single home of "before and after": the what-if
page, the briefings and the command line all read them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from coverage.engine.analysis import Coverage
from coverage.engine.metrics import ZONE_COLUMNS, Weights, demand, zone_objective
from coverage.errors import DataError


def _clean(value: Any) -> Any:
    """JSON-safe scalar: numpy types to Python, NaN/inf/NA to None."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def report_dict(cov: Coverage) -> dict[str, Any]:
    """Return the report as a JSON-ready dict: ``units``, ``zones``, ``overall`` and more.

    ``zones`` lists every zone in input order with the DATA.md figures; ``gaps`` lists the
    ids of zones with a gap, most urgent first.
    """
    zones = [
        {col: _clean(row[col]) for col in ZONE_COLUMNS}
        | {"measured_at_anchor": bool(row["at_anchor"])}
        for row in cov.table.to_dict(orient="records")
    ]
    measured_at_anchor = [str(z) for z in cov.table.loc[cov.table["at_anchor"], "zone_id"]]
    return {
        "units": asdict(cov.counts),
        "zones": zones,
        "overall": {k: _clean(v) for k, v in asdict(cov.overall).items()}
        | {"threshold_min": cov.threshold_min},
        "gaps": [str(z) for z in cov.gaps["zone_id"]],
        "zones_measured_at_anchor": measured_at_anchor,
        "suspended": list(cov.suspended),
        "sources": dict(cov.dataset.sources),
    }


def _fmt(value: Any, digits: int = 1) -> str:
    value = _clean(value)
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "GAP" if value else "ok"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def report_table(cov: Coverage) -> str:
    """Return the report as aligned text for people: key figures, then zones, gaps first."""
    c, o = cov.counts, cov.overall
    lines = [
        f"Units: {c.available} available ({c.on_duty} on duty, {c.reserve} reserve, "
        f"{c.off_duty} off duty, {c.suspended} suspended)",
        f"Zones: {o.zones} ({o.zones_with_gap} with a gap); zone nodes covered "
        f"{o.covered_share:.1%}; officers short {o.officers_short}; threshold "
        f"{cov.threshold_min:g} min",
        f"Worst zone: {o.worst_zone or '-'} (p90 {_fmt(o.worst_p90_min)} min)",
        "",
    ]
    gaps = cov.gaps
    rest = cov.table.loc[~cov.table["gap"]]
    ordered = pd.concat([gaps, rest]) if len(gaps) else rest
    header = ["status", "zone_id", "name", "prio", "target", "nodes", "covered", "p50",
              "p90", "max", "unreach", "officers"]
    body = [
        [
            _fmt(bool(r["gap"])), str(r["zone_id"]), str(r["name"])[:32], _fmt(r["priority"]),
            _fmt(r["target_min"]), str(r["nodes"]), f"{r['covered_share']:.0%}",
            _fmt(r["p50_min"]), _fmt(r["p90_min"]), _fmt(r["max_min"]),
            str(r["unreachable_nodes"]), f"{r['officers_within_target']}/{r['min_officers']}",
        ]
        for r in ordered.to_dict(orient="records")
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    left = {1, 2}
    for row in [header, *body]:
        cells = [
            cell.ljust(w) if i in left or i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def unreachable_notes(cov: Coverage) -> list[str]:
    """One line per zone with nodes no available unit can reach (also in the figures)."""
    rows = cov.table.loc[cov.table["unreachable_nodes"] > 0]
    return [
        f"zone {r['zone_id']}: {r['unreachable_nodes']} of {r['nodes']} road node(s) cannot be "
        "reached by any available unit (one-way streets or a road network in pieces?)"
        for r in rows.to_dict(orient="records")
    ]


def zone_view(cov: Coverage) -> pd.DataFrame:
    """Return the zone table for a screen: gaps first (most urgent first), then the rest.

    Columns ``zone_id``, ``name``, ``priority``, ``status`` (``GAP``/``ok``), ``target_min``,
    ``covered_pct`` (0-100), ``p50_min``, ``p90_min``, ``max_min`` (missing when
    unreachable), ``unreachable_nodes``, ``officers_within_target``, ``min_officers``,
    ``nodes``; a new frame whose index is the row position.
    """
    t = cov.table
    rest = t.loc[~t["gap"]].sort_values(["priority", "zone_id"], kind="stable",
                                         na_position="first")
    ordered = pd.concat([cov.gaps, rest])
    return pd.DataFrame({
        "zone_id": ordered["zone_id"].astype(str),
        "name": ordered["name"].astype(str),
        "priority": ordered["priority"].astype("Int64"),
        "status": ["GAP" if g else "ok" for g in ordered["gap"]],
        "target_min": ordered["target_min"].astype("float64"),
        "covered_pct": (100.0 * ordered["covered_share"]).astype("float64"),
        "p50_min": ordered["p50_min"].astype("Float64"),
        "p90_min": ordered["p90_min"].astype("Float64"),
        "max_min": ordered["max_min"].astype("Float64"),
        "unreachable_nodes": ordered["unreachable_nodes"].astype("int64"),
        "officers_within_target": ordered["officers_within_target"].astype("int64"),
        "min_officers": ordered["min_officers"].astype("int64"),
        "nodes": ordered["nodes"].astype("int64"),
    }).reset_index(drop=True)


@dataclass(frozen=True)
class KeyFigures:
    """The headline figures of one run (as in ``report_dict``)."""

    available_units: int
    zones: int
    zones_with_gap: int
    covered_share: float
    officers_short: int
    worst_zone: str | None
    worst_zone_name: str | None
    worst_p90_min: float | None


def key_figures(cov: Coverage) -> KeyFigures:
    """Return the headline figures of ``cov``."""
    o = cov.overall
    names = dict(zip(cov.table["zone_id"].astype(str), cov.table["name"].astype(str),
                     strict=True))
    return KeyFigures(
        available_units=cov.counts.available, zones=o.zones, zones_with_gap=o.zones_with_gap,
        covered_share=o.covered_share, officers_short=o.officers_short,
        worst_zone=o.worst_zone, worst_zone_name=names.get(o.worst_zone or ""),
        worst_p90_min=o.worst_p90_min,
    )


def compare(a: Coverage, b: Coverage, *, weights: Weights | None = None) -> pd.DataFrame:
    """Return one row per zone with ``a`` and ``b`` side by side and ``b - a`` deltas.

    Columns: ``zone_id``, ``name``, ``priority`` and, for ``objective`` (weight x nodes
    covered), ``covered_share``, ``p50_min``, ``p90_min``, ``max_min`` and
    ``officers_within_target``: ``<figure>_a``, ``<figure>_b``, ``<figure>_delta``
    (missing where a minute figure is unreachable); then ``gap_a``, ``gap_b``.
    """
    if set(a.zones.zone_id) != set(b.zones.zone_id):
        msg = "compare: the two runs have different zones; compare runs of the same zones file"
        raise DataError(msg)
    figures = ["covered_share", "p50_min", "p90_min", "max_min", "officers_within_target"]
    out = a.table[["zone_id", "name", "priority"]].copy()
    tb = b.table.set_index("zone_id").reindex(a.table["zone_id"])
    cols: dict[str, Any] = {
        "objective_a": zone_objective(demand(a.zones, weights=weights), a.times.seconds),
        "objective_b": zone_objective(demand(b.zones, weights=weights), b.times.seconds)[
            [b.zones.zone_id.index(z) for z in a.zones.zone_id]],
    }
    for f in figures:
        cols[f"{f}_a"] = a.table[f].to_numpy()
        cols[f"{f}_b"] = tb[f].to_numpy()
    for f in ["objective", *figures]:
        va = pd.array(cols[f"{f}_a"], dtype="Float64")
        vb = pd.array(cols[f"{f}_b"], dtype="Float64")
        out[f"{f}_a"], out[f"{f}_b"], out[f"{f}_delta"] = va, vb, vb - va
    out["gap_a"], out["gap_b"] = a.table["gap"].to_numpy(), tb["gap"].to_numpy()
    return out.reset_index(drop=True)
