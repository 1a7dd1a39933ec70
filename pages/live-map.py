"""Live map: feed health, zones by gap, stations and officers' latest positions, refreshing."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from coverage import settings
from coverage.briefing import layers
from coverage.briefing.mapview import (
    areas_group,
    officers_group,
    officers_layer,
    stations_group,
    surface_group,
    zone_labels_group,
    zones_group,
)
from ui import auth, maps, state

auth.page_header("Live map", "live_map")
threshold = settings.DEFAULT_THRESHOLD_MIN
c1, c2, c3 = st.columns(3)
show_areas = c1.toggle("Areas of responsibility", key="live_areas",
                       help="Each available unit's nearest-unit cell, by road travel time.")
show_surface = c2.toggle("Response-time surface", key="live_surface",
                         help="Minutes from the nearest available unit, by road.")
exclude_stale = c3.toggle("Leave out stale positions", key="live_exclude_stale",
                          help=f"Positions older than {settings.stale_after_s():g} s are "
                               "greyed and still counted at their last position, so a "
                               "stopped feed does not look like lost coverage. On: units "
                               "whose newest position is stale are left out.")
bands = layers.band_labels(layers.response_bands(threshold))
maps.legend(surface_labels=bands if show_surface else None)


@st.fragment(run_every=settings.refresh_s())
def live_view() -> None:
    """Re-read positions and redraw the changing layers; the base map stays mounted.

    The base map is built afresh each time (st_folium adds the groups to it) but is
    identical, so the browser keeps it and only swaps the groups: no flicker. Zones are
    drawn above the surface, stations above the officers.
    """
    view = state.live(exclude_stale=exclude_stale, threshold_min=threshold)
    cov = view.coverage
    maps.feed_banner(view)
    maps.show_key_figures(cov)
    groups = []
    if show_surface:
        groups.append(surface_group(layers.response_surface(cov.times, state.grid(),
                                                            threshold_min=threshold)))
    if show_areas:
        groups.append(areas_group(layers.responsibility_areas(cov.times, state.grid())))
    groups += [zones_group(cov), zone_labels_group(cov),
               officers_group(officers_layer(cov, view.officers)),
               stations_group(cov.dataset.stations, view.officers)]
    left, right = st.columns([5, 2])
    with right:
        maps.gap_list(view, key="live_gaps", zoom_key="live_zoom")
    center, zoom = maps.zoom_to(cov, st.session_state.get("live_zoom"))
    with left:
        st_folium(maps.base_map(), key="live-map", height=620, use_container_width=True,
                  feature_group_to_add=groups, returned_objects=[], center=center,
                  zoom=zoom)
    maps.live_caption(view)
    with st.expander("Each device's last report"):
        st.dataframe(maps.device_table(settings.stale_after_s()), hide_index=True,
                     width="stretch", key="live_devices")


live_view()
