"""CSV cells safe to open in a spreadsheet: text that would run as a formula is defused.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by spreadsheet programs (OWASP "CSV injection"); a leading ``'`` makes it plain text.
Every CSV this product writes from data or user text (audit log, deployment orders) goes
through :func:`safe_cell`.

>>> safe_cell("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> safe_cell("KP-0001"), safe_cell(-3)
('KP-0001', -3)
"""

from __future__ import annotations

from typing import Any, Final

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START: Final[tuple[str, ...]] = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a ``'`` in front when it is text starting like a formula; else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
