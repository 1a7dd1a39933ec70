"""Coverage: response-time figures per zone at a chosen threshold, and service areas."""

from __future__ import annotations

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from coverage import settings
from coverage.briefing import layers
from coverage.briefing.livemap import district_zone_ids, map_layers, view_group
from coverage.briefing.mapview import service_area_group
from coverage.engine.analysis import zone_officers
from coverage.engine.report import zone_view
from coverage.engine.rollup import district_figures
from ui import auth, export_panel, feedback, maps, state

auth.page_header("Coverage", "coverage")
threshold = st.slider("Default target for zones without their own (minutes)", 1.0, 60.0,
                      float(settings.DEFAULT_THRESHOLD_MIN), 0.5, key="cov_threshold",
                      help="Zones with their own target_min keep it.")
cov = state.coverage(threshold)
districts = state.districts()
district = maps.district_picker(districts, key="cov_district")
figures = district_figures(cov, districts) if districts.grouped else None
maps.show_key_figures(cov)
st.subheader("Zones, gaps first" + (f": {feedback.md(district)}" if district else ""))
table = maps.district_rows(zone_view(cov), district_zone_ids(cov, districts, district))
picked = st.dataframe(  # keyed by what orders its rows: a kept selection names the same zone
    table, hide_index=True, width="stretch", key=f"cov_table-{district}-{threshold:g}",
    on_select="rerun", selection_mode="single-row",
    column_config=maps.ZONE_TABLE_COLUMNS,
)
rows = picked.selection.rows if picked is not None else []
if rows and rows[0] < len(table):
    zone = table.iloc[rows[0]]
    st.markdown(f"**Zone {feedback.md(zone['zone_id'])}: {feedback.md(zone['name'])}**",
                help="Selected in the table")
    z1, z2, z3, z4 = st.columns(4)
    z1.metric("Status", zone["status"])
    z2.metric("Covered in time", f"{zone['covered_pct']:.0f}%")
    z3.metric("p90", "unreachable" if pd.isna(zone["p90_min"]) else f"{zone['p90_min']:.1f} min")
    z4.metric("Officers within target",
              f"{zone['officers_within_target']} / {zone['min_officers']}")
    st.dataframe(zone_officers(cov, str(zone["zone_id"])), hide_index=True, width="stretch",
                 key="cov_zone_officers")

if figures is not None:
    st.subheader(f"By {(districts.column or 'district').lower()}")
    maps.district_table(figures, picked=district, key="cov_districts",
                        label=(districts.column or "district").capitalize())

st.subheader("Service area")
c1, c2 = st.columns([1, 2])
kind = c1.radio("From", ["station", "officer"], horizontal=True, key="cov_sa_kind")
ids = (cov.dataset.stations["station_id"] if kind == "station"
       else cov.dataset.officers["officer_id"]).astype(str).tolist()
chosen = c2.selectbox(f"Choose a {kind}", ids, index=None, key="cov_sa_id",
                      placeholder="none: no service area drawn")
extra, areas = [], ()
if chosen is not None:
    node, label = feedback.checked(layers.start_node, cov, **{f"{kind}_id": chosen})
    area = feedback.checked(layers.service_area, state.grid(), node, minutes=threshold)
    areas = ((f"Service area of {label}: {threshold:g} min", area.area),)
    extra.append(service_area_group(area.area, label=areas[0][0]))
    st.caption(f"{feedback.md(label)}: {area.nodes_reached:,} road nodes reached within "
               f"{threshold:g} min.")
maps.legend()
drawn = map_layers(cov, districts, district=district, under=extra, figures=figures)
center, zoom = maps.picked_view(drawn.bounds, key="cov_district_used", height_px=560)
st_folium(maps.base_map(height_px=560), key="coverage-map", height=560,
          use_container_width=True, returned_objects=[],
          feature_group_to_add=drawn.groups + ([view_group(center, zoom)] if center and zoom
                                               else []),
          center=center, zoom=zoom, layer_control=folium.LayerControl(collapsed=True))
export_panel.export_panel(cov, key="coverage-export", areas=areas)
