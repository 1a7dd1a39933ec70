"""Argument types for the command line: numbers checked where argparse reads them."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _positive(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        msg = f"must be a positive {what}, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def positive_minutes(text: str) -> float:
    """Argument type: a finite number of minutes greater than zero."""
    return _positive(text, "number of minutes")


def positive_number(text: str) -> float:
    """Argument type: a finite number greater than zero."""
    return _positive(text, "finite number")


def whole(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """Argument type: a whole number of at least ``minimum`` (and at most ``maximum``)."""
    span = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum or (maximum is not None and value > maximum):
            msg = f"must be a whole number {span}, got {text!r}"
            raise argparse.ArgumentTypeError(msg)
        return value

    parse.__name__ = f"whole number {span}"
    return parse
