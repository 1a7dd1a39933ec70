"""Live map: sensitive zones by gap status, stations and officers, with the key figures."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from coverage import settings
from coverage.mapview import coverage_map
from pages import _ui

st.title("Live map")
_ui.demo_banner()
cov = _ui.load_or_stop(settings.DEFAULT_THRESHOLD_MIN)

o, c = cov.overall, cov.counts
cols = st.columns(4)
cols[0].metric("Available units", c.available)
cols[1].metric("Zones with a gap", f"{o.zones_with_gap} / {o.zones}")
cols[2].metric("Zone nodes covered", f"{o.covered_share:.0%}")
cols[3].metric(
    "Worst zone p90",
    "-" if o.worst_p90_min is None else f"{o.worst_p90_min:.1f} min",
    help=f"zone {o.worst_zone}",
)

st_folium(
    coverage_map(cov, asset_base_url=_ui.static_assets()),
    key="live-map",
    height=640,
    use_container_width=True,
    returned_objects=[],
)
st.caption(
    f"Roads: {cov.dataset.sources['roads']} ({cov.dataset.network.n_nodes:,} nodes). "
    f"Response target: each zone's own, else {cov.threshold_min:g} min."
)
