"""Workspace: staging uploads, validating every file at once, activating atomically."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from coverage.errors import CoverageError, DataError
from coverage.ops import audit, registry
from coverage.ops.store import open_store
from coverage.ops.workspace import activate, active_files, stage, validate

ROLES = ("roads", "stations", "zones", "officers")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "seccov-data"
    monkeypatch.setenv("SECCOV_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def store(tmp_path: Path):
    with open_store(f"sqlite:///{tmp_path}/s.db") as s:
        yield s


def _base(tiny_inputs) -> dict[str, Path]:
    return {r: tiny_inputs[r] for r in ROLES}


def test_no_active_dataset_gives_the_default(data_dir, tiny_inputs) -> None:
    assert active_files(default=_base(tiny_inputs)) == _base(tiny_inputs)


def test_valid_upload_activates_and_is_registered(data_dir, tiny_inputs, store) -> None:
    officers = tiny_inputs["officers"].read_bytes().replace(b"Officer A", b"Officer Ann")
    staged = stage({"officers": ("../../night shift.csv", officers)}, base=_base(tiny_inputs))
    assert staged.uploaded == ("officers",)
    assert staged.files["officers"].name == "night_shift.csv"  # plain name, no folders
    assert staged.files["officers"].is_relative_to(staged.folder)
    check = validate(staged.files)
    assert check.ok, check.problems
    assert check.dataset is not None
    assert check.dataset.officers.loc[0, "name"] == "Officer Ann"
    kept = activate(store, staged.files, name="night shift", user="ops-admin")
    staged.cleanup()
    assert active_files(default={}) == kept
    assert all(p.is_file() and p.is_relative_to(data_dir / "datasets") for p in kept.values())
    assert kept["officers"].read_bytes() == officers
    pointer = json.loads((data_dir / "active.json").read_text())
    assert pointer["name"] == "night shift"
    assert pointer["activated_by"] == "ops-admin"
    record = registry.datasets(store)[-1]
    assert (record.name, record.officers, record.registered_by) == ("night shift", 5, "ops-admin")
    actions = [e.action for e in audit.query(store)]
    assert actions[:2] == ["dataset_registered", "upload"]


def test_every_broken_file_is_reported_and_nothing_changes(data_dir, tiny_inputs, tmp_path,
                                                           store) -> None:
    before = activate(store, _base(tiny_inputs), name="good", user=None)
    zones = tiny_inputs["zones"].read_text().replace('"target_min": 0.5', '"target_min": -3')
    officers = tiny_inputs["officers"].read_text().replace("S2,reserve", "S2,on_strike")
    staged = stage({"zones": ("zones.geojson", zones.encode()),
                    "officers": ("officers.csv", officers.encode())}, base=before)
    check = validate(staged.files)
    assert not check.ok
    assert check.dataset is None
    errors = check.problems.loc[check.problems["severity"] == "error"]
    by_file = dict(list(errors.groupby("file")))
    assert set(by_file) == {"zones.geojson", "officers.csv"}
    z = by_file["zones.geojson"].iloc[0]
    assert (z["row"], z["field"]) == (1, "target_min")
    o = by_file["officers.csv"].iloc[0]
    assert (o["row"], o["field"]) == (3, "status")
    assert "on_strike" in o["message"]
    assert active_files(default={}) == before  # untouched
    staged.cleanup()
    assert not staged.folder.exists()
    assert all(p.is_file() for p in before.values())


def test_warnings_are_listed_but_do_not_block(data_dir, tiny_inputs) -> None:
    text = tiny_inputs["officers"].read_text().replace("last_seen\n", "last_seen,shoe_size\n")
    text = text.replace("+05:00\n", "+05:00,9\n")
    staged = stage({"officers": ("officers.csv", text.encode())}, base=_base(tiny_inputs))
    check = validate(staged.files)
    assert check.ok
    warned = check.problems.loc[check.problems["severity"] == "warning"]
    assert any("shoe_size" in m for m in warned["message"])


def test_broken_roads_are_reported_with_the_file(data_dir, tiny_inputs) -> None:
    staged = stage({"roads": ("roads.osm", b"<osm><node id='1' lat='x' lon='1'/>")},
                   base=_base(tiny_inputs))
    check = validate(staged.files)
    assert not check.ok
    assert (check.problems["file"] == "roads.osm").any()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_unsafe_zip_is_refused_and_nothing_kept(data_dir, tiny_inputs, tmp_path) -> None:
    with pytest.raises(DataError, match=r"zones\.zip.*\.\."):
        stage({"zones": ("zones.zip", _zip({"../evil.shp": b"x"}))}, base=_base(tiny_inputs))
    with pytest.raises(DataError, match=r"stations\.zip.*not a valid zip"):
        stage({"stations": ("stations.zip", b"not a zip")}, base=_base(tiny_inputs))
    assert not (data_dir / "active.json").exists()


def test_missing_roles_and_unknown_roles_are_refused(data_dir, tiny_inputs) -> None:
    with pytest.raises(CoverageError, match="no file for roads"):
        stage({}, base={r: tiny_inputs[r] for r in ROLES if r != "roads"})
    with pytest.raises(CoverageError, match="unknown upload role"):
        stage({"suspects": ("x.csv", b"")}, base=_base(tiny_inputs))


def test_pointer_to_missing_files_falls_back(data_dir, tiny_inputs) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "active.json").write_text(json.dumps({"files": dict.fromkeys(ROLES, "/nope")}))
    assert active_files(default=_base(tiny_inputs)) == _base(tiny_inputs)
    (data_dir / "active.json").write_text("{broken")
    assert active_files(default=_base(tiny_inputs)) == _base(tiny_inputs)


def test_activate_registers_ids_as_the_loader_reads_them(data_dir, tiny_inputs, store) -> None:
    text = tiny_inputs["officers"].read_text().replace("\nA,", "\n A ,")
    staged = stage({"officers": ("officers.csv", text.encode())}, base=_base(tiny_inputs))
    assert validate(staged.files).ok
    activate(store, staged.files, name="padded", user=None)
    assert registry.known_officers(store) == ("padded", frozenset("ABCDE"))


def test_zipped_files_are_unpacked_or_repacked(data_dir, tiny_inputs, tmp_path) -> None:
    import geopandas as gpd

    officers = tiny_inputs["officers"].read_bytes()
    staged = stage({"officers": ("officers.zip", _zip({"roster/officers.csv": officers}))},
                   base=_base(tiny_inputs))
    assert staged.files["officers"].name == "officers.csv"
    shp = tmp_path / "shp"
    shp.mkdir()
    gpd.read_file(tiny_inputs["stations"]).to_file(shp / "stations.shp")
    members = {f"stations/{p.name}": p.read_bytes() for p in shp.iterdir()}
    staged = stage({"stations": ("stations.zip", _zip(members)),
                    "officers": ("officers.zip", _zip({"roster/officers.csv": officers}))},
                   base=_base(tiny_inputs))
    check = validate(staged.files)
    assert check.ok, check.problems
    assert check.dataset is not None
    assert sorted(check.dataset.stations["station_id"]) == ["S1", "S2"]
    with pytest.raises(DataError, match=r"two\.zip: holds 2 officers files"):
        stage({"officers": ("two.zip", _zip({"a.csv": officers, "b.csv": officers}))},
              base=_base(tiny_inputs))


def test_officers_are_not_blamed_for_broken_stations(data_dir, tiny_inputs) -> None:
    staged = stage({"stations": ("stations.geojson", b"{not json")}, base=_base(tiny_inputs))
    check = validate(staged.files)
    assert not check.ok
    assert set(check.problems["file"]) == {"stations.geojson"}


def test_names_inside_a_zip_become_plain_file_names(data_dir, tiny_inputs, tmp_path) -> None:
    import geopandas as gpd

    officers = tiny_inputs["officers"].read_bytes()
    staged = stage({"officers": ("o.zip", _zip({"o`[x](http:evil.example)`.csv": officers}))},
                   base=_base(tiny_inputs))
    name = staged.files["officers"].name
    assert name.endswith(".csv")
    assert not set(name) & set("`[]():")
    shp = tmp_path / "shp"
    shp.mkdir()
    gpd.read_file(tiny_inputs["stations"]).to_file(shp / "st.shp")
    members = {f"[click](http:evil.example){p.suffix}": p.read_bytes() for p in shp.iterdir()}
    staged = stage({"stations": ("stations.zip", _zip(members))}, base=_base(tiny_inputs))
    with zipfile.ZipFile(staged.files["stations"]) as z:
        assert all(not set(n) & set("[]():") for n in z.namelist())
    assert validate(staged.files).ok
