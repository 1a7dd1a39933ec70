"""`--format table|json` on every command; the old spellings still work and say so."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

import pytest

from coverage.cli.main import build_parser, main
from tests.support.tiny import DATA, write


def leaf_parsers(parser: argparse.ArgumentParser,
                 name: str = "") -> dict[str, argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return {name.strip(): parser}
    out: dict[str, argparse.ArgumentParser] = {}
    for sub_name, sub in subs[0].choices.items():
        out |= leaf_parsers(sub, f"{name} {sub_name}")
    return out


def test_every_command_has_the_one_output_flag() -> None:
    commands = leaf_parsers(build_parser())
    wanted = {"report", "prepare", "brief", "ingest", "users add", "audit", "backfill"}
    assert wanted <= set(commands)
    for name, parser in commands.items():
        (fmt,) = [a for a in parser._actions if "--format" in a.option_strings]
        assert fmt.default == "table", name
        assert {"table", "json"} <= set(fmt.choices or ()), name


def positions(n: int) -> str:
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    return "officer_id,lat,lon,timestamp\n" + "".join(
        f"K{i},34.0,71.5,{now}\n" for i in range(n))


def test_ingest_input_format_and_json_output(tmp_path, capsys) -> None:
    f = write(tmp_path / "feed.txt", positions(2))
    db = f"sqlite:///{tmp_path}/s.db"
    assert main(["ingest", "--db", db, "--from", str(f), "--input-format", "csv",
                 "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["accepted"] == 2
    assert "deprecated" not in captured.err


@pytest.mark.parametrize(("old", "hint"), [(["--json"], "use --format json"),
                                           (["--format", "csv", "--json"], "--input-format csv")])
def test_old_spellings_still_work_with_a_warning(tmp_path, capsys, old, hint) -> None:
    f = write(tmp_path / "feed.txt", positions(3))
    assert main(["ingest", "--db", f"sqlite:///{tmp_path}/s.db", "--from", str(f),
                 *(["--input-format", "csv"] if "csv" not in old else []), *old]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["accepted"] == 3
    assert "warning:" in captured.err
    assert hint in captured.err


def test_prepare_and_users_print_json(tmp_path, capsys, monkeypatch) -> None:
    assert main(["prepare", "--roads", str(DATA / "tiny.osm"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "roads": str(DATA / "tiny.osm"), "nodes": 4, "edges": 4}
    db = f"sqlite:///{tmp_path}/u.db"
    assert main(["users", "add", "ana", "--role", "planner", "--sso", "--db", db,
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "action": "add", "username": "ana", "role": "planner", "sso": True}
    assert main(["users", "set-role", "ana", "--role", "viewer", "--db", db,
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["role"] == "viewer"
