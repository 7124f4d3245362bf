"""PDF drawings: the 5x5 risk matrix and the concentration bars (reportlab graphics, no browser)."""

from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from risk_models.config.labels import human
from risk_models.config.palette import BAND_COLOURS, RATING_COLOURS, ink
from risk_models.report.fonts import fonts


def heatmap_drawing(cells: list[dict], size: float = 62 * mm, title: str = "") -> Drawing:
    """5x5 likelihood x impact, counts in cells, colours by the cell's rating, with a legend."""
    f = fonts()
    cell = size / 5
    left, bottom = 14 * mm, 19 * mm
    top = 6 * mm if title else 4 * mm
    d = Drawing(max(left + size + 4 * mm, 80 * mm), bottom + size + top)
    by_cell = {(c["likelihood"], c["impact"]): c for c in cells}
    for lik in range(1, 6):
        for imp in range(1, 6):
            fill = RATING_COLOURS[by_cell[(lik, imp)]["rating"]]  # rated by the engine with the config's bounds
            x, y = left + (imp - 1) * cell, bottom + (lik - 1) * cell
            d.add(Rect(x, y, cell, cell, fillColor=colors.HexColor(fill), strokeColor=colors.white, strokeWidth=1.5))
            n = by_cell[(lik, imp)]["count"]
            if n:
                d.add(String(x + cell / 2, y + cell / 2 - 4, str(n), fontName=f.bold, fontSize=11, textAnchor="middle",
                             fillColor=colors.black if ink(fill) == "black" else colors.white))
        d.add(String(left - 3 * mm, bottom + (lik - 0.5) * cell - 3, str(lik), fontName=f.body, fontSize=8,
                     textAnchor="middle"))
    for imp in range(1, 6):
        d.add(String(left + (imp - 0.5) * cell, bottom - 4 * mm, str(imp), fontName=f.body, fontSize=8,
                     textAnchor="middle"))
    d.add(String(left + size / 2, bottom - 8 * mm, "impact →", fontName=f.body, fontSize=8, textAnchor="middle"))
    d.add(String(2 * mm, bottom + size + 1 * mm, "likelihood ↑", fontName=f.body, fontSize=8))
    if title:
        d.add(String(left + size / 2, bottom + size + 1 * mm, title, fontName=f.bold, fontSize=9, textAnchor="middle"))
    x = 2 * mm
    d.add(String(x, 2 * mm, "Legend:", fontName=f.bold, fontSize=7))
    x += stringWidth("Legend:", f.bold, 7) + 2 * mm
    for rating, fill in RATING_COLOURS.items():  # the rating each colour stands for
        d.add(Rect(x, 1.4 * mm, 3 * mm, 3 * mm, fillColor=colors.HexColor(fill), strokeColor=None))
        d.add(String(x + 4 * mm, 2 * mm, rating, fontName=f.body, fontSize=7))
        x += 4 * mm + stringWidth(rating, f.body, 7) + 3 * mm
    return d


def fit_text(text: str, font: str, size: float, room: float) -> str:
    """`text` shortened with an ellipsis so it fits `room` points (chart labels never run into bars)."""
    if stringWidth(text, font, size) <= room:
        return text
    while text and stringWidth(text + "…", font, size) > room:
        text = text[:-1]
    return text + "…"


def shortened_labels(conc: dict, width: float, labels: dict | None = None) -> list[str]:
    """The names concentration_drawing had to shorten, whole (printed under the chart)."""
    f = fonts()
    col_w = width / max(len(conc), 1)
    out = []
    for axis in conc:
        names = [human(axis, key, labels) for key in conc[axis]["spend"]["shares"]]
        if any(stringWidth(n, f.body, 5.5) > col_w * 0.6 - 3 for n in names):
            out += [n for n in names if stringWidth(n, f.body, 5.5) > col_w * 0.6 - 3]
    return out


def concentration_drawing(conc: dict, width: float, labels: dict | None = None) -> Drawing:
    """Spend shares per key for channel, cloud and model vendor, bar colour = HHI band."""
    f = fonts()
    axes = list(conc)
    col_w = width / len(axes)
    rows = max(len(conc[a]["spend"]["shares"]) for a in axes)
    bar_h, top_pad = 9, 24
    d = Drawing(width, top_pad + rows * (bar_h + 3) + 6)
    for k, axis in enumerate(axes):
        c = conc[axis]["spend"]
        x0 = k * col_w
        d.add(String(x0, d.height - 10, fit_text(f"{human('axis', axis)}: HHI {c['hhi']:,.0f} ({c['band']})", f.bold, 8,
                                                  col_w - 4), fontName=f.bold, fontSize=8))
        shares = sorted(c["shares"].items(), key=lambda kv: -kv[1])
        names = [human(axis, key, labels) for key, _ in shares]
        # the labels take the room their longest name needs (up to 60 % of the column), then a smaller font:
        # a name is shortened only past both, and then given whole under the chart (concentration_notes)
        widest = max((stringWidth(n, f.body, 7) for n in names), default=0.0) + 3
        label_w = min(max(widest, col_w * 0.3), col_w * 0.6)
        size = max(5.5, min(7.0, 7.0 * (label_w - 3) / max(widest - 3, 1e-9)))
        bar_w = col_w - label_w - stringWidth("100%", f.body, 7) - 6
        for j, ((_key, share), name) in enumerate(zip(shares, names, strict=True)):
            y = d.height - top_pad - j * (bar_h + 3)
            d.add(String(x0, y + 1, fit_text(name, f.body, size, label_w - 3), fontName=f.body, fontSize=size))
            d.add(Rect(x0 + label_w, y, bar_w * share / 100, bar_h, fillColor=colors.HexColor(BAND_COLOURS[c["band"]]),
                       strokeColor=None))
            d.add(String(x0 + label_w + bar_w * share / 100 + 2, y + 1, f"{share:.0f}%", fontName=f.body, fontSize=7))
    return d
