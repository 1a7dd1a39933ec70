"""Data text in folium tooltips shows literally: never markup, never script."""

from __future__ import annotations

import re

import folium

from tests.support.tiny import ROOT
from ui.feedback import tooltip_text

HOSTILE = "KP-1 <img src=x onerror=alert(1)> `${alert(2)}` \\` &amp;"


def test_hostile_text_cannot_leave_the_tooltip() -> None:
    m = folium.Map(location=[34.0, 71.5], tiles=None)
    folium.CircleMarker([34.0, 71.5], tooltip=folium.Tooltip(tooltip_text(HOSTILE))).add_to(m)
    page = m.get_root().render()
    (literal,) = re.findall(r"bindTooltip\(\s*`(.*?)`", page, flags=re.S)
    assert "<img" not in literal
    for char in ("`", "${", "\\"):
        assert char not in literal
    assert "&lt;img src=x onerror=alert(1)&gt;" in literal
    assert "&#96;&#36;&#123;alert(2)&#125;&#96;" in literal
    assert "&amp;amp;" in literal  # an entity in the data shows as typed


def test_no_ui_tooltip_is_built_from_markdown_escaping() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "ui").glob("*.py")
                 if re.search(r"(Tooltip|Popup)\(\s*md\(", p.read_text(encoding="utf-8"))]
    assert offenders == []
