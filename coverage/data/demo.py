"""The bundled demo district (synthetic roads, stations, zones and officers over Peshawar).

The one definition of where the demo's files are: the app, the command line's defaults,
the tests and the benchmarks all read it. The files live in the source checkout
(``geodata/peshawar/``, made by ``geodata/make_demo.py``); an installed wheel does not carry
them, and :func:`demo_files` then says so instead of failing on a missing file later.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Final

from coverage.errors import DataError

#: Where the demo district lies in a source checkout.
DEMO_DIR: Final[Path] = Path(__file__).resolve().parents[2] / "geodata" / "peshawar"

#: The demo dataset's files by role, as :func:`coverage.data.dataset.load_dataset` takes them.
DEMO_FILES: Final = MappingProxyType({
    "roads": DEMO_DIR / "roads.osm.pbf",
    "stations": DEMO_DIR / "stations.geojson",
    "zones": DEMO_DIR / "zones.geojson",
    "officers": DEMO_DIR / "officers.csv",
})

#: The demo's list of the 42 suspended officers (one scenario of the incident).
DEMO_SUSPENSION: Final[Path] = DEMO_DIR / "suspended_42.csv"

#: The demo's SYNTHETIC personnel events and station resources (geodata/make_personnel.py):
#: readiness inputs, not part of a coverage dataset.
DEMO_PERSONNEL: Final = MappingProxyType({
    "events": DEMO_DIR / "events.csv",
    "resources": DEMO_DIR / "resources.csv",
})


def has_demo() -> bool:
    """True when this installation carries the demo district (a source checkout)."""
    return all(p.is_file() for p in (*DEMO_FILES.values(), DEMO_SUSPENSION))


def demo_files() -> dict[str, Path]:
    """The demo dataset's files by role; raises DataError when they are not installed."""
    if not has_demo():
        msg = (f"the demo district is not installed ({DEMO_DIR} is missing): it ships with "
               "the source checkout, not with the wheel; run from a clone of the repository "
               "or pass your own files")
        raise DataError(msg)
    return dict(DEMO_FILES)
