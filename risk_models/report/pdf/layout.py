"""PDF building blocks: paper sizes, styles, rating colours, tables sized from their text, clipped cells."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    LongTable,
    Paragraph,
    Table,
    TableStyle,
)

from risk_models.config.palette import RATING_COLOURS, ink
from risk_models.report.fonts import fonts, markup

PAPER = {"a4": A4, "letter": LETTER}
# Luminance-ordered orange-red ramp (ColorBrewer OrRd): readable with colour-vision deficiencies.
# A table row cannot break across pages: a 2,000-character name made the row taller than the page
# (LayoutError). Cells of user text show at most CELL_MAX characters; Appendix C gives every clipped
# value whole. Tables of the tool's own text (methodology, cases) keep every text whole (limit=None).
CELL_MAX = 160
LONG_FIELDS = ("deployment_id", "name", "business_unit", "use_case", "owner", "model", "region")


def make_styles() -> dict[str, ParagraphStyle]:
    f = fonts()
    base = ParagraphStyle("body", fontName=f.body, fontSize=9.5, leading=12.5, spaceAfter=3)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.2, spaceAfter=0),
        "head": ParagraphStyle("head", parent=base, fontName=f.bold, fontSize=7.5, leading=9.2, spaceAfter=0,
                               textColor=colors.white),
        "tiny": ParagraphStyle("tiny", parent=base, fontSize=6.5, leading=8, spaceAfter=0),
        "tinyhead": ParagraphStyle("tinyhead", parent=base, fontName=f.bold, fontSize=6.5, leading=8, spaceAfter=0,
                                   textColor=colors.white),
        "h1": ParagraphStyle("h1", parent=base, fontName=f.bold, fontSize=16, leading=20, spaceBefore=6,
                             spaceAfter=8, keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=base, fontName=f.bold, fontSize=12, leading=15, spaceBefore=8,
                             spaceAfter=5, keepWithNext=1),
        "title": ParagraphStyle("title", parent=base, fontName=f.bold, fontSize=24, leading=30,
                                alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=12, leading=16, alignment=TA_CENTER),
    }


PAD = 13.0  # reportlab's default cell padding (6 pt left + 6 pt right) and a hair for rounding
MEASURED = 24  # per column, the longest texts by character count are measured (20,000-row appendix stays fast)


def _widest(texts: list[str], font: str, size: float) -> float:
    longest = sorted(set(texts), key=len, reverse=True)[:MEASURED]
    return max((stringWidth(t, font, size) for t in longest), default=0.0)


MIN_FONT = 5.0  # a table whose words do not fit at its size is set smaller, down to this, before a word breaks


def _needs(rows: list[list], total: float, size: float, limit: int | None) -> tuple[list[float], list[float]]:
    """Per column: the width its widest word needs at `size` (so words and amounts never break) and the
    width it would like (its widest text)."""
    f = fonts()
    n = len(rows[0])
    need, want = [0.0] * n, [0.0] * n
    for j in range(n):
        head = str(rows[0][j])
        cells = [r[j] for r in rows[1:]]
        texts = [clip(c, limit) for c in cells if isinstance(c, str | int | float)]
        words = [w for t in texts for w in t.split()]
        fixed = RATING_CELL_W if any(not isinstance(c, str | int | float) for c in cells) else 0.0
        # a single word wider than a third of the table (a 500-character name) has to break anyway:
        # it must not squeeze every other column
        need[j] = min(max(_widest(head.split(), f.bold, size), _widest(words, f.body, size), fixed - PAD) + PAD,
                      max(total / 3, fixed))
        want[j] = max(need[j], min(_widest(texts, f.body, size) + PAD, total * 0.6),
                      _widest([head], f.bold, size) * 0.6 + PAD)
    return need, want


def fit_size(rows: list[list], total: float, size: float, limit: int | None = CELL_MAX) -> float:
    """The font size at which every column's widest word fits `total` (at most `size`, at least MIN_FONT)."""
    need, _ = _needs(rows, total, size, limit)
    if sum(need) <= total:
        return size
    # words scale with the size, the padding does not
    pad = PAD * len(need)
    return max(MIN_FONT, size * (total - pad) / max(sum(need) - pad, 1e-9))


def fit_widths(rows: list[list], total: float, compact: bool = False, size: float | None = None,
               limit: int | None = CELL_MAX) -> list[float]:
    """Column widths that add up to `total`: every column at least as wide as its widest word, the rest
    shared out in proportion to how much text each holds."""
    need, want = _needs(rows, total, size or (6.5 if compact else 7.5), limit)
    if sum(want) <= total:
        return [w * total / sum(want) for w in want]
    if sum(need) <= total:
        spare, extra = total - sum(need), [w - m for w, m in zip(want, need, strict=True)]
        return [m + spare * e / sum(extra) for m, e in zip(need, extra, strict=True)]
    return [m * total / sum(need) for m in need]  # a single word wider than the page: it has to break


def table(rows: list[list], width: float | list[float], styles: dict, long: bool = False, zebra: bool = True,
          compact: bool = False, align_right: tuple[int, ...] = (), limit: int | None = CELL_MAX) -> Table:
    """Rows of text (user text is marked up here); first row is the header, repeated on new pages.
    `width`: the table's total width (a list is summed); columns are sized from their content, and the
    font is made smaller rather than a word (a model name, an amount, an id) broken. `limit`: cells
    longer than this are shortened (the caller shows them whole elsewhere); None keeps every text whole."""
    head, cell = (styles["tinyhead"], styles["tiny"]) if compact else (styles["head"], styles["cell"])
    total = sum(width) if isinstance(width, list) else width
    size = fit_size(rows, total, cell.fontSize, limit)
    if size < cell.fontSize:
        scale = size / cell.fontSize
        head = ParagraphStyle(f"{head.name}-fit", parent=head, fontSize=size, leading=head.leading * scale)
        cell = ParagraphStyle(f"{cell.name}-fit", parent=cell, fontSize=size, leading=cell.leading * scale)
    widths = fit_widths(rows, total, compact, size, limit)
    data = [[Paragraph(markup(c), head) for c in rows[0]]]
    right = {j: ParagraphStyle(f"r{j}", parent=cell, alignment=TA_RIGHT) for j in align_right}
    data += [[c if not isinstance(c, str | int | float) else Paragraph(markup(clip(c, limit)), right.get(j, cell))
              for j, c in enumerate(r)] for r in rows[1:]]
    t = (LongTable if long else Table)(data, colWidths=widths, repeatRows=1)
    cmds = [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#3b3b3b")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    if zebra:
        cmds += [("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f4f4f4")])]
    t.setStyle(TableStyle(cmds))
    return t


def clip(value: object, limit: int | None = CELL_MAX) -> str:
    """Text for a table cell: at most `limit` characters (None: whole), an ellipsis when shortened."""
    s = str(value)
    return s if limit is None or len(s) <= limit else s[: limit - 1] + "…"


RATING_CELL_W = 56.0  # "critical" (7.5 pt) in a coloured box with its own and the outer cell padding


def rating_cell(rating: str, styles: dict) -> Table:
    fill = RATING_COLOURS.get(rating, "#ffffff")
    p = Paragraph(f'<font color="{ink(fill)}">{markup(rating)}</font>', styles["cell"])
    t = Table([[p]])
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(fill)),
                           ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                           ("TOPPADDING", (0, 0), (-1, -1), 1)]))
    return t
