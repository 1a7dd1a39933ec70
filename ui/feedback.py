"""Feedback on screen: escaped text from data files, errors and warnings, progress lines."""

from __future__ import annotations

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


def demo_banner() -> None:
    """Say plainly that the data on screen is synthetic."""
    st.warning(
        "SYNTHETIC DEMO DATA: the Peshawar demo district's roads, stations, officers and "
        "positions are simulated (see geodata/README.md). Not a real deployment.",
        icon=":material/science:",
    )
