"""Personnel events and station resources: what the loaders keep, and every problem named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from coverage.data.loaders import read_officers, read_stations
from coverage.data.personnel import read_events, read_resources
from coverage.errors import DataError, DataWarning
from tests.support.tiny import write


@pytest.fixture
def people(tiny_inputs: dict[str, Path]):
    stations = read_stations(tiny_inputs["stations"])
    return stations, read_officers(tiny_inputs["officers"], stations)


def test_events_are_read_with_defaults_and_notes_kept_verbatim(people, tmp_path) -> None:
    _, officers = people
    path = write(tmp_path / "events.csv",
                 "officer_id,date,kind,days,note\n"
                 "A,2026-11-20,absence,3,\n"
                 "B,2026-11-21,sick_leave,,Fever\n"
                 "D,2026-11-25,refusal,,\"[click](http://x) <script>alert(1)</script>\"\n"
                 "E,2026-09-01,commendation,,\n")
    ev = read_events(path, officers)
    assert list(ev.columns) == ["officer_id", "kind", "date", "days", "note"]
    assert ev["officer_id"].tolist() == ["A", "B", "D", "E"]
    assert ev["kind"].tolist() == ["absence", "sick_leave", "refusal", "commendation"]
    assert ev["date"].tolist() == [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 25),
                                   date(2026, 9, 1)]
    assert ev["days"].tolist() == [3, 1, 1, 1]  # empty days: 1
    assert ev["note"].tolist() == ["", "Fever", "[click](http://x) <script>alert(1)</script>",
                                   ""]


def test_a_header_alone_is_a_file_with_no_events(people, tmp_path) -> None:
    _, officers = people
    ev = read_events(write(tmp_path / "events.csv", "officer_id,date,kind\n"), officers)
    assert len(ev) == 0
    assert list(ev.columns) == ["officer_id", "kind", "date", "days", "note"]


def test_every_problem_in_an_events_file_is_named_by_row_and_field(people, tmp_path) -> None:
    _, officers = people
    path = write(tmp_path / "events.csv",
                 "officer_id,date,kind,days,note\n"
                 "A,2026-11-20,absence,2,\n"          # row 1 fine
                 "ZZ,2026-11-20,absence,1,\n"         # row 2 unknown officer
                 "A,20/11/2026,absence,1,\n"          # row 3 not ISO
                 "A,2026-02-30,absence,1,\n"          # row 4 no such day
                 "A,2026-11-20,strike,,\n"            # row 5 unknown kind
                 "A,2026-11-20,absence,0,\n"          # row 6 days < 1
                 "A,2026-11-20,absence,1.5,\n"        # row 7 days not whole
                 "A,2026-11-20,complaint,2,\n"        # row 8 days on a complaint
                 ",,,,\n")                            # row 9 empty fields
    with pytest.raises(DataError) as err:
        read_events(path, officers)
    msg = str(err.value)
    for expected in (
        r"events.csv: row 2 (line 3): officer_id 'ZZ' names no officer",
        r"events.csv: row 3 (line 4): date '20/11/2026' is not an ISO 8601 date",
        r"events.csv: row 4 (line 5): date '2026-02-30' is not a valid calendar date",
        r"events.csv: row 5 (line 6): kind 'strike' is not one of absence, sick_leave",
        r"events.csv: row 6 (line 7): days '0' is out of range",
        r"events.csv: row 7 (line 8): days '1.5' is not a whole number",
        r"events.csv: row 8 (line 9): days is given for a 'complaint' event",
        r"events.csv: row 9 (line 10): officer_id is empty",
        r"events.csv: row 9 (line 10): date is empty",
        r"events.csv: row 9 (line 10): kind is empty",
    ):
        assert expected in msg, (expected, msg)
    assert "row 1 " not in msg


def test_events_need_their_columns_and_a_csv(people, tmp_path) -> None:
    _, officers = people
    with pytest.raises(DataError, match=r"events.csv: missing required column\(s\) kind"):
        read_events(write(tmp_path / "events.csv", "officer_id,date\nA,2026-11-20\n"), officers)
    with pytest.raises(DataError, match=r"events.json: unknown file type"):
        read_events(write(tmp_path / "events.json", "[]"), officers)
    with pytest.warns(DataWarning, match="ignored unknown column"):
        read_events(write(tmp_path / "e2.csv", "officer_id,date,kind,rank\nA,2026-11-20,"
                          "grievance,SI\n"), officers)


def test_resources_are_read_with_defaults(people, tmp_path) -> None:
    stations, _ = people
    path = write(tmp_path / "resources.csv",
                 "station_id,item,on_hand,per_officer\n"
                 "S1,vest,3,\n"
                 "S1,vehicle,1,4\n"
                 "S2,vest,0,1\n")
    rs = read_resources(path, stations)
    assert rs.to_dict("list") == {"station_id": ["S1", "S1", "S2"],
                                  "item": ["vest", "vehicle", "vest"],
                                  "on_hand": [3, 1, 0], "per_officer": [1, 4, 1]}


def test_every_problem_in_a_resources_file_is_named(people, tmp_path) -> None:
    stations, _ = people
    path = write(tmp_path / "resources.csv",
                 "station_id,item,on_hand,per_officer\n"
                 "S1,vest,3,1\n"
                 "S9,vest,3,1\n"      # row 2 unknown station
                 "S1,vest,2,1\n"      # row 3 duplicate pair
                 "S2,vest,-1,1\n"     # row 4 negative
                 "S2,radio,,1\n"      # row 5 empty on_hand
                 "S2,helmet,2,0\n"    # row 6 per_officer < 1
                 "S2,,2,1\n")         # row 7 no item
    with pytest.raises(DataError) as err:
        read_resources(path, stations)
    msg = str(err.value)
    for expected in (
        "resources.csv: row 2 (line 3): station_id 'S9' names no station",
        "resources.csv: row 3 (line 4): station_id 'S1' and item 'vest' repeat row 1 (line 2)",
        "resources.csv: row 4 (line 5): on_hand '-1' is out of range",
        "resources.csv: row 5 (line 6): on_hand is empty",
        "resources.csv: row 6 (line 7): per_officer '0' is out of range",
        "resources.csv: row 7 (line 8): item is empty",
    ):
        assert expected in msg, (expected, msg)


def test_loaders_want_the_loaded_frames(tmp_path) -> None:
    path = write(tmp_path / "events.csv", "officer_id,date,kind\n")
    with pytest.raises(DataError, match="officers: pass the GeoDataFrame"):
        read_events(path, None)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="stations: pass the GeoDataFrame"):
        read_resources(path, None)  # type: ignore[arg-type]


def test_the_demo_files_validate() -> None:
    from coverage.data.demo import DEMO_DIR

    stations = read_stations(DEMO_DIR / "stations.geojson")
    officers = read_officers(DEMO_DIR / "officers.csv", stations)
    ev = read_events(DEMO_DIR / "events.csv", officers)
    rs = read_resources(DEMO_DIR / "resources.csv", stations)
    refusals = ev.loc[(ev["kind"] == "refusal") & (ev["date"] == date(2026, 11, 25))]
    suspended = (DEMO_DIR / "suspended_42.csv").read_text().split()[1:]
    assert sorted(refusals["officer_id"]) == sorted(suspended)
    assert len(suspended) == 42
    assert ev["note"].str.startswith("[synthetic]").all()
    assert len(rs) == 30 * 4


def test_implausible_event_dates_are_refused_by_row(people, tmp_path) -> None:
    _, officers = people
    path = write(tmp_path / "events.csv", "officer_id,date,kind\n"
                 "A,1899-12-31,refusal\nA,1900-01-01,refusal\nA,2200-12-31,refusal\n"
                 "A,2201-01-01,refusal\nA,0001-01-01,refusal\n")
    with pytest.raises(DataError, match=r"events.csv") as info:
        read_events(path, officers)
    msg = str(info.value)
    assert "row 1 (line 2): date '1899-12-31' is outside the years 1900..2200" in msg
    assert "row 4 (line 5): date '2201-01-01' is outside" in msg
    assert "row 5 (line 6): date '0001-01-01' is outside" in msg
    assert "row 2 " not in msg  # the bounds themselves are fine
    assert "row 3 " not in msg
