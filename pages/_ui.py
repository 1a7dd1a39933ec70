"""Shared UI helpers for the pages: settings from the environment and cached loaders."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from coverage._errors import CoverageError
from coverage.analysis import Coverage, analyse
from coverage.assets import install_static
from coverage.dataset import Dataset, load_dataset

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "geodata" / "peshawar"
DEMO_FILES = {
    "roads": DEMO_DIR / "roads.osm.pbf",
    "stations": DEMO_DIR / "stations.geojson",
    "zones": DEMO_DIR / "zones.geojson",
    "officers": DEMO_DIR / "officers.csv",
}


@st.cache_resource
def static_assets() -> str:
    """Copy Leaflet into ./static once per process; return the URL the map loads it from."""
    install_static(ROOT / "static")
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/app/static" if base else "/app/static"


def demo_mode() -> bool:
    """True when ``SECCOV_DEMO=1``: the synthetic demo district, clearly labelled."""
    return os.environ.get("SECCOV_DEMO", "").strip().lower() in {"1", "true", "yes"}


def demo_banner() -> None:
    """Say plainly that the data on screen is synthetic."""
    st.warning(
        "SYNTHETIC DEMO DATA: the Peshawar demo district's roads, stations, officers and "
        "positions are simulated (see geodata/README.md). Not a real deployment.",
        icon=":material/science:",
    )


@st.cache_resource(show_spinner="Loading road network and district data...")
def dataset() -> Dataset:
    """The district's dataset, loaded once per process and never mutated by a page."""
    return load_dataset(**DEMO_FILES)


@st.cache_resource(show_spinner="Computing coverage...")
def coverage(threshold_min: float) -> Coverage:
    """Coverage of the loaded dataset at a threshold, cached per threshold."""
    return analyse(dataset(), threshold_min=threshold_min)


def load_or_stop(threshold_min: float) -> Coverage:
    """Return the coverage run, or show the engine's error and stop the page."""
    try:
        return coverage(threshold_min)
    except CoverageError as exc:
        st.error(str(exc))
        st.stop()
        raise  # unreachable: st.stop() raises
