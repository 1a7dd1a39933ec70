"""The district picker and per-district figures on the live map and the coverage page.

The demo district's stations have a ``division`` (City, Cantonment, Saddar, Rural ...): the
pages group by it. Figures are checked against the engine's per-zone table summed by hand.
"""

from __future__ import annotations

import pandas as pd
import pytest

from coverage.data.demo import DEMO_FILES
from coverage.data.loaders import read_stations
from tests.app.test_app import _app, _metrics, _ok, demo_env  # noqa: F401  (fixture)
from tests.support.tiny import DATA


def _district_table(at) -> pd.DataFrame:
    tables = [d.value for d in at.dataframe if "zones_with_gap" in d.value.columns]
    assert len(tables) == 1, [list(d.value.columns) for d in at.dataframe]
    return tables[0]


def _divisions() -> list[str]:
    return sorted(set(read_stations(DEMO_FILES["stations"])["division"].dropna()))


def test_live_map_picker_and_district_table(demo_env) -> None:  # noqa: F811
    at = _app()
    _ok(at, feed_down=True)
    box = at.selectbox(key="live_district")
    assert box.options[0] == "Whole province/area"
    assert sorted(box.options[1:]) == _divisions()
    table = _district_table(at)
    assert table["available"].sum() == int(_metrics(at)["Available units"])  # 310
    empty = table["zones"] == 0  # the demo's Rural and Saddar divisions hold no zone
    assert empty.any()
    assert (table.loc[empty, "covered_pct"] == "no zones").all()  # was shown as "None"
    assert table.loc[~empty, "covered_pct"].str.fullmatch(r"\d{1,3}%").all()
    assert table["zones_with_gap"].sum() == int(_metrics(at)["Zones with a gap"])
    from ui import state

    cov = state.coverage()
    assert table["zones"].sum() == len(cov.table)
    picked = box.options[1]
    at.selectbox(key="live_district").set_value(picked).run()
    _ok(at, feed_down=True)
    again = _district_table(at)
    assert again["district"].iloc[0] == picked  # the picked district first
    assert _metrics(at)["Available units"] == "310"  # the key figures stay whole-area
    # the gap list shows the picked district's zones only, as many as its table row says
    heading = next(m.value for m in at.markdown if m.value.startswith("**Zones with a gap"))
    in_district = int(again["zones_with_gap"].iloc[0])
    everywhere = int(_metrics(at)["Zones with a gap"])
    assert heading.replace("\\", "").endswith(f": {in_district}** ({everywhere} in all)")


def test_coverage_page_picker_limits_the_zone_table(demo_env) -> None:  # noqa: F811
    from coverage.data.districts import districts_of
    from ui import state

    at = _app()
    at.switch_page("pages/coverage.py").run()
    at.slider(key="cov_threshold").set_value(1.0).run()  # a tight target: some gaps
    _ok(at)
    cov = state.coverage(1.0)
    assert cov.table["gap"].any()
    d = districts_of(cov.dataset.stations, cov.dataset.zones)
    table = _district_table(at)
    short = (cov.table["min_officers"] - cov.table["officers_within_target"]).clip(lower=0)
    by_hand = pd.DataFrame({"d": d.of_zones(cov.table["zone_id"]), "gap": cov.table["gap"],
                            "short": short}).groupby("d").sum()
    for row in table.to_dict("records"):
        assert row["zones_with_gap"] == by_hand["gap"].get(row["district"], 0)
        assert row["officers_short"] == by_hand["short"].get(row["district"], 0)
    assert table["zones_with_gap"].sum() == int(cov.table["gap"].sum())
    zones = next(t.value for t in at.dataframe if "covered_pct" in t.value.columns
                 and "zone_id" in t.value.columns)
    assert len(zones) == len(cov.table)
    picked = at.selectbox(key="cov_district").options[1]
    at.selectbox(key="cov_district").set_value(picked).run()
    _ok(at)
    only = next(t.value for t in at.dataframe if "covered_pct" in t.value.columns
                and "zone_id" in t.value.columns)
    wanted = {z for z, n in d.zone.items() if n == picked}
    assert set(only["zone_id"].astype(str)) == wanted
    assert 0 < len(only) < len(zones)


def test_no_grouping_hides_the_picker(demo_env, monkeypatch, tmp_path) -> None:  # noqa: F811
    """Stations without district or division: one area, no picker, no district table."""
    from ui import state

    (tmp_path / "in").mkdir()
    files = {"roads": DATA / "tiny.osm"}
    for name, text in {
        "stations": '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                    '"properties": {"station_id": "S1", "name": "One"}, "geometry": '
                    '{"type": "Point", "coordinates": [71.5, 34.0]}}]}',
        "zones": '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                 '"properties": {"zone_id": "Z1", "name": "West"}, "geometry": {"type": '
                 '"Polygon", "coordinates": [[[71.4995, 33.9995], [71.5005, 33.9995], '
                 '[71.5005, 34.0005], [71.4995, 34.0005], [71.4995, 33.9995]]]}}]}',
    }.items():
        files[name] = tmp_path / "in" / f"{name}.geojson"
        files[name].write_text(text, encoding="utf-8")
    files["officers"] = tmp_path / "in" / "officers.csv"
    files["officers"].write_text("officer_id,name,rank,station_id,status,lat,lon,last_seen\n"
                                 "A,A,Constable,S1,on_duty,,,2026-11-25T08:00:00+05:00\n",
                                 encoding="utf-8")
    monkeypatch.setattr(state, "current_files", lambda: dict(files))
    at = _app()
    assert not at.exception, at.exception
    with pytest.raises(KeyError):
        at.selectbox(key="live_district")
    assert not [d for d in at.dataframe if "zones_with_gap" in d.value.columns]
    state.clear_data_caches()


def test_clustered_view_says_so_for_the_area_and_for_a_district(demo_env,  # noqa: F811
                                                                monkeypatch) -> None:
    """With the clustering threshold lowered below the demo's roster, the live map draws
    clusters and its caption says why, for the whole area and for a picked district."""
    from functools import partial

    from coverage.briefing import livemap

    monkeypatch.setattr(livemap, "map_layers", partial(livemap.map_layers, points_limit=5))
    at = _app()
    _ok(at, feed_down=True)
    captions = " ".join(c.value for c in at.caption)
    assert "officers in view: drawn as" in captions
    assert "Pick a district to see its officers one by one." in captions
    at.selectbox(key="live_district").set_value(at.selectbox(key="live_district").options[1])
    at.run()
    _ok(at, feed_down=True)
    captions = " ".join(c.value for c in at.caption)
    assert "Too many officers in this district to draw one by one: drawn as" in captions
