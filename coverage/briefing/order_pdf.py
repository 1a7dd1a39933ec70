"""The deployment order as a PDF to sign (fpdf2), and writing it as PDF or CSV by file suffix.

The handling marking heads and foots every page; text from data files (ids, names, zone
ids) is set as plain text in DejaVu Sans, never as markup.
"""

from __future__ import annotations

from pathlib import Path

from coverage.briefing._pdf import font_safe, marked_document
from coverage.errors import CoverageError, DataError
from coverage.planning.order import DeploymentOrder, figure_rows, issued_text, order_csv

_GREY_RGB = (87, 96, 106)
ORDER_FORMATS = (".pdf", ".csv")


def check_order_path(path: str | Path) -> str:
    """Return the order's format (``.pdf`` or ``.csv``) from ``path``'s suffix, or raise."""
    suffix = Path(path).suffix.lower()
    if suffix not in ORDER_FORMATS:
        msg = (f"--order {Path(path).name}: unknown format {suffix or '(no suffix)'!r}; name "
               "the file .pdf or .csv")
        raise CoverageError(msg)
    return suffix


def order_pdf(order: DeploymentOrder) -> bytes:
    """Return the order as PDF bytes: figures, the numbered orders, then signature lines."""
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    marking = font_safe(order.marking)
    pdf = marked_document(
        order.marking, lambda page: f"{order.title}, issued {issued_text(order)}. "
                                    f"Page {page} of {{nb}}",
        gap_mm=2, format="A4", orientation="landscape", unit="mm")
    pdf.set_margins(12, 10, 12)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_title(font_safe(order.title))
    pdf.set_subject(marking)
    pdf.set_creator("seccov")
    pdf.set_creation_date(order.issued)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    heading = FontFace(emphasis="BOLD", fill_color=(234, 238, 242))

    def para(text: str, *, size: float = 10, bold: bool = False, grey: bool = False,
             gap: float = 1.5) -> None:
        pdf.set_font("dv", "B" if bold else "", size)
        pdf.set_text_color(*(_GREY_RGB if grey else (0, 0, 0)))
        pdf.multi_cell(width, size * 0.5, font_safe(text), align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(gap)

    def table(rows: list[list[str]], widths: tuple[float, ...], align: tuple[str, ...],
              *, table_width: float = width) -> None:
        pdf.set_font("dv", "", 8.5)
        with pdf.table(col_widths=widths, text_align=align, line_height=5,
                       first_row_as_headings=True, width=table_width,
                       align="LEFT", headings_style=heading) as t:
            for r in rows:
                row = t.row()
                for cell in r:
                    row.cell(font_safe(cell))
        pdf.ln(3)

    pdf.add_page()
    para(order.title, size=16, bold=True, gap=1)
    para(f"Issued {issued_text(order)}. {order.suspended} officer(s) suspended in the "
         f"scenario. Plan: {order.method.upper()}, "
         f"{'proven optimal' if order.optimal else 'not proven optimal'}; scenario "
         f"{order.scenario_sha256[:12]}.", size=9, grey=True, gap=3)
    if order.conditions:
        para("Planned under", size=11, bold=True, gap=1)
        for text in order.conditions:
            para(f"- {text}", size=9, gap=0.5)
        pdf.ln(2)
    para("Key figures before and after the orders", size=11, bold=True, gap=1)
    table([["Figure", "Before", "After"], *[list(r) for r in figure_rows(order)]],
          (60, 45, 45), ("LEFT", "RIGHT", "RIGHT"), table_width=150)
    para(f"Orders ({len(order.lines)})", size=11, bold=True, gap=1)
    if order.lines:
        table([["No.", "Officer", "Rank", "Order", "From", "To", "Travel", "Restores zones"],
               *[[str(ln.number), f"{ln.officer_id} {ln.name}".strip(), ln.rank,
                  "reserve" if ln.kind == "reserve" else "move",
                  ln.from_station, f"{ln.to_site} ({ln.lat:.5f}, {ln.lon:.5f})",
                  "-" if ln.travel_min is None else f"{ln.travel_min:.1f} min",
                  ", ".join(ln.restores) or "-"] for ln in order.lines]],
              (10, 48, 28, 24, 22, 50, 20, 71),
              ("RIGHT", "LEFT", "LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "LEFT"))
    else:
        para("No order: no placement or move would improve coverage.")
    para("Travel: road time from where the officer stands to the site. Restores: zones "
         "whose covered nodes rise or officers short fall with this order, after the "
         "orders above it.", size=8, grey=True)
    for note in order.notes:
        para(f"Note: {note}", size=8, grey=True, gap=0.5)
    pdf.ln(6)
    pdf.set_font("dv", "", 10)
    for label in ("Issued by (name, rank)", "Signature", "Date and time"):
        pdf.cell(55, 9, label)
        pdf.cell(110, 9, "_" * 48, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def write_order(order: DeploymentOrder, path: str | Path) -> Path:
    """Write ``order`` to ``path`` as PDF or CSV, by suffix; return the path."""
    p = Path(path)
    data = order_pdf(order) if check_order_path(p) == ".pdf" else order_csv(order)
    try:
        p.write_bytes(data)
    except OSError as exc:
        msg = f"{p.name}: cannot write the deployment order: {exc.strerror or exc}"
        raise DataError(msg) from exc
    return p
