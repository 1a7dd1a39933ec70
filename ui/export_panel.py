"""The export panel: format, redaction and title, then a download of the briefing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import geopandas as gpd
import streamlit as st

from coverage import settings
from coverage.briefing.brief import (
    DEFAULT_TITLE,
    DISPLACE_MAX_M,
    DISPLACE_MIN_M,
    Brief,
    ExpectedFigures,
    build_brief,
    expected_figures,
)
from coverage.briefing.export import export_html, export_pdf, pdf_map, render_map
from coverage.engine.analysis import Coverage
from ui import readiness as personnel_inputs
from ui.auth import record
from ui.feedback import checked

_EXPORT_MIME = {".pdf": "application/pdf", ".png": "image/png", ".html": "text/html"}
_REDACTIONS = {"stations": "Officers as station counts (default, leaves the control room)",
               "displace": f"Officer positions displaced {DISPLACE_MIN_M:g}-{DISPLACE_MAX_M:g} m",
               "none": "Exact officer positions (control room only)"}


def export_panel(scenario: Coverage, *, baseline: Coverage | None = None,
                 suspension_source: str | None = None, key: str,
                 areas: tuple[tuple[str, gpd.GeoDataFrame], ...] = ()) -> None:
    """Format, redaction and title pickers, then a download button for the briefing export.

    The export shows the same map and figures as the page (``coverage.briefing.export``): the
    scenario's map with zones newly below target outlined, and ``areas`` (e.g. a service
    area); making one is audited.
    """
    with st.expander("Export a briefing (PDF, PNG or HTML)", icon=":material/download:"):
        c1, c2 = st.columns(2)
        fmt = c1.radio("Format", list(_EXPORT_MIME), horizontal=True, key=f"{key}-fmt",
                       format_func=lambda s: s[1:].upper())
        redact = c2.selectbox("Officers", list(_REDACTIONS), key=f"{key}-redact",
                              format_func=_REDACTIONS.__getitem__)
        title = st.text_input("Title", value=DEFAULT_TITLE, max_chars=120, key=f"{key}-title")
        files = personnel_inputs.personnel_files()
        with_expected = files is not None and st.checkbox(
            "Expected coverage under refusal risk", value=True, key=f"{key}-expected",
            help="From this dataset's personnel events and station resources: station "
            "readiness levels as of the date below, each unit refusing with its station "
            "level's probability; the export gains the expected objective and each listed "
            "zone's expected covered share (station aggregates only).")
        risk = _risk_inputs(key) if with_expected and files is not None else None
        if st.button("Prepare export", key=f"{key}-make", icon=":material/build:"):
            with st.status(f"Preparing the {fmt[1:].upper()} briefing...",
                           expanded=True) as status:
                expected = None
                if risk is not None and files is not None:
                    st.write("Expected coverage under refusal risk...")
                    expected = _expected(scenario, baseline, files, *risk)
                st.write("Building the briefing (figures, gaps, redaction)...")
                brief = checked(build_brief, scenario, baseline=baseline, title=title,
                                redact=redact, suspension_source=suspension_source,
                                areas=areas, expected=expected)
                st.write("Rendering the map..." if fmt != ".html" else "Writing the page...")
                data, how = checked(_EXPORTERS[fmt], brief)
                st.write(how)
                status.update(label=f"{fmt[1:].upper()} ready ({len(data) / 1024:,.0f} KiB)",
                              state="complete")
            st.session_state[f"{key}-file"] = (fmt, data, brief.created)
            record("export", format=fmt[1:], redact=redact, page=key,
                   suspended=len(scenario.suspended), bytes=len(data),
                   expected=expected is not None)
        ready = st.session_state.get(f"{key}-file")
        if ready:
            fmt_ready, data, created = ready
            st.download_button(
                f"Download {fmt_ready[1:].upper()}", data=data, mime=_EXPORT_MIME[fmt_ready],
                file_name=f"briefing-{created:%Y%m%d-%H%M%S}{fmt_ready}", key=f"{key}-dl",
                icon=":material/download:", type="primary")


def _risk_inputs(key: str) -> tuple[date | None, dict[str, float]]:
    """The as-of date (None: the newest event's, as on the Readiness page) and the refusal
    probability per level (default ``settings.REFUSAL_P``) the export uses. Nothing is
    read here: the personnel files are parsed only when the export is made."""
    c1, *cols = st.columns(1 + len(settings.REFUSAL_P))
    as_of = c1.date_input("Readiness as of", value=None, key=f"{key}-as-of",
                          help="Station levels from the events up to this date; empty: "
                               "the newest event's date.")
    probs = {level: col.number_input(f"Refusal p, {level}", 0.0, 1.0, float(p), 0.01,
                                     key=f"{key}-p-{level}")
             for col, (level, p) in zip(cols, settings.REFUSAL_P.items(), strict=True)}
    return as_of, probs


def _expected(scenario: Coverage, baseline: Coverage | None, files: dict[str, Path],
              as_of: date | None, probs: dict[str, float]) -> ExpectedFigures:
    """The expected figures of the export, from the active dataset's personnel files."""
    p = personnel_inputs.personnel(files)
    return checked(expected_figures, scenario, p.events, p.resources, baseline=baseline,
                   as_of=as_of, refusal_p=probs)


def _png(brief: Brief) -> tuple[bytes, str]:
    image = render_map(brief)
    return image.png, image.description


def _pdf(brief: Brief) -> tuple[bytes, str]:
    image = pdf_map(brief)
    return export_pdf(brief, map_image=image), image.description


_EXPORTERS: dict[str, Callable[[Brief], tuple[bytes, str]]] = {
    ".pdf": _pdf, ".png": _png,
    ".html": lambda b: (export_html(b), "standalone page, Leaflet inlined: opens offline")}
