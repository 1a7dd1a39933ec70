"""PDF layout of a briefing (fpdf2) in a Unicode font, so any zone or station name prints.

Text from data files is set as plain text (never markup); characters the font lacks print
as ``?`` instead of failing.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coverage.briefing.brief import Brief, figure_rows
from coverage.errors import CoverageError

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
_MARKING_RGB = (164, 14, 38)
_GREY_RGB = (87, 96, 106)


def font_path(*, bold: bool = False) -> Path:
    """Return DejaVu Sans (bold): matplotlib's copy, else Debian's fonts-dejavu-core."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    dirs = list(_FONT_DIRS)
    try:
        import matplotlib

        dirs.insert(0, Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:
        pass
    for folder in dirs:
        if (folder / name).is_file():
            return folder / name
    msg = (f"PDF export: font {name} not found (looked in {', '.join(map(str, dirs))}); "
           "install matplotlib (requirements.lock) or Debian's fonts-dejavu-core")
    raise CoverageError(msg)


@functools.cache
def _charset() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    sets = []
    for bold in (False, True):
        with TTFont(font_path(bold=bold), lazy=True) as font:
            sets.append(frozenset(font.getBestCmap()))
    return sets[0] & sets[1]


def font_safe(text: object) -> str:
    """``text`` with every character DejaVu Sans cannot draw replaced by ``?``."""
    chars = _charset()
    return "".join(c if ord(c) in chars or c == "\n" else "?" for c in str(text))


def marked_document(marking: str, footer: Callable[[int], str], *, gap_mm: float = 3,
                    **fpdf_args: Any) -> Any:
    """A new fpdf2 document in DejaVu Sans (``dv``) whose every page opens and closes with
    the handling ``marking``; ``footer(page_number)`` is the small grey line under the last
    one (``{nb}`` stands for the page count)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    safe = font_safe(marking)

    class Doc(FPDF):
        def header(self) -> None:
            self.set_font("dv", "B", 9)
            self.set_text_color(*_MARKING_RGB)
            self.cell(0, 5, safe, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_text_color(0, 0, 0)
            self.ln(gap_mm)

        def footer(self) -> None:
            self.set_y(-13)
            self.set_font("dv", "B", 9)
            self.set_text_color(*_MARKING_RGB)
            self.cell(0, 5, safe, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_font("dv", "", 7)
            self.set_text_color(*_GREY_RGB)
            self.cell(0, 4, font_safe(footer(self.page_no())), align="C")

    pdf = Doc(**fpdf_args)
    pdf.add_font("dv", "", str(font_path()))
    pdf.add_font("dv", "B", str(font_path(bold=True)))
    return pdf


def _hex(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def brief_pdf(brief: Brief, png: bytes, *, map_caption: str,
              legend: list[tuple[str, str]]) -> bytes:
    """Return the briefing as PDF bytes: figures and gaps on page 1, map and legend on 2."""
    from fpdf.enums import XPos, YPos

    marking = font_safe(brief.handling)
    pdf = marked_document(brief.handling, lambda page: f"Page {page} of {{nb}}",
                          format="A4", unit="mm")
    pdf.set_margins(15, 12, 15)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(font_safe(brief.title))
    pdf.set_subject(marking)
    pdf.set_creator("seccov")
    pdf.set_creation_date(brief.created)
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def para(text: str, *, size: float = 10, bold: bool = False, grey: bool = False,
             gap: float = 1.5) -> None:
        pdf.set_font("dv", "B" if bold else "", size)
        pdf.set_text_color(*(_GREY_RGB if grey else (0, 0, 0)))
        pdf.multi_cell(width, size * 0.5, font_safe(text), align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(gap)

    def table(rows: list[list[str]], widths: tuple[float, ...], align: tuple[str, ...]) -> None:
        pdf.set_font("dv", "", 9)
        with pdf.table(col_widths=widths, text_align=align, line_height=5.5,
                       first_row_as_headings=True, width=width,
                       headings_style=_headings()) as t:
            for r in rows:
                row = t.row()
                for cell in r:
                    row.cell(font_safe(cell))
        pdf.ln(3)

    pdf.add_page()
    para(brief.title, size=16, bold=True, gap=1)
    para(f"Prepared {brief.created_text}", size=9, grey=True, gap=3)
    para("Scenario", size=11, bold=True, gap=0.5)
    para(brief.scenario)
    para(brief.redaction_note, size=9, grey=True, gap=3)
    para("Data sources", size=11, bold=True, gap=0.5)
    para("; ".join(f"{k}: {v}" for k, v in brief.sources.items()), size=9, gap=3)
    para("Key figures: baseline and scenario", size=11, bold=True, gap=1)
    table([["Figure", "Baseline", "Scenario"],
           *[list(r) for r in figure_rows(brief.before, brief.after, brief.expected)]],
          (60, 60, 60), ("LEFT", "RIGHT", "RIGHT"))
    para("Zones with the most urgent gaps", size=11, bold=True, gap=1)
    g = brief.top_gaps
    if len(g) and brief.expected is not None:
        table([["Zone", "Name", "Priority", "Target", "Covered", "Expected", "p90",
                 "Officers"],
               *g[["zone_id", "name", "priority", "target", "covered", "expected", "p90",
                   "officers"]].astype(str).to_numpy().tolist()],
              (18, 44, 16, 18, 20, 21, 25, 18),
              ("LEFT", "LEFT", "CENTER", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
    elif len(g):
        table([["Zone", "Name", "Priority", "Target", "Covered", "p90", "Officers"],
               *g[["zone_id", "name", "priority", "target", "covered", "p90", "officers"]]
               .astype(str).to_numpy().tolist()],
              (18, 58, 17, 20, 20, 27, 20),
              ("LEFT", "LEFT", "CENTER", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
    else:
        para("No zone has a gap under this scenario.")
    para("Covered: share of the zone's road nodes reached within its target. Officers: "
         "available officers who reach the zone within its target / officers it requires.",
         size=8, grey=True)
    if brief.expected is not None:
        para(brief.expected.note, size=8, grey=True)
    for note in brief.notes:
        para(f"Note: {note}", size=8, grey=True)

    pdf.add_page()
    para("Map", size=11, bold=True, gap=1)
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        w_px, h_px = img.size
    h_mm = min(width * h_px / w_px, 170.0)
    w_mm = h_mm * w_px / h_px
    x, y = pdf.l_margin + (width - w_mm) / 2, pdf.get_y()
    pdf.image(io.BytesIO(png), x=x, y=y, w=w_mm, h=h_mm)
    pdf.set_draw_color(140, 149, 159)
    pdf.rect(x, y, w_mm, h_mm)
    pdf.set_y(y + h_mm)
    pdf.ln(1)
    para(map_caption[:1].upper() + map_caption[1:] + ".", size=8, grey=True, gap=2)
    para("Legend", size=10, bold=True, gap=1)
    pdf.set_font("dv", "", 9)
    for color, label in legend:
        y = pdf.get_y()
        pdf.set_fill_color(*_hex(color))
        pdf.set_draw_color(36, 41, 47)
        pdf.rect(pdf.l_margin, y + 0.8, 4, 4, style="DF")
        pdf.set_x(pdf.l_margin + 6)
        pdf.cell(width - 6, 5.5, font_safe(label), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    para(brief.redaction_note, size=8, grey=True)
    return bytes(pdf.output())


def _headings() -> object:
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD", fill_color=(234, 238, 242))
