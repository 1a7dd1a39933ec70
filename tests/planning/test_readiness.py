"""Readiness figures on hand-made events and resources, every number worked out by hand.

The tiny district (tests/conftest.py): station S1 holds A (on duty) and B (on duty, own
position); S2 holds C (reserve), D (on duty) and E (off duty). As of 2026-11-25 the 30-day
window is 2026-10-27 .. 2026-11-25 and the 90-day window 2026-08-28 .. 2026-11-25.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from coverage.data.loaders import read_officers, read_stations
from coverage.data.personnel import read_events, read_resources
from coverage.errors import DataError
from coverage.planning.readiness import (
    Thresholds,
    readiness,
    shortages,
    spare_kit,
    station_events,
    station_records,
    station_refusal_p,
    unit_refusal_p,
    weekly_trends,
)
from tests.support.tiny import write

AS_OF = date(2026, 11, 25)
EVENTS = (
    "officer_id,date,kind,days,note\n"
    "A,2026-10-27,absence,8,first day of the 30-day window\n"
    "A,2026-10-26,absence,5,one day before the window: not counted\n"
    "B,2026-11-25,sick_leave,2,the as-of day itself\n"
    "B,2026-11-26,absence,4,after the as-of date: not counted\n"
    "D,2026-08-28,complaint,,first day of the 90-day window\n"
    "D,2026-08-27,complaint,,one day before: not counted\n"
    "C,2026-11-01,complaint,,\n"
    "C,2026-11-01,complaint,,same day again: a second complaint\n"
    "E,2026-11-01,grievance,,no vest\n"
    "D,2026-11-20,refusal,,\n"
    "E,2026-11-13,commendation,,\n"
)
RESOURCES = ("station_id,item,on_hand,per_officer\n"
             "S1,vest,1,1\n"
             "S1,vehicle,1,4\n"
             "S2,vest,2,1\n")  # S2 lists no vehicle: it has none


@pytest.fixture
def hand(tiny_inputs: dict[str, Path], tmp_path: Path):
    stations = read_stations(tiny_inputs["stations"])
    officers = read_officers(tiny_inputs["officers"], stations)
    events = read_events(write(tmp_path / "events.csv", EVENTS), officers)
    resources = read_resources(write(tmp_path / "resources.csv", RESOURCES), stations)
    return stations, officers, events, resources


def _row(r, sid: str) -> dict:
    return r.stations.set_index("station_id").loc[sid].to_dict()


def test_station_figures_by_hand(hand) -> None:
    r = readiness(*hand, as_of=AS_OF)
    assert r.as_of == AS_OF
    assert r.stations["station_id"].tolist() == ["S1", "S2"]
    s1, s2 = _row(r, "S1"), _row(r, "S2")
    assert (s1["strength"], s1["on_duty"], s1["reserve"], s1["off_duty"], s1["suspended"]) == (
        2, 2, 0, 0, 0)
    assert (s2["strength"], s2["on_duty"], s2["reserve"], s2["off_duty"], s2["suspended"]) == (
        3, 1, 1, 1, 0)
    assert s1["sanctioned_strength"] is None  # the tiny stations file has none
    # S1: 8 (A, 2026-10-27) + 2 (B, 2026-11-25) days over 2 officers x 30 days
    assert s1["absence_rate_30d"] == pytest.approx(10 / 60)
    assert s2["absence_rate_30d"] == 0.0
    assert (s2["complaints_90d"], s2["grievances_90d"], s2["refusals_90d"]) == (3, 1, 1)
    assert (s1["complaints_90d"], s1["grievances_90d"], s1["refusals_90d"]) == (0, 0, 0)
    assert s1["suspended_share"] == 0.0


def test_kit_needed_and_short_by_hand(hand) -> None:
    r = readiness(*hand, as_of=AS_OF)
    kit = {(k["station_id"], k["item"]): (k["on_hand"], k["per_officer"], k["needed"], k["short"])
           for k in r.kit.to_dict("records")}
    # deployable = on_duty + reserve: S1 2, S2 2; a vehicle serves 4
    assert kit == {("S1", "vest"): (1, 1, 2, 1), ("S1", "vehicle"): (1, 4, 1, 0),
                   ("S2", "vest"): (2, 1, 2, 0), ("S2", "vehicle"): (0, 4, 1, 1)}
    assert r.items == ("vest", "vehicle")
    assert shortages(r)[["station_id", "item", "short"]].values.tolist() == [
        ["S1", "vest", 1], ["S2", "vehicle", 1]]


def test_levels_and_reasons_by_hand(hand) -> None:
    r = readiness(*hand, as_of=AS_OF)
    s1, s2 = _row(r, "S1"), _row(r, "S2")
    # S1: absence 0.17 >= 0.10 and a vest short (1 is not < 0.5 x 2): warning
    assert s1["level"] == "warning"
    assert s1["reasons"] == ("warning: absence_rate_30d 0.17 >= 0.10",
                             "warning: kit vest: 1 short (on_hand 1, needed 2)")
    # S2: no vehicle at all against 1 needed (0 < 0.5): critical; complaints and refusal warn
    assert s2["level"] == "critical"
    assert s2["reasons"] == ("critical: kit vehicle: on_hand 0 < 0.50 x needed 1",
                             "warning: refusals_90d 1 >= 1", "warning: complaints_90d 3 >= 3")


def test_the_suspension_list_counts(hand) -> None:
    r = readiness(*hand, as_of=AS_OF, suspended=["D"])
    s2 = _row(r, "S2")
    assert (s2["on_duty"], s2["suspended"], s2["strength"]) == (0, 1, 3)
    assert s2["suspended_share"] == pytest.approx(1 / 3)
    assert "critical: suspended_share 0.33 >= 0.25" in s2["reasons"]
    vest = r.kit.set_index(["station_id", "item"]).loc[("S2", "vest")]
    assert (vest["needed"], vest["short"]) == (1, 0)  # only C (reserve) left to equip


def test_thresholds_are_overridable(hand) -> None:
    th = Thresholds(warning_complaints_90d=4, critical_kit_on_hand_share=0.0,
                    warning_absence_rate_30d=0.5)
    r = readiness(*hand, as_of=AS_OF, thresholds=th)
    s1, s2 = _row(r, "S1"), _row(r, "S2")
    assert s1["reasons"] == ("warning: kit vest: 1 short (on_hand 1, needed 2)",)
    assert s2["level"] == "warning"
    assert s2["reasons"] == ("warning: refusals_90d 1 >= 1",
                             "warning: kit vehicle: 1 short (on_hand 0, needed 1)")
    with pytest.raises(DataError, match="thresholds: warning_refusals_90d -1"):
        Thresholds(warning_refusals_90d=-1)


def test_an_earlier_as_of_date_moves_the_windows(hand) -> None:
    r = readiness(*hand, as_of=date(2026, 11, 19))
    s1, s2 = _row(r, "S1"), _row(r, "S2")
    # window 2026-10-21 .. 2026-11-19: A's 5 days (10-26) and 8 days (10-27) count, B's not
    assert s1["absence_rate_30d"] == pytest.approx(13 / 60)
    assert s1["level"] == "critical"  # 0.217 >= 0.20
    assert s2["refusals_90d"] == 0  # the refusal is on 11-20
    # the default as-of date is the newest event's: 2026-11-26 (B's absence)
    assert readiness(*hand).as_of == date(2026, 11, 26)


def test_empty_events_and_resources_give_an_ok_district(hand, tmp_path) -> None:
    stations, officers, _, _ = hand
    events = read_events(write(tmp_path / "e.csv", "officer_id,date,kind\n"), officers)
    resources = read_resources(write(tmp_path / "r.csv", "station_id,item,on_hand\n"), stations)
    r = readiness(stations, officers, events, resources, as_of=AS_OF)
    assert r.stations["level"].tolist() == ["ok", "ok"]
    assert r.stations["reasons"].tolist() == [(), ()]
    assert len(r.kit) == 0


def test_station_records_for_json(hand) -> None:
    recs = station_records(readiness(*hand, as_of=AS_OF))
    s2 = recs[1]
    assert s2["station_id"] == "S2"
    assert s2["kit"] == {"vest": {"on_hand": 2, "needed": 2, "short": 0},
                         "vehicle": {"on_hand": 0, "needed": 1, "short": 1}}
    assert s2["level"] == "critical"
    assert isinstance(s2["reasons"], list)
    assert set(recs[0]) >= {"strength", "sanctioned_strength", "on_duty", "reserve",
                            "off_duty", "suspended", "suspended_share", "absence_rate_30d",
                            "complaints_90d", "grievances_90d", "refusals_90d", "kit",
                            "level", "reasons"}


def test_weekly_trends_by_hand(hand) -> None:
    stations, officers, events, _ = hand
    t = weekly_trends(stations, officers, events, as_of=AS_OF, weeks=2)
    assert t["station_id"].tolist() == ["S1", "S1", "S2", "S2"]
    assert t["week_start"].tolist() == [date(2026, 11, 12), date(2026, 11, 19)] * 2
    assert t["week_end"].tolist() == [date(2026, 11, 18), date(2026, 11, 25)] * 2
    s1_last = t.iloc[1]
    assert s1_last["absence_days"] == 2  # B's sick leave on the as-of day
    assert s1_last["absence_rate"] == pytest.approx(2 / 14)
    s2 = t.loc[t["station_id"] == "S2"]
    assert s2["refusals"].tolist() == [0, 1]  # 2026-11-20
    assert s2["commendations"].tolist() == [1, 0]  # 2026-11-13
    assert t["complaints"].sum() == 0  # 2026-11-01 is before both weeks


def test_refusal_probabilities_and_spare_kit(hand) -> None:
    r = readiness(*hand, as_of=AS_OF)
    assert station_refusal_p(r) == {"S1": 0.10, "S2": 0.30}
    p = unit_refusal_p(r, ["S2", "S1", "S9"], refusal_p={"ok": 0.0, "warning": 0.5,
                                                         "critical": 1.0})
    assert p.tolist() == [1.0, 0.5, 0.0]  # S9 is no station: the ok probability
    with pytest.raises(DataError, match="no probability for level 'critical'"):
        unit_refusal_p(r, ["S1"], refusal_p={"ok": 0.1, "warning": 0.2})
    with pytest.raises(DataError, match=r"ok=1\.5 is not a probability"):
        station_refusal_p(r, refusal_p={"ok": 1.5, "warning": 0.2, "critical": 0.3})
    spare = {(s["station_id"], s["item"]): s["spare"] for s in spare_kit(r).to_dict("records")}
    # on_hand x per_officer - on_duty, never below 0
    assert spare == {("S1", "vest"): 0, ("S1", "vehicle"): 2, ("S2", "vest"): 1,
                     ("S2", "vehicle"): 0}
    after = readiness(*hand, as_of=AS_OF, suspended=["D"])
    assert spare_kit(after, ["vest"])["spare"].tolist() == [0, 2]
    with pytest.raises(DataError, match="kit: item\\(s\\) 'helmet' are not in the resources"):
        spare_kit(r, ["helmet"])


@pytest.mark.parametrize("as_of", [date(1, 1, 1), date(1, 1, 28), date(9999, 12, 31),
                                   date(1899, 12, 31)])
def test_an_implausible_as_of_is_a_data_error_not_an_overflow(hand, as_of) -> None:
    stations, officers, events, resources = hand
    with pytest.raises(DataError, match=r"as_of: .* is outside the years 1900..2200"):
        readiness(stations, officers, events, resources, as_of=as_of)
    with pytest.raises(DataError, match="outside the years"):
        weekly_trends(stations, officers, events, as_of=as_of)
    with pytest.raises(DataError, match="outside the years"):
        station_events(officers, events, "S1", as_of=as_of)


def test_windows_count_by_days_between_dates(hand) -> None:
    stations, officers, events, resources = hand
    old = events.assign(date=[date(1, 1, 1)] * len(events))  # a frame not from read_events
    r = readiness(stations, officers, old, resources, as_of=date(1900, 1, 1))
    assert r.stations["refusals_90d"].sum() == 0
    t = weekly_trends(stations, officers, old, as_of=date(1900, 1, 1), weeks=520)
    assert t["week_start"].min() == date(1900, 1, 1) - timedelta(days=7 * 520 - 1)
    assert t["refusals"].sum() == 0
    with pytest.raises(DataError, match="weeks: give a whole number from 1 to 520"):
        weekly_trends(stations, officers, old, as_of=date(1900, 1, 1), weeks=10**6)
