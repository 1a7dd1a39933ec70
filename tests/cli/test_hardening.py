"""Hostile inputs end cleanly: ``error: ...``, exit code 2, no traceback, no hang (issue 15).

Each command runs in a subprocess with a timeout, so a regression to the endless warning
replay (a zone with a NaN coordinate made ``report`` grow ~170 MB/s forever) fails the
test instead of hanging CI.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.tiny import DATA, ROOT, write

TIMEOUT_S = 60
MEMORY_BYTES = 3 * 1024**3  # a regression fails fast instead of eating the machine
OUTPUT_BYTES = 16 * 1024**2  # ... or the disk: a bigger stderr kills the child (SIGXFSZ)
NAN_RING = "[[71.5015, 33.9995], [NaN, 33.9995], [71.5033, 34.0013], [71.5015, 33.9995]]"


def _caps() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_BYTES, OUTPUT_BYTES))


def run(tmp_path: Path, *argv: str, timeout_s: float = TIMEOUT_S) -> tuple[int, str]:
    """Run a command with capped memory, output and time; return (exit code, stderr)."""
    err = tmp_path / "stderr.txt"
    with open(err, "wb") as fh:
        proc = subprocess.run([sys.executable, *argv], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=fh, timeout=timeout_s, check=False, preexec_fn=_caps)
    return proc.returncode, err.read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize("form", ["geojson", "wkt-in-csv"])
def test_zone_with_nan_coordinate_ends_with_error_not_a_hang(tiny_inputs, tmp_path: Path,
                                                             form: str) -> None:
    if form == "geojson":
        zones = write(tmp_path / "nan.geojson",
                      '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                      '"properties": {"zone_id": "Z1", "name": "N"}, "geometry": '
                      f'{{"type": "Polygon", "coordinates": [{NAN_RING}]}}}}]}}')
    else:
        zones = write(tmp_path / "nan.csv",
                      'zone_id,name,geometry\nZ1,N,"POLYGON ((71.5015 33.9995, nan 33.9995, '
                      '71.5033 34.0013, 71.5015 33.9995))"\n')
    code, err = run(tmp_path, "-m", "coverage", "report", "--roads", str(DATA / "tiny.osm"),
                    "--stations", str(tiny_inputs["stations"]), "--zones", str(zones),
                    "--officers", str(tiny_inputs["officers"]))
    assert code == 2, err[-2000:]
    assert f"error: {zones.name}: row 1" in err
    assert "not a number (NaN or infinite)" in err
    assert "Traceback" not in err


def test_third_party_warning_then_data_error_is_replayed_once(tmp_path: Path) -> None:
    """The loop itself: a library warning shown while warnings are being caught."""
    script = textwrap.dedent("""
        import sys, warnings
        from coverage.cli import main as cli
        from coverage.errors import DataError, DataWarning

        def command(args, stages):
            warnings.warn("from a library", RuntimeWarning)
            warnings.warn("about the data", DataWarning)
            raise DataError("zones.csv: row 1: bad")

        cli.COMMANDS["prepare"] = command
        sys.exit(cli.main(["prepare", "--roads", "x.osm"]))
    """)
    code, err = run(tmp_path, "-c", script, timeout_s=30)
    assert code == 2, err[-2000:]
    assert err.count("from a library") == 1
    assert err.count("warning: about the data") == 1
    assert err.rstrip().endswith("error: zones.csv: row 1: bad")
