"""Plan: place reserves and move on-duty officers for the best coverage; the deployment order."""

from __future__ import annotations

import time

import streamlit as st
from streamlit_folium import st_folium

from coverage.briefing.order_pdf import order_pdf
from coverage.planning.backfill import backfill
from coverage.planning.desk import apply_plan, drawn_area, order_frame
from coverage.planning.order import deployment_order, order_csv, plan_conditions
from ui import auth, feedback, maps, planning, state

auth.page_header("Plan: reserves and moves", "plan")
desk = planning.desk_choice("plan_start")
before, start = state.desk_runs(desk)
st.caption(f"{len(desk.scenario.remove)} officer(s) suspended; "
           f"{start.counts.reserve} reserve officer(s) on the roster.")

with st.container(border=True):
    c1, c2, c3, c4 = st.columns(4)
    k = c1.number_input("Reserves to place (K)", 0, 500, 42, key="plan_k")
    m = c2.number_input("On-duty officers to move (M)", 0, 100, 10, key="plan_m")
    limit = c3.number_input("Longest move (min, 0 = any)", 0.0, 120.0, 20.0, 1.0,
                            key="plan_limit")
    turnout = c4.number_input("Turnout at the site (s)", 0, 600, 0, 10, key="plan_turnout")
    where = st.radio("Candidate sites", ["stations", "nodes"], horizontal=True,
                     key="plan_candidates",
                     format_func={"stations": "Police stations",
                                  "nodes": "Road nodes inside an area drawn on the map"}.get)
    area = None
    if where == "nodes":
        st.caption("Draw the area with the polygon or rectangle tool (top left of the map).")
        draw_map = maps.base_map(height_px=420)
        planning.draw_control().add_to(draw_map)
        drawn = st_folium(draw_map, key="plan-area-map", height=420, use_container_width=True,
                          returned_objects=["all_drawings"])
        area = drawn_area((drawn or {}).get("all_drawings"))
        st.caption("Area drawn." if area else "No area drawn yet: draw one to plan on roads.")
    run = st.button("Run plan", type="primary", icon=":material/play_arrow:", key="plan_run",
                    disabled=where == "nodes" and area is None)

if run:
    with st.status("Planning...", expanded=True) as status:
        st.write(f"Starting from {feedback.md(desk.label or desk.scenario.name)}: "
                 f"{start.overall.zones_with_gap} zone(s) with a gap.")
        st.write("Choosing sites, reserves and moves (HiGHS MILP, or lazy greedy on many "
                 "sites)...")
        t0 = time.perf_counter()
        bf = feedback.checked(backfill, start, int(k), moves=int(m),
                              max_move_min=float(limit) or None, candidates=where,
                              area=area,
                              turnout_s=float(turnout))
        took = time.perf_counter() - t0
        st.write(f"Plan chosen in {took:.2f} s; writing the deployment order...")
        order = deployment_order(bf, conditions=plan_conditions(
            desk.scenario, desk.zones, site_turnout_s=float(turnout)))
        planning.set_last_plan(planning.PlanRun(desk, bf, order, took))
        status.update(label=f"Plan ready in {took:.2f} s: {len(order.lines)} order(s)",
                      state="complete", expanded=False)
    auth.record("scenario_run", page="plan", step="plan", reserves=int(k), moves=int(m),
                candidates=where, orders=len(order.lines),
                objective_before=bf.objective_before, objective_after=bf.objective_after)

last = planning.last_plan()
if last is None:
    st.info("Set K and M and run the plan.")
    st.stop()
bf, order = last.plan, last.order
st.subheader("Before → after the plan")
maps.show_key_figures(bf.after, before=bf.before)
st.caption(f"Objective {bf.objective_before:g} → {bf.objective_after:g} of "
           f"{bf.objective_max:g} ({'proven optimal' if bf.optimal else 'not proven optimal'}, "
           f"{bf.method}, bound {bf.bound:g}); planned in {last.seconds:.2f} s.")
for note in bf.notes:
    st.caption(f"Note: {feedback.md(note)}")

if order.conditions:
    st.markdown("**Planned under** (printed on the order)\n\n" + "\n".join(
        f"- {feedback.md(text)}" for text in order.conditions))
st.subheader(f"Orders ({len(order.lines)})")
st.dataframe(order_frame(order), hide_index=True, width="stretch", key="plan_table",
             column_config={"travel_min": st.column_config.NumberColumn(format="%.1f"),
                            "gain": st.column_config.NumberColumn(format="%g")})
planning.legend()
st_folium(maps.map_of(bf.after, baseline=bf.before, extra=[planning.plan_layer(last)]),
          key="plan-map", height=560, use_container_width=True, returned_objects=[])

c1, c2, c3 = st.columns(3)
if c1.button("Apply plan", icon=":material/check:", key="plan_apply",
             help="Make this plan the current scenario (Scenario builder, Criticality)."):
    state.set_current_scenario(apply_plan(last.desk, bf.scenario,
                                          label=f"plan of {len(order.lines)} order(s)"))
    auth.record("scenario_run", page="plan", step="apply", orders=len(order.lines),
                scenario_sha256=bf.scenario.sha256)
    st.success("The plan is now the current scenario.", icon=":material/check_circle:")
stamp = f"{order.issued:%Y%m%d-%H%M}"
c2.download_button("Deployment order (PDF)", order_pdf(order), f"order-{stamp}.pdf",
                   "application/pdf", key="plan_pdf", icon=":material/download:",
                   on_click=auth.record, args=("export",),
                   kwargs={"format": "order-pdf", "page": "plan", "orders": len(order.lines)})
c3.download_button("Deployment order (CSV)", order_csv(order), f"order-{stamp}.csv",
                   "text/csv", key="plan_csv", icon=":material/download:",
                   on_click=auth.record, args=("export",),
                   kwargs={"format": "order-csv", "page": "plan", "orders": len(order.lines)})
