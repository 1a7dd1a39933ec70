"""Feedback on screen: escaped text from data files, errors and warnings, progress lines."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from coverage.errors import CoverageError, DataWarning

T = TypeVar("T")

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-=.!|<>~$:])")


def md(text: object) -> str:
    """``text`` with Markdown and HTML characters escaped, for any Streamlit text element.

    Text from data files (ids, names) and messages quoting them must never become links,
    images, icons, headings or code on screen. Each line keeps its words (runs of spaces
    become one); lines are joined with hard line breaks; a zero-width space after every
    colon keeps ``:icon:`` shortcodes from matching.
    """
    lines = (" ".join(line.split()) for line in str(text).splitlines())
    escaped = (_MARKDOWN.sub(r"\\\1", line).replace(":", ":\u200b") for line in lines)
    return "  \n".join(line for line in escaped if line)


def checked(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn``; show data warnings with ``st.warning`` and errors with ``st.error``.

    A :class:`coverage.CoverageError` (bad data, bad input) stops the page after showing
    the engine's message: never a traceback.
    """
    failure: CoverageError | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        try:
            result = fn(*args, **kwargs)
        except CoverageError as exc:
            failure = exc
    for w in caught:
        if issubclass(w.category, DataWarning):
            st.warning(md(w.message), icon=":material/warning:")
    if failure is not None:
        st.error(md(failure), icon=":material/error:")
        st.stop()
    return result


def say(message: str) -> None:
    """A progress line in the current ``st.status`` box (escaped: it may quote file names)."""
    st.write(md(message))


def demo_banner(*, demo_data: bool = True) -> None:
    """Say plainly what on screen is synthetic: the bundled district, or (a demo session on
    an uploaded dataset) the session itself; simulated positions are told on the live map."""
    if demo_data:
        text = ("SYNTHETIC DEMO DATA: the Peshawar demo district's roads, stations, officers "
                "and positions are simulated (see geodata/README.md). Not a real deployment.")
    else:
        text = ("DEMO SESSION (SECCOV_DEMO=1, no login): the data on screen is the uploaded "
                "dataset, not the bundled demo district. Simulated positions are labelled "
                "SIMULATED where they are counted.")
    st.warning(text, icon=":material/science:")


def problems_view(problems: Any) -> Any:
    """The validation problems for the screen: a file-level problem's row shows as "file"
    (not "None"); a new frame."""
    import pandas as pd

    view = problems.copy()
    view["row"] = ["file" if pd.isna(r) else str(int(r)) for r in problems["row"]]
    return view


def dataset_line(files: dict[str, Any], *, name: str | None, demo: bool) -> str:
    """``Active dataset: NAME (roads a.pbf, ...)``, escaped; the demo district says so."""
    label = "Peshawar demo district (synthetic)" if demo else (name or "uploaded dataset")
    listed = ", ".join(f"{role} {md(p.name)}" for role, p in files.items())
    return f"**Active dataset: {md(label)}** ({listed})"


def active_name(files: dict[str, Any], records: list[Any]) -> str | None:
    """The registered name of the dataset whose files (names and sizes) are ``files``.

    ``records`` are :func:`coverage.ops.registry.datasets` (oldest first); the newest match
    wins; None when none matches.
    """
    import json
    from pathlib import Path

    try:
        have = {role: (Path(p).name, Path(p).stat().st_size) for role, p in files.items()}
    except OSError:
        return None
    for rec in reversed(records):
        try:
            meta = json.loads(rec.files)
        except ValueError:
            continue
        if all(role in meta and (meta[role].get("name"), meta[role].get("bytes")) == want
               for role, want in have.items()):
            return str(rec.name)
    return None


#: What each upload must hold (../shared/DATA.md, Inputs), for the data page.
COLUMNS_HELP = (
    "- **Roads**: OpenStreetMap (.osm, .osm.pbf, .osm.bz2), GraphML, or lines with optional "
    "`highway`, `maxspeed`, `oneway`.\n"
    "- **Stations** (points): `station_id`, `name`; optional `division`, "
    "`sanctioned_strength`, `vehicles`.\n"
    "- **Zones** (polygons): `zone_id`, `name`; optional `priority` (1-3), `target_min`, "
    "`min_officers`.\n"
    "- **Officers**: `officer_id`, `name`, `rank`, `station_id`, `status` (on_duty, reserve, "
    "off_duty, suspended), `lat`, `lon` (both empty: at the station), `last_seen`.\n"
    "- **Events** (CSV, optional): `officer_id`, `date`, `kind`, optional `days`, `note`.\n"
    "- **Resources** (CSV, optional): `station_id`, `item`, `on_hand`, optional "
    "`per_officer`.")


def tooltip_text(text: object) -> str:
    """``text`` safe inside a folium tooltip or popup (HTML set from a JavaScript string).

    HTML-escaped, and the characters that could end or interpolate folium's JavaScript
    template literal (backtick, ``$``, backslash, braces) written as HTML entities, so data
    text shows literally and never becomes markup or script.
    """
    escaped = html.escape(str(text), quote=True)
    for char, entity in (("\\", "&#92;"), ("`", "&#96;"), ("$", "&#36;"), ("{", "&#123;"),
                         ("}", "&#125;")):
        escaped = escaped.replace(char, entity)
    return escaped
