"""PDF appendix: the sensitivity tornado (`assess --sensitivity --pdf`), drawn natively, then the
ranked table of every assumption."""

from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph

from risk_models.config.palette import signed_usd, usd
from risk_models.report.fonts import fonts, markup
from risk_models.report.pdf.drawings import fit_text
from risk_models.report.pdf.layout import table

TORNADO_ROWS = 15
LOW_COLOUR, HIGH_COLOUR = "#2e7d32", "#c62828"  # green: less loss; red: more (never the other way round)


def tornado_drawing(s: dict, width: float, rows: int = TORNADO_ROWS) -> Drawing:
    """Horizontal bars of the change in expected annual loss at the low and the high factor, around
    the base (the centre line), largest first; bar colour = whether the loss falls or rises."""
    f = fonts()
    shown = [r for r in s["rows"] if r["expected_loss_low_usd"] or r["expected_loss_high_usd"]][:rows]
    bar_h, gap, top, bottom = 9, 3, 14, 16
    d = Drawing(width, top + bottom + len(shown) * (bar_h + gap))
    label_w = width * 0.42
    plot_x, plot_w = label_w + 2 * mm, width - label_w - 4 * mm
    span = max([abs(r[k]) for r in shown for k in ("expected_loss_low_usd", "expected_loss_high_usd")] or [1.0]) or 1.0
    centre = plot_x + plot_w / 2
    scale = (plot_w / 2 - 14 * mm) / span  # room for the amount at the bar's end
    d.add(String(plot_x + plot_w / 2, d.height - 9, f"Change in expected annual loss from {usd(s['base']['expected_loss_usd'])}",
                 fontName=f.bold, fontSize=8, textAnchor="middle"))
    for j, r in enumerate(shown):
        y = d.height - top - (j + 1) * (bar_h + gap)
        d.add(String(0, y + 2, fit_text(r["label"], f.body, 7, label_w), fontName=f.body, fontSize=7))
        for key in ("expected_loss_low_usd", "expected_loss_high_usd"):
            v = r[key]
            if not v:
                continue
            w = abs(v) * scale
            x = centre if v > 0 else centre - w
            d.add(Rect(x, y, w, bar_h, strokeColor=None,
                       fillColor=colors.HexColor(HIGH_COLOUR if v > 0 else LOW_COLOUR)))
            tag = f"{'×' + format(s['high_factor'] if key.endswith('high_usd') else s['low_factor'], 'g')} {signed_usd(v)}"
            d.add(String(x + w + 1.5 if v > 0 else x - 1.5, y + 2, tag, fontName=f.body, fontSize=6,
                         textAnchor="start" if v > 0 else "end"))
    d.add(Line(centre, bottom - 2, centre, d.height - top + 2, strokeColor=colors.black, strokeWidth=0.6))
    d.add(String(centre, 3, "base", fontName=f.body, fontSize=7, textAnchor="middle"))
    d.add(String(plot_x, 3, "less loss", fontName=f.body, fontSize=7, fillColor=colors.HexColor(LOW_COLOUR)))
    d.add(String(plot_x + plot_w, 3, "more loss", fontName=f.body, fontSize=7, textAnchor="end",
                 fillColor=colors.HexColor(HIGH_COLOUR)))
    return d


def _count(n: int) -> str:
    return f"{'+' if n > 0 else '−'}{abs(n)}" if n else "0"


def _points(x: float) -> str:
    return f"{'+' if x > 0 else '−'}{abs(x):.1f}" if round(x, 1) else "0.0"


def section_sensitivity(rep: dict, styles: dict, width: float) -> list:
    s = rep.get("sensitivity")
    if not s:
        return []
    lo, hi = f"×{s['low_factor']:g}", f"×{s['high_factor']:g}"
    b = s["base"]
    out = [PageBreak(), Paragraph("Appendix: sensitivity — what the numbers rest on", styles["h1"]),
           Paragraph(markup(
               f"Every assumption moved to {lo} and {hi} of its value, one at a time, and the assessment recomputed "
               f"in closed form (no simulation). Base: expected annual loss {usd(b['expected_loss_usd'])}, "
               f"{int(b['critical'])} critical deployment(s), mean score {b['mean_score']:.1f}. Control factors move "
               "their effect (the distance from ×1); probabilities stay within certainty; dimension weights keep "
               "summing to 1. Ranked by the change in expected loss, then in critical deployments, then in mean "
               "score. The calibration constant only stretches the 0–100 score: ratings and losses do not use it."),
               styles["body"]),
           tornado_drawing(s, width)]
    rows = [["Assumption", "Value", "Basis", f"Loss {lo}", f"Loss {hi}", f"Critical {lo}", f"Critical {hi}",
             f"Score {lo}", f"Score {hi}"]]
    rows += [[r["label"], r["base_value"], r["basis"], signed_usd(r["expected_loss_low_usd"]),
              signed_usd(r["expected_loss_high_usd"]), _count(r["critical_low"]), _count(r["critical_high"]),
              _points(r["mean_score_low"]), _points(r["mean_score_high"])] for r in s["rows"]]
    out += [Paragraph("All assumptions, ranked", styles["h2"]),
            table(rows, width, styles, long=True, compact=True, align_right=(3, 4, 5, 6, 7, 8))]
    for n in s["not_moved"]:
        out.append(Paragraph(markup(f"Not moved: {n['label']} — {n['reason']}."), styles["small"]))
    return out
