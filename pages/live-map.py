"""Live map: feed health, zones by gap, stations and officers' latest positions, refreshing."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from coverage import settings
from coverage.briefing import layers
from coverage.briefing.livemap import map_layers, view_group
from coverage.briefing.mapview import areas_group, surface_group
from coverage.engine.rollup import district_figures
from ui import auth, maps, state

auth.page_header("Live map", "live_map")
threshold = settings.DEFAULT_THRESHOLD_MIN
districts = state.districts()
c0, c1, c2, c3 = st.columns([2, 1, 1, 1]) if districts.grouped else (None, *st.columns(3))
if c0 is not None:
    with c0:
        district = maps.district_picker(districts, key="live_district",
                                        on_change=lambda: st.session_state.pop("live_zoom",
                                                                               None))
else:
    district = None
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

    The base map is small (its roads are fetched once from a static file) and identical
    every time, so the browser keeps it and only swaps the groups: no flicker. Above
    2,000 officers in view they are sent as clusters with one label per district; a
    picked district sends its own officers one by one. Zones are drawn above the surface,
    stations above the officers.
    """
    view = state.live(exclude_stale=exclude_stale, threshold_min=threshold)
    cov = view.coverage
    maps.feed_banner(view)
    maps.show_key_figures(cov)
    under = []
    if show_surface:
        under.append(surface_group(layers.response_surface(cov.times, state.grid(),
                                                           threshold_min=threshold)))
    if show_areas:
        under.append(areas_group(layers.responsibility_areas(cov.times, state.grid())))
    figures = district_figures(cov, districts) if districts.grouped else None
    drawn = map_layers(cov, districts, officers=view.officers, district=district,
                       figures=figures, under=under)
    left, right = st.columns([5, 2])
    with right:
        maps.gap_list(view, key="live_gaps", zoom_key="live_zoom",
                      district=None if district is None else (
                          district, districts.zone_ids(district)))
    center, zoom = maps.zoom_to(cov, st.session_state.get("live_zoom"))
    if center is None:
        center, zoom = maps.picked_view(drawn.bounds, key="live_district_used")
    groups = drawn.groups + ([view_group(center, zoom)] if center and zoom else [])
    with left:
        st_folium(maps.base_map(), key="live-map", height=620, use_container_width=True,
                  feature_group_to_add=groups, returned_objects=[], center=center,
                  zoom=zoom)
    if drawn.clusters:
        lead = ("Too many officers in this district to draw one by one" if district
                else f"{len(view.officers):,} officers in view")
        st.caption(f"{lead}: drawn as {drawn.clusters:,} clusters (circle size by count; "
                   "hover for each status)."
                   + ("" if district else " Pick a district to see its officers one by one."))
    maps.live_caption(view)
    if figures is not None:
        st.markdown(f"**By {(districts.column or 'district').lower()}** (live)")
        maps.district_table(figures, picked=district, key="live_districts",
                            label=(districts.column or "district").capitalize())
    with st.expander("Each device's last report"):
        devices = maps.device_table(settings.stale_after_s())
        if devices.attrs["devices"] > len(devices):
            st.caption(f"The {len(devices):,} oldest reports of "
                       f"{devices.attrs['devices']:,} devices.")
        st.dataframe(devices, hide_index=True, width="stretch", key="live_devices")


live_view()
