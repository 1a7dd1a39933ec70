"""Data upload: replace the district's files; the active dataset changes only if all validate."""

from __future__ import annotations

import streamlit as st

from coverage.errors import CoverageError
from coverage.ops import registry, workspace
from ui import auth, feedback, state

session = auth.page_header("Data upload", "data")
current = state.current_files()
personnel = workspace.active_personnel() or {}
demo = state.data_is_demo()
known = [] if demo else feedback.checked(registry.datasets, state.store())
st.markdown(feedback.dataset_line({**current, **personnel}, demo=demo,
                                  name=feedback.active_name(current, known)))
st.caption("Upload any of the files; the others stay as they are. Nothing changes until the "
           "new set validates and you activate it. A zip may hold one Shapefile or one file.")
with st.expander("Columns each file needs"):
    st.markdown(feedback.COLUMNS_HELP)

TYPES = {"roads": ["osm", "pbf", "bz2", "gz", "graphml", "geojson", "json", "gpkg", "zip"],
         "stations": ["geojson", "json", "gpkg", "zip", "csv"],
         "zones": ["geojson", "json", "gpkg", "zip", "csv"],
         "officers": ["csv", "geojson", "json", "gpkg", "zip"],
         "events": ["csv"], "resources": ["csv"]}
cols = [*st.columns(4), *st.columns(4)[:2]]
files = {role: col.file_uploader(role.capitalize(), type=types, key=f"data_{role}",
                                 help="Optional, with resources: personnel events (readiness)"
                                 if role == "events" else "Optional, with events: station "
                                 "resources (readiness)" if role == "resources" else None)
         for col, (role, types) in zip(cols, TYPES.items(), strict=True)}
name = st.text_input("Dataset name", value="uploaded dataset", max_chars=80, key="data_name")
# what was validated must be what is in the uploaders now: otherwise forget it
chosen = tuple((r, f.file_id) for r, f in files.items() if f)
if st.session_state.get("data_for") != chosen:
    old = st.session_state.pop("data_staged", None)
    if old is not None:
        old.cleanup()
    st.session_state.pop("data_check", None)

if st.button("Validate", type="primary", disabled=not any(files.values()),
             icon=":material/rule:"):
    uploaded = {r: f.name for r, f in files.items() if f}
    try:
        with st.status("Validating the new dataset...", expanded=True) as status:
            staged = workspace.stage({r: (f.name, f.getvalue()) for r, f in files.items() if f},
                                     base={**current, **personnel})
            check = workspace.validate(staged.files, progress=feedback.say)
            status.update(label="Valid: ready to activate" if check.ok else
                          "Refused: see the problems below",
                          state="complete" if check.ok else "error")
    except CoverageError as exc:
        st.error(feedback.md(exc), icon=":material/error:")
        auth.record("upload", outcome="refused", files=uploaded, reason=str(exc)[:500])
    else:
        st.session_state["data_check"] = check.problems
        st.session_state["data_for"] = chosen
        errors = int((check.problems["severity"] == "error").sum())
        auth.record("upload", outcome="validated" if check.ok else "refused", files=uploaded,
                   errors=errors)
        if check.ok:
            st.session_state["data_staged"] = staged
        else:
            staged.cleanup()

problems = st.session_state.get("data_check")
if problems is not None:
    errors = int((problems["severity"] == "error").sum())
    if errors:
        st.error(f"{errors} problem(s): the active dataset is unchanged.", icon=":material/error:")
    elif len(problems):
        st.warning(f"Valid with {len(problems)} warning(s).", icon=":material/warning:")
    if len(problems):
        st.dataframe(feedback.problems_view(problems), hide_index=True, width="stretch",
                     key="data_problems")

staged = st.session_state.get("data_staged")
if staged is not None:
    st.success("The new dataset validates.", icon=":material/check_circle:")
    if st.button("Activate this dataset", icon=":material/published_with_changes:"):
        try:
            workspace.activate(state.store(), staged.files, name=name, user=session.username)
        except (CoverageError, OSError, ValueError) as exc:
            st.error(f"Not activated: {feedback.md(exc)}", icon=":material/error:")
        else:
            staged.cleanup()
            for key in ("data_staged", "data_check"):
                st.session_state.pop(key, None)
            state.clear_data_caches()
            st.session_state["data_done"] = name
            st.rerun()
done = st.session_state.pop("data_done", None)
if done:
    st.success(f"'{feedback.md(done)}' is now the active dataset for every screen.")
