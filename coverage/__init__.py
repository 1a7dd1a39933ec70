"""Security coverage of sensitive zones over a road network, for police control rooms.

The import name is ``coverage`` (not coverage.py). Typical use::

    from coverage import load_dataset, analyse, report_dict
    ds = load_dataset("roads.osm.pbf", "stations.geojson", "zones.geojson", "officers.csv")
    cov = analyse(ds, suspended=["KP-0001"], threshold_min=10)
    report_dict(cov)["zones"]
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from coverage.data.dataset import Dataset, load_dataset
from coverage.data.network import RoadNetwork, open_roads
from coverage.errors import CoverageError, CoverageWarning, DataError, DataWarning, GraphError

if TYPE_CHECKING:
    from coverage.engine.analysis import Coverage, analyse, suspend
    from coverage.engine.report import report_dict, report_table
    from coverage.engine.traveltime import TravelTimes, travel_times, with_units, without_units

#: The engine's public names, imported on first use (``from coverage import analyse`` works
#: as before): loading data alone, a cold start, does not pay for the engine's imports.
_ENGINE = {
    "Coverage": "engine.analysis", "analyse": "engine.analysis", "suspend": "engine.analysis",
    "report_dict": "engine.report", "report_table": "engine.report",
    "TravelTimes": "engine.traveltime", "travel_times": "engine.traveltime",
    "with_units": "engine.traveltime", "without_units": "engine.traveltime",
}


#: The layers, importable as attributes too (``coverage.engine`` after ``import coverage``).
_LAYERS = ("data", "engine", "planning", "ops", "briefing", "cli")


def __getattr__(name: str) -> Any:
    """Import an engine name of :data:`__all__` (see :data:`_ENGINE`) or a layer on first
    use."""
    if name in _ENGINE:
        value = getattr(importlib.import_module(f"{__name__}.{_ENGINE[name]}"), name)
        globals()[name] = value
        return value
    if name in _LAYERS:
        return importlib.import_module(f"{__name__}.{name}")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    """The module's names, the lazily imported ones included."""
    return sorted({*globals(), *_ENGINE, *_LAYERS})

__all__ = [
    "Coverage",
    "CoverageError",
    "CoverageWarning",
    "DataError",
    "DataWarning",
    "Dataset",
    "GraphError",
    "RoadNetwork",
    "TravelTimes",
    "analyse",
    "load_dataset",
    "open_roads",
    "report_dict",
    "report_table",
    "suspend",
    "travel_times",
    "with_units",
    "without_units",
]
__version__ = "0.1.0"

#: Modules that moved into the layered subpackages (old name -> new home). The old import
#: paths keep working as aliases of the new modules (``coverage.analysis`` *is*
#: ``coverage.engine.analysis``); new code should import the new paths.
MOVED_MODULES = {
    "roads": "data.roads", "network": "data.network", "loaders": "data.loaders",
    "dataset": "data.dataset", "uploads": "data.uploads",
    "traveltime": "engine.traveltime", "units": "engine.units", "metrics": "engine.metrics",
    "analysis": "engine.analysis", "report": "engine.report",
    "scenario": "planning.scenario", "scenario_io": "planning.scenario_io",
    "closures": "planning.closures", "objective": "planning.objective",
    "siting": "planning.siting", "backfill": "planning.backfill",
    "criticality": "planning.criticality", "sweep": "planning.sweep",
    "whatif": "planning.whatif",
    "store": "ops.store", "feed": "ops.feed", "live": "ops.positions",
    "simulate": "ops.simulate", "accounts": "ops.accounts", "audit": "ops.audit",
    "registry": "ops.registry", "workspace": "ops.workspace",
    "mapview": "briefing.mapview", "layers": "briefing.layers", "assets": "briefing.assets",
    "export": "briefing.export", "_errors": "errors",
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve ``coverage.<old name>`` to the module's new home (see :data:`MOVED_MODULES`)."""

    def find_spec(self, fullname: str, path: object = None,  # noqa: ARG002 - the protocol
                  target: object = None,  # noqa: ARG002
                  ) -> importlib.machinery.ModuleSpec | None:
        old = fullname.removeprefix(f"{__name__}.")
        if old == fullname or old not in MOVED_MODULES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(f"{__name__}.{MOVED_MODULES[spec.name.split('.')[-1]]}")

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module is the already imported new one."""


if not any(isinstance(f, _MovedModuleFinder) for f in sys.meta_path):
    sys.meta_path.append(_MovedModuleFinder())
