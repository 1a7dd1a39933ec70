"""Exceptions and warnings raised by the coverage package."""

from __future__ import annotations


class CoverageError(Exception):
    """Base class for every error the coverage package raises on purpose."""


class DataError(CoverageError, ValueError):
    """An input file or argument is malformed; the message names file, row and field."""


class GraphError(CoverageError, ValueError):
    """The road graph cannot answer the question (no roads, no nodes, bad cache)."""


class CoverageWarning(UserWarning):
    """Base class for warnings about data that was accepted with a caveat."""


class DataWarning(CoverageWarning):
    """Input was accepted, but some records were repaired, ignored or look suspicious."""


def problems_message(source: str, problems: list[str], *, limit: int = 20) -> str:
    """Return one message listing ``problems`` found in ``source``.

    Parameters
    ----------
    source
        The file name (or argument name) the problems were found in.
    problems
        One line per problem, e.g. ``"row 7: status 'on_strike' is not one of ..."``.
    limit
        At most this many problems are listed; the rest are counted.
    """
    shown = problems[:limit]
    more = len(problems) - len(shown)
    lines = [f"{source}: {p}" for p in shown]
    if more > 0:
        lines.append(f"{source}: ... and {more} more problem(s)")
    return "\n".join(lines)
