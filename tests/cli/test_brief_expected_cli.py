"""``brief ... --events E --resources R [--as-of DATE] [--refusal-p P]``: expected coverage
in the briefing exports, the flags as ``report`` takes them, and bad input."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from coverage import analyse, load_dataset, suspend
from coverage.briefing.brief import expected_figures
from coverage.cli.main import main
from coverage.data.personnel import read_events, read_resources
from tests.support.tiny import write


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SECCOV_TILES_URL", "SECCOV_PNG_RENDERER", "SECCOV_CHROMIUM"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def files(tiny_inputs: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    # S1: 3 refusals in 90 days -> critical (p 0.3); S2 ok (p 0.02)
    events = write(tmp_path / "events.csv", "officer_id,date,kind,days,note\n"
                   "A,2026-11-25,refusal,,private words\nA,2026-11-01,refusal,,\n"
                   "B,2026-10-01,refusal,,\n")
    resources = write(tmp_path / "resources.csv",
                      "station_id,item,on_hand,per_officer\nS1,vest,2,\nS2,vest,2,\n")
    return {**tiny_inputs, "events": events, "resources": resources}


def _brief(p: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return ["-q", "brief", "--roads", str(p["roads"]), "--stations", str(p["stations"]),
            "--zones", str(p["zones"]), "--officers", str(p["officers"]),
            "--suspend", str(p["suspend"]), "--out", str(out), *extra]


def _more(p: dict[str, Path]) -> list[str]:
    return ["--events", str(p["events"]), "--resources", str(p["resources"])]


def _want(p: dict[str, Path], **kw):
    ds = load_dataset(p["roads"], p["stations"], p["zones"], p["officers"])
    base = analyse(ds)
    return expected_figures(suspend(base, ["B"]), read_events(p["events"], ds.officers),
                            read_resources(p["resources"], ds.stations), baseline=base, **kw)


def test_pdf_and_json_carry_the_expected_objective(files, tmp_path, capsys) -> None:
    out = tmp_path / "b.pdf"
    assert main(_brief(files, out, *_more(files), "--renderer", "matplotlib",
                       "--format", "json")) == 0
    rec = json.loads(capsys.readouterr().out)
    want = _want(files)
    assert rec["objective"] == want.after_objective
    assert rec["expected_objective"] == pytest.approx(want.after_expected)
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    text = " ".join(" ".join(pg.extract_text() for pg in reader.pages).split())
    assert (f"Expected objective (refusal risk) {want.before_expected:,.1f} "
            f"{want.after_expected:,.1f}") in text
    assert f"{want.zone_share['Z1']:.1%}" in text  # Z1 is the scenario's gap
    assert "private words" not in text


def test_as_of_and_refusal_p_as_report_takes_them(files, tmp_path, capsys) -> None:
    out = tmp_path / "b.html"
    assert main(_brief(files, out, *_more(files), "--as-of", "2026-10-31",
                       "--refusal-p", "critical=1,ok=0")) == 0
    assert "wrote" in capsys.readouterr().out
    want = _want(files, as_of=date(2026, 10, 31),
                 refusal_p={"ok": 0.0, "warning": 0.1, "critical": 1.0})
    page = out.read_text(encoding="utf-8")
    assert "as of 2026-10-31" in page
    assert f"{want.after_expected:,.1f}" in page
    # a time with its offset, as `report --as-of` takes it, names the same day
    assert main(_brief(files, out, *_more(files), "--as-of",
                       "2026-10-31T23:00:00+05:00")) == 0
    assert "as of 2026-10-31" in out.read_text(encoding="utf-8")


def test_without_events_no_expected_figures(files, tmp_path, capsys) -> None:
    out = tmp_path / "b.html"
    assert main(_brief(files, out, "--format", "json")) == 0
    rec = json.loads(capsys.readouterr().out)
    assert "expected_objective" not in rec
    page = out.read_text(encoding="utf-8")
    assert "Expected objective" not in page
    assert "\"expectedNote\"" not in page  # the panel data has no such key


@pytest.mark.parametrize(("extra", "says"), [
    (["--events", "EVENTS"], "--events and --resources go together"),
    (["--as-of", "25/11/2026"], "ISO 8601 date"),
    (["--refusal-p", "ok=2"], "between 0 and 1"),
])
def test_bad_flags_exit_2(files, tmp_path, capsys, extra, says) -> None:
    extra = [str(files["events"]) if e == "EVENTS" else e for e in extra]
    try:  # a bad flag value stops argparse (SystemExit 2); bad data returns 2
        code = main(_brief(files, tmp_path / "b.html", *extra))
    except SystemExit as stop:
        code = stop.code
    assert code == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "b.html").exists()


def test_bad_events_name_the_file_and_row(files, tmp_path, capsys) -> None:
    bad = write(tmp_path / "bad.csv", "officer_id,date,kind,days,note\nZZ,2026-11-25,refusal,,\n")
    assert main(_brief({**files, "events": bad}, tmp_path / "b.html", *_more(
        {**files, "events": bad}))) == 2
    assert "bad.csv: row 1 (line 2): officer_id 'ZZ'" in capsys.readouterr().err
