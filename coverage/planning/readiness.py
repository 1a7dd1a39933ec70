"""Readiness: per-station strength, absence, complaints, grievances, refusals and kit (DATA.md).

Windows end on the as-of date, inclusive: 30 days are ``as_of - 29 .. as_of``, 90 days
``as_of - 89 .. as_of``. Officers belong to their roster ``station_id``; counts are after the
suspension list. A station's ``level`` is ``critical``, ``warning`` or ``ok`` by the rules in
:class:`Thresholds` (defaults in :mod:`coverage.settings`), and ``reasons`` names each rule
that fired. The figures are station aggregates: no officer-level record leaves this module.

Also here, for planning: each unit's refusal probability by its station's level
(:func:`unit_refusal_p`) and each station's spare kit (:func:`spare_kit`).

Examples
--------
A station of 10 officers with 25 absence days in the 30-day window has
``absence_rate_30d = 25 / (10 x 30) = 0.083``: below the 0.10 warning threshold.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage import settings
from coverage.data.network import FloatArray
from coverage.engine.units import apply_suspension
from coverage.errors import DataError

logger = logging.getLogger(__name__)

LEVELS: tuple[str, ...] = settings.READINESS_LEVELS
STATION_COLUMNS: tuple[str, ...] = (
    "station_id", "name", "strength", "sanctioned_strength", "on_duty", "reserve", "off_duty",
    "suspended", "suspended_share", "absence_rate_30d", "complaints_90d", "grievances_90d",
    "refusals_90d", "level", "reasons",
)
KIT_COLUMNS: tuple[str, ...] = ("station_id", "item", "on_hand", "per_officer", "needed",
                                "short")
TREND_COLUMNS: tuple[str, ...] = (
    "station_id", "week_start", "week_end", "absence_days", "absence_rate", "complaints",
    "grievances", "refusals", "commendations",
)


def _crit(key: str) -> float:
    return float(settings.READINESS_CRITICAL[key])


def _warn(key: str) -> float:
    return float(settings.READINESS_WARNING[key])


@dataclass(frozen=True)
class Thresholds:
    """The level rules (DATA.md); each field overrides one threshold.

    ``critical`` when refusals_90d >= ``critical_refusals_90d``, absence_rate_30d >=
    ``critical_absence_rate_30d``, suspended_share >= ``critical_suspended_share`` or an item's
    on_hand < ``critical_kit_on_hand_share`` x needed; else ``warning`` when refusals_90d,
    grievances_90d, complaints_90d, absence_rate_30d or suspended_share reach their
    ``warning_*`` threshold, or an item is short; else ``ok``.
    """

    critical_refusals_90d: float = field(default_factory=lambda: _crit("refusals_90d"))
    critical_absence_rate_30d: float = field(default_factory=lambda: _crit("absence_rate_30d"))
    critical_suspended_share: float = field(default_factory=lambda: _crit("suspended_share"))
    critical_kit_on_hand_share: float = field(
        default_factory=lambda: _crit("kit_on_hand_share"))
    warning_refusals_90d: float = field(default_factory=lambda: _warn("refusals_90d"))
    warning_grievances_90d: float = field(default_factory=lambda: _warn("grievances_90d"))
    warning_complaints_90d: float = field(default_factory=lambda: _warn("complaints_90d"))
    warning_absence_rate_30d: float = field(default_factory=lambda: _warn("absence_rate_30d"))
    warning_suspended_share: float = field(default_factory=lambda: _warn("suspended_share"))

    def __post_init__(self) -> None:
        bad = [f"{k} {v!r}" for k, v in vars(self).items()
               if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0)]
        if bad:
            msg = f"thresholds: {', '.join(bad)}: each must be a number >= 0"
            raise DataError(msg)


@dataclass(frozen=True, eq=False)
class Readiness:
    """Readiness of every station as of a date.

    ``stations``: one row per station of the stations file, in its order, columns
    :data:`STATION_COLUMNS` (``reasons`` a tuple of str). ``kit``: one row per station and
    item of the resources file, columns :data:`KIT_COLUMNS`. ``items`` lists the resource
    items in file order.
    """

    as_of: date
    stations: pd.DataFrame
    kit: pd.DataFrame
    items: tuple[str, ...]
    suspended: tuple[str, ...]
    thresholds: Thresholds

    def level_of(self) -> dict[str, str]:
        """Each station's level, by station id."""
        return dict(zip(self.stations["station_id"], self.stations["level"], strict=True))


def default_as_of(events: pd.DataFrame) -> date:
    """The as-of date when none is given: the newest event's date, else today's date."""
    if len(events):
        return max(events["date"])
    return date.today()


def check_as_of(as_of: object, what: str = "as_of") -> date:
    """Return ``as_of`` when it is a date within :data:`coverage.settings.PLAUSIBLE_YEARS`,
    else raise DataError naming ``what``."""
    if not isinstance(as_of, date):
        msg = f"{what}: give a date, got {as_of!r}"
        raise DataError(msg)
    first, last = settings.PLAUSIBLE_YEARS
    if not first <= as_of.year <= last:
        msg = f"{what}: {as_of.isoformat()} is outside the years {first}..{last}; check the year"
        raise DataError(msg)
    return as_of


def _window(events: pd.DataFrame, as_of: date, days: int) -> pd.DataFrame:
    # days between dates, not as_of - timedelta: that overflows near 0001-01-01
    mask = [0 <= (as_of - d).days < days for d in events["date"]]
    return events.loc[np.asarray(mask, dtype=bool)]


def _per_station(values: pd.Series, index: pd.Index) -> pd.Series:
    return values.groupby(level=0).sum().reindex(index, fill_value=0)


def _events_by_station(events: pd.DataFrame, home: Mapping[str, str]) -> pd.DataFrame:
    """Events with their officer's roster station (events of unknown officers dropped)."""
    station = events["officer_id"].map(home)
    out = events.assign(station_id=station)
    return out.loc[station.notna()]


def _kit(stations: Sequence[str], counts: Mapping[str, Mapping[str, int]],
         resources: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    items = tuple(dict.fromkeys(str(v) for v in resources["item"]))
    given = {(str(s), str(t)): (int(h), int(p)) for s, t, h, p in zip(
        resources["station_id"], resources["item"], resources["on_hand"],
        resources["per_officer"], strict=True)}
    # a station without a row for an item has none of it; one item serves as many officers
    # as the smallest per_officer any station gives it (the most cautious reading)
    per_item: dict[str, int] = {}
    for item, per in zip(resources["item"], resources["per_officer"], strict=True):
        per_item[str(item)] = min(int(per), per_item.get(str(item), int(per)))
    rows = []
    for sid in stations:
        deployable = counts[sid]["on_duty"] + counts[sid]["reserve"]
        for item in items:
            on_hand, per = given.get((sid, item), (0, per_item[item]))
            needed = math.ceil(deployable / per)
            rows.append((sid, item, on_hand, per, needed, max(0, needed - on_hand)))
    kit = pd.DataFrame(rows, columns=list(KIT_COLUMNS))
    return kit.astype(dict.fromkeys(KIT_COLUMNS[2:], "int64")), items


def _fmt(value: float) -> str:
    return f"{value:.2f}" if isinstance(value, float) and not value.is_integer() else f"{value:g}"


def _level(row: Mapping[str, Any], kit: pd.DataFrame, th: Thresholds) -> tuple[str, tuple[str,
                                                                                          ...]]:
    """The level of one station and the rules that fired (a warning rule is not repeated
    for an indicator that already fired as critical)."""
    critical: list[str] = []
    warning: list[str] = []
    for key in ("refusals_90d", "absence_rate_30d", "suspended_share"):
        value = row[key]
        if value >= getattr(th, f"critical_{key}"):
            critical.append(f"{key} {_fmt(value)} >= {_fmt(getattr(th, f'critical_{key}'))}")
        elif value >= getattr(th, f"warning_{key}"):
            warning.append(f"{key} {_fmt(value)} >= {_fmt(getattr(th, f'warning_{key}'))}")
    for key in ("grievances_90d", "complaints_90d"):
        if row[key] >= getattr(th, f"warning_{key}"):
            warning.append(f"{key} {row[key]} >= {_fmt(getattr(th, f'warning_{key}'))}")
    for item, on_hand, needed, short in zip(kit["item"], kit["on_hand"], kit["needed"],
                                            kit["short"], strict=True):
        if on_hand < th.critical_kit_on_hand_share * needed:
            critical.append(f"kit {item}: on_hand {on_hand} < "
                            f"{_fmt(th.critical_kit_on_hand_share)} x needed {needed}")
        elif short > 0:
            warning.append(f"kit {item}: {short} short (on_hand {on_hand}, needed {needed})")
    reasons = tuple(f"critical: {r}" for r in critical) + tuple(f"warning: {r}" for r in warning)
    return ("critical" if critical else "warning" if warning else "ok"), reasons


def readiness(
    stations: gpd.GeoDataFrame,
    officers: gpd.GeoDataFrame,
    events: pd.DataFrame,
    resources: pd.DataFrame,
    *,
    as_of: date | None = None,
    suspended: Iterable[str] = (),
    thresholds: Thresholds | None = None,
) -> Readiness:
    """Return the readiness of every station (see the module docstring and DATA.md).

    Parameters
    ----------
    stations, officers
        Frames from the loaders (not modified). Officers whose ``station_id`` names no
        station are left out.
    events, resources
        Frames from :func:`coverage.data.personnel.read_events` / ``read_resources``.
    as_of
        The last day of the windows (default: :func:`default_as_of`). Events after it are
        not counted.
    suspended
        Officer ids suspended on top of the roster's statuses.
    thresholds
        Level rules (default: :class:`Thresholds` from the settings).
    """
    th = thresholds or Thresholds()
    when = check_as_of(as_of if as_of is not None else default_as_of(events))
    susp = tuple(dict.fromkeys(str(s) for s in suspended))
    roster = apply_suspension(officers, susp)
    sids = [str(s) for s in stations["station_id"]]
    index = pd.Index(sids, name="station_id")
    roster = roster.loc[roster["station_id"].astype(str).isin(index)]
    table = (pd.crosstab(roster["station_id"].astype(str), roster["status"])
             .reindex(index=index, columns=["on_duty", "reserve", "off_duty", "suspended"],
                      fill_value=0).astype("int64"))
    counts: dict[str, dict[str, int]] = {
        str(sid): {str(k): int(v) for k, v in row.items()}
        for sid, row in table.to_dict("index").items()}
    home = dict(zip(roster["officer_id"].astype(str), roster["station_id"].astype(str),
                    strict=True))
    ev = _events_by_station(events, home)
    d30 = _window(ev, when, settings.ABSENCE_WINDOW_DAYS)
    d90 = _window(ev, when, settings.EVENTS_WINDOW_DAYS)
    absent = d30.loc[d30["kind"].isin(["absence", "sick_leave"])]
    absence_days = _per_station(absent.set_index("station_id")["days"], index)
    per_kind = {k: _per_station(pd.Series(1, index=pd.Index(
        d90.loc[d90["kind"] == k, "station_id"])), index) for k in
        ("complaint", "grievance", "refusal")}
    sanctioned = stations.get("sanctioned_strength")
    kit, items = _kit(sids, counts, resources)
    rows = []
    for i, sid in enumerate(sids):
        n = sum(counts[sid].values())
        row: dict[str, Any] = {
            "station_id": sid,
            "name": str(stations["name"].iloc[i]) if "name" in stations else sid,
            "strength": n,
            "sanctioned_strength": (None if sanctioned is None or pd.isna(sanctioned.iloc[i])
                                    else int(sanctioned.iloc[i])),
            **counts[sid],
            "suspended_share": counts[sid]["suspended"] / n if n else 0.0,
            "absence_rate_30d": (float(absence_days[sid]) / (n * settings.ABSENCE_WINDOW_DAYS)
                                 if n else 0.0),
            "complaints_90d": int(per_kind["complaint"][sid]),
            "grievances_90d": int(per_kind["grievance"][sid]),
            "refusals_90d": int(per_kind["refusal"][sid]),
        }
        row["level"], row["reasons"] = _level(row, kit.loc[kit["station_id"] == sid], th)
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(STATION_COLUMNS))
    out = out.astype({"suspended_share": "float64", "absence_rate_30d": "float64"})
    logger.info("readiness as of %s: %s", when, dict(out["level"].value_counts()))
    return Readiness(as_of=when, stations=out, kit=kit, items=items, suspended=susp,
                     thresholds=th)


def station_records(r: Readiness) -> list[dict[str, Any]]:
    """One JSON-ready object per station: the DATA.md figures, ``kit`` by item, level."""
    out = []
    for row in r.stations.to_dict("records"):
        kit = r.kit.loc[r.kit["station_id"] == row["station_id"]]
        out.append({
            **{k: row[k] for k in STATION_COLUMNS if k != "reasons"},
            "kit": {str(k["item"]): {"on_hand": int(k["on_hand"]), "needed": int(k["needed"]),
                                     "short": int(k["short"])}
                    for k in kit.to_dict("records")},
            "reasons": list(row["reasons"]),
        })
    return out


def shortages(r: Readiness) -> pd.DataFrame:
    """The kit rows with a shortage, most short first (station aggregates)."""
    short = r.kit.loc[r.kit["short"] > 0]
    return short.sort_values(["short", "station_id", "item"], ascending=[False, True, True],
                             kind="stable").reset_index(drop=True)


def weekly_trends(
    stations: gpd.GeoDataFrame,
    officers: gpd.GeoDataFrame,
    events: pd.DataFrame,
    *,
    as_of: date,
    weeks: int = settings.TREND_WEEKS,
) -> pd.DataFrame:
    """Return per station and week the events counted in the readiness figures.

    Weeks are 7-day periods ending on ``as_of`` (the last one ``as_of - 6 .. as_of``), the
    oldest first. Columns :data:`TREND_COLUMNS`: ``absence_days`` sums the days of
    ``absence`` and ``sick_leave`` events dated in the week, ``absence_rate`` is that over
    (roster strength x 7), the others count events of that kind. Station aggregates only.
    """
    check_as_of(as_of)
    if not 1 <= weeks <= 520:
        msg = f"weeks: give a whole number from 1 to 520, got {weeks!r}"
        raise DataError(msg)
    sids = [str(s) for s in stations["station_id"]]
    strength = officers["station_id"].astype(str).value_counts()
    home = dict(zip(officers["officer_id"].astype(str), officers["station_id"].astype(str),
                    strict=True))
    ev = _events_by_station(events, home)
    ages = np.array([(as_of - d).days for d in ev["date"]], dtype=np.int64)
    keep = (ages >= 0) & (ages < 7 * weeks)
    ev = ev.loc[keep].assign(week=(weeks - 1) - ages[keep] // 7)
    rows = []
    for sid in sids:
        mine = ev.loc[ev["station_id"] == sid]
        n = int(strength.get(sid, 0))
        for w in range(weeks):
            wk = mine.loc[mine["week"] == w]
            end = as_of - timedelta(days=7 * (weeks - 1 - w))
            days = int(wk.loc[wk["kind"].isin(["absence", "sick_leave"]), "days"].sum())
            counts = wk["kind"].value_counts()
            rows.append((sid, end - timedelta(days=6), end, days, days / (7 * n) if n else 0.0,
                         *(int(counts.get(k, 0)) for k in
                           ("complaint", "grievance", "refusal", "commendation"))))
    return pd.DataFrame(rows, columns=list(TREND_COLUMNS))


def station_events(officers: gpd.GeoDataFrame, events: pd.DataFrame, station_id: str, *,
                   as_of: date, days: int = settings.EVENTS_WINDOW_DAYS) -> pd.DataFrame:
    """Return the officer-level events of one station's officers in the ``days`` up to
    ``as_of``, newest first: PERSONNEL RECORDS, for roles allowed to see them only.

    Columns ``officer_id``, ``name``, ``rank``, ``date``, ``kind``, ``days``, ``note`` (the
    note is untrusted text: show it as plain text, never as markup).
    """
    check_as_of(as_of)
    mine = officers.loc[officers["station_id"].astype(str) == str(station_id),
                        ["officer_id", "name", "rank"]]
    ev = _window(events, as_of, days).merge(pd.DataFrame(mine), on="officer_id", how="inner")
    ev = ev.sort_values(["date", "officer_id"], ascending=[False, True], kind="stable")
    return ev[["officer_id", "name", "rank", "date", "kind", "days", "note"]].reset_index(
        drop=True)


def check_refusal_p(refusal_p: Mapping[str, float]) -> dict[str, float]:
    """Return ``refusal_p`` as a dict over every level; raise DataError when one is missing
    or not a probability."""
    problems = [f"level '{k}' is not one of {', '.join(LEVELS)}" for k in refusal_p
                if k not in LEVELS]
    problems += [f"no probability for level '{k}'" for k in LEVELS if k not in refusal_p]
    problems += [f"{k}={v!r} is not a probability between 0 and 1" for k, v in
                 refusal_p.items() if not (isinstance(v, int | float) and 0 <= v <= 1)]
    if problems:
        msg = f"refusal probabilities: {'; '.join(problems)}"
        raise DataError(msg)
    return {k: float(refusal_p[k]) for k in LEVELS}


def station_refusal_p(r: Readiness, *, refusal_p: Mapping[str, float] = settings.REFUSAL_P,
                      ) -> dict[str, float]:
    """Each station's refusal probability per unit, by its level."""
    p = check_refusal_p(refusal_p)
    return {sid: p[level] for sid, level in r.level_of().items()}


def unit_refusal_p(r: Readiness, station_ids: Sequence[str], *,
                   refusal_p: Mapping[str, float] = settings.REFUSAL_P) -> FloatArray:
    """The probability that each unit fails to answer, by its station's level.

    ``station_ids[u]`` is unit ``u``'s station (e.g. ``Coverage.units.station_id``); a unit
    of a station not in the readiness table takes the ``ok`` probability.
    """
    p = check_refusal_p(refusal_p)
    by_station = station_refusal_p(r, refusal_p=p)
    return np.array([by_station.get(str(s), p["ok"]) for s in station_ids], dtype=np.float64)


def spare_kit(r: Readiness, items: Sequence[str] | None = None) -> pd.DataFrame:
    """Each station's spare kit per item: ``on_hand x per_officer - on_duty``, never below 0.

    ``on_duty`` counts the station's on-duty officers after the suspension list. A reserve
    a plan deploys takes one of each kit item from this spare (DATA.md, "Kit guarantee").
    Columns ``station_id``, ``item``, ``on_hand``, ``per_officer``, ``on_duty``, ``spare``;
    ``items`` limits the items (an item the resources file does not list is a DataError).
    """
    wanted = tuple(r.items if items is None else items)
    unknown = [i for i in wanted if i not in r.items]
    if unknown:
        msg = (f"kit: item(s) {', '.join(repr(i) for i in unknown)} are not in the resources "
               f"file; it lists {', '.join(r.items) or 'no items'}")
        raise DataError(msg)
    kit = r.kit.loc[r.kit["item"].isin(wanted)]
    on_duty = r.stations.set_index("station_id")["on_duty"]
    duty = kit["station_id"].map(on_duty).astype("int64")
    spare = (kit["on_hand"] * kit["per_officer"] - duty).clip(lower=0)
    return pd.DataFrame({
        "station_id": kit["station_id"].to_numpy(), "item": kit["item"].to_numpy(),
        "on_hand": kit["on_hand"].to_numpy(), "per_officer": kit["per_officer"].to_numpy(),
        "on_duty": duty.to_numpy(), "spare": spare.astype("int64").to_numpy(),
    })
