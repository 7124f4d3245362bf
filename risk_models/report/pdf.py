"""The PDF executive summary (reportlab, drawn natively: no browser).

Sections: title page (organisation, logo, prepared by), a one-page executive summary (headline
figures, the matrix with its legend, the three decisions asked of the committee, changes since the
comparison baseline), concentration, high/critical deployments, the what-if plan when one is
applied, scenario assumptions with a numbered references list, exit-plan summaries for critical
deployments, appendix of all deployments (header repeated on every page) and rejected rows,
methodology. Every piece of user text goes through `fonts.markup` (escaped, shaped), so it can
never become markup. Table columns are sized from the text they hold (reportlab's stringWidth), so
no word or amount is broken across lines unless a single word is wider than the page."""

from __future__ import annotations

import base64
import datetime as dt
import io

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    Image,
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from risk_models.config_schema import SWITCH_KINDS
from risk_models.library.pack import report_pack_age
from risk_models.report.changes import review_text
from risk_models.report.fonts import fonts, markup
from risk_models.report.labels import human, report_labels
from risk_models.report.methodology import COMPONENT_LABELS, assumption_rows, method_paragraphs, worked_example
from risk_models.report.options import with_option_details
from risk_models.report.pdf_reviews import section_reviews

PAPER = {"a4": A4, "letter": LETTER}
# Luminance-ordered orange-red ramp (ColorBrewer OrRd): readable with colour-vision deficiencies.
RATING_FILL = {"low": "#fdd49e", "medium": "#fc8d59", "high": "#d7301f", "critical": "#7f0000"}
BAND_FILL = {"unconcentrated": "#fdd49e", "moderate": "#fc8d59", "high": "#b30000"}
DARK_TEXT = {"#fdd49e", "#fc8d59"}
# A table row cannot break across pages: a 2,000-character name made the row taller than the page
# (LayoutError). Cells show at most CELL_MAX characters; Appendix C gives every clipped value whole.
CELL_MAX = 160
LONG_FIELDS = ("deployment_id", "name", "business_unit", "use_case", "owner", "model", "region")


def _styles() -> dict[str, ParagraphStyle]:
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


def _usd(x: float) -> str:
    return f"${x:,.0f}"


PAD = 13.0  # reportlab's default cell padding (6 pt left + 6 pt right) and a hair for rounding
MEASURED = 24  # per column, the longest texts by character count are measured (20,000-row appendix stays fast)


def _widest(texts: list[str], font: str, size: float) -> float:
    longest = sorted(set(texts), key=len, reverse=True)[:MEASURED]
    return max((stringWidth(t, font, size) for t in longest), default=0.0)


def fit_widths(rows: list[list], total: float, compact: bool = False) -> list[float]:
    """Column widths that add up to `total`: every column at least as wide as its widest word (so
    words and amounts never break), the rest shared out in proportion to how much text each holds."""
    f = fonts()
    size = 6.5 if compact else 7.5
    n = len(rows[0])
    need, want = [0.0] * n, [0.0] * n
    for j in range(n):
        head = str(rows[0][j])
        cells = [r[j] for r in rows[1:]]
        texts = [clip(c) for c in cells if isinstance(c, str | int | float)]
        words = [w for t in texts for w in t.split()]
        fixed = RATING_CELL_W if any(not isinstance(c, str | int | float) for c in cells) else 0.0
        # a single word wider than a third of the table (a 500-character name) has to break anyway:
        # it must not squeeze every other column
        need[j] = min(max(_widest(head.split(), f.bold, size), _widest(words, f.body, size), fixed - PAD) + PAD,
                      max(total / 3, fixed))
        want[j] = max(need[j], min(_widest(texts, f.body, size) + PAD, total * 0.6),
                      _widest([head], f.bold, size) * 0.6 + PAD)
    if sum(want) <= total:
        return [w * total / sum(want) for w in want]
    if sum(need) <= total:
        spare, extra = total - sum(need), [w - m for w, m in zip(want, need, strict=True)]
        return [m + spare * e / sum(extra) for m, e in zip(need, extra, strict=True)]
    return [m * total / sum(need) for m in need]  # a single word wider than the page: it has to break


def _table(rows: list[list], width: float | list[float], styles: dict, long: bool = False, zebra: bool = True,
           compact: bool = False, align_right: tuple[int, ...] = ()) -> Table:
    """Rows of text (user text is marked up here); first row is the header, repeated on new pages.
    `width`: the table's total width (a list is summed); columns are sized from their content."""
    head, cell = (styles["tinyhead"], styles["tiny"]) if compact else (styles["head"], styles["cell"])
    total = sum(width) if isinstance(width, list) else width
    widths = fit_widths(rows, total, compact)
    data = [[Paragraph(markup(c), head) for c in rows[0]]]
    right = {j: ParagraphStyle(f"r{j}", parent=cell, alignment=TA_RIGHT) for j in align_right}
    data += [[c if not isinstance(c, str | int | float) else Paragraph(markup(clip(c)), right.get(j, cell))
              for j, c in enumerate(r)] for r in rows[1:]]
    t = (LongTable if long else Table)(data, colWidths=widths, repeatRows=1)
    cmds = [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#3b3b3b")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    if zebra:
        cmds += [("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f4f4f4")])]
    t.setStyle(TableStyle(cmds))
    return t


def clip(value: object, limit: int = CELL_MAX) -> str:
    """Text for a table cell: at most `limit` characters, an ellipsis when shortened."""
    s = str(value)
    return s if len(s) <= limit else s[: limit - 1] + "…"


RATING_CELL_W = 56.0  # "critical" (7.5 pt) in a coloured box with its own and the outer cell padding


def _rating_cell(rating: str, styles: dict) -> Table:
    fill = RATING_FILL.get(rating, "#ffffff")
    p = Paragraph(f'<font color="{"black" if fill in DARK_TEXT else "white"}">{markup(rating)}</font>', styles["cell"])
    t = Table([[p]])
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(fill)),
                           ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                           ("TOPPADDING", (0, 0), (-1, -1), 1)]))
    return t


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
            fill = RATING_FILL[by_cell[(lik, imp)]["rating"]]  # rated by the engine with the config's bounds
            x, y = left + (imp - 1) * cell, bottom + (lik - 1) * cell
            d.add(Rect(x, y, cell, cell, fillColor=colors.HexColor(fill), strokeColor=colors.white, strokeWidth=1.5))
            n = by_cell[(lik, imp)]["count"]
            if n:
                d.add(String(x + cell / 2, y + cell / 2 - 4, str(n), fontName=f.bold, fontSize=11, textAnchor="middle",
                             fillColor=colors.black if fill in DARK_TEXT else colors.white))
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
    for rating, fill in RATING_FILL.items():  # the rating each colour stands for
        d.add(Rect(x, 1.4 * mm, 3 * mm, 3 * mm, fillColor=colors.HexColor(fill), strokeColor=None))
        d.add(String(x + 4 * mm, 2 * mm, rating, fontName=f.body, fontSize=7))
        x += 4 * mm + stringWidth(rating, f.body, 7) + 3 * mm
    return d


def _fit_text(text: str, font: str, size: float, room: float) -> str:
    """`text` shortened with an ellipsis so it fits `room` points (chart labels never run into bars)."""
    if stringWidth(text, font, size) <= room:
        return text
    while text and stringWidth(text + "…", font, size) > room:
        text = text[:-1]
    return text + "…"


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
        d.add(String(x0, d.height - 10, _fit_text(f"{human('axis', axis)}: HHI {c['hhi']:,.0f} ({c['band']})", f.bold, 8,
                                                  col_w - 4), fontName=f.bold, fontSize=8))
        shares = sorted(c["shares"].items(), key=lambda kv: -kv[1])
        label_w, bar_w = col_w * 0.42, col_w * 0.42
        for j, (key, share) in enumerate(shares):
            y = d.height - top_pad - j * (bar_h + 3)
            d.add(String(x0, y + 1, _fit_text(human(axis, key, labels), f.body, 7, label_w - 3), fontName=f.body,
                         fontSize=7))
            d.add(Rect(x0 + label_w, y, bar_w * share / 100, bar_h, fillColor=colors.HexColor(BAND_FILL[c["band"]]),
                       strokeColor=None))
            d.add(String(x0 + label_w + bar_w * share / 100 + 2, y + 1, f"{share:.0f}%", fontName=f.body, fontSize=7))
    return d


RATING_ORDER = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def _who(d: dict, limit: int = 60) -> str:
    return clip(d["name"] or d["deployment_id"], limit)


def decisions(rep: dict, n: int = 3) -> list[dict]:
    """The decisions asked of the committee: the n most valuable exits (a switch to another channel,
    model or vendor that lowers the expected loss), best per deployment, by net annual value."""
    best = []
    for d in rep["deployments"]:
        opts = [f for f in d.get("fallbacks", []) if f["feasible"] and f.get("kind") in SWITCH_KINDS
                and f["expected_loss_reduction_usd"] > 0]
        if opts:
            top = max(opts, key=lambda f: f["net_annual_value_usd"])
            best.append(top | {"deployment": _who(d), "deployment_id": d["deployment_id"]})
    return sorted(best, key=lambda f: -f["net_annual_value_usd"])[:n]


def probability_changes(rep: dict) -> list[dict]:
    """Outcomes whose probability in this assessment differs from the library default."""
    return [o for o in rep["scenario_library"]["outcomes"]
            if o.get("default_probability") is not None and abs(o["probability"] - o["default_probability"]) > 1e-9]


def probability_banner(rep: dict) -> str:
    changed = probability_changes(rep)
    if not changed:
        return ""
    shown = "; ".join(f"{o['label']} {o['default_probability']:.0%} → {o['probability']:.0%}" for o in changed[:4])
    more = f" and {len(changed) - 4} more" if len(changed) > 4 else ""
    return (f"Scenario probabilities differ from the library defaults for {len(changed)} outcome(s): {shown}{more}. "
            "Figures in this report use the edited values.")


def score_rating_note(rep: dict) -> str:
    """Why a lower score can carry a higher rating, with a real pair from this report when there is one."""
    deps = sorted(rep["deployments"], key=lambda d: -d["score"])
    ranks = [RATING_ORDER[d["rating"]] for d in deps]
    below = [-1] * len(deps)  # best rating among the deployments scored lower than position k
    for k in range(len(deps) - 2, -1, -1):
        below[k] = max(below[k + 1], ranks[k + 1])
    pair = None
    for k, hi in enumerate(deps):  # the highest-scoring deployment out-rated by a lower score
        if below[k] > ranks[k]:
            lo = next((d for d, r in zip(deps[k + 1:], ranks[k + 1:], strict=True)
                       if r > ranks[k] and d["score"] < hi["score"]), None)
            if lo is not None:
                pair = (lo, hi)
                break
    text = ("Score and rating measure different things: the score (0–100) is the expected exposure summed over all "
            "outcomes; the rating comes from the likelihood × impact cell of the matrix (L×I ≥ 20 critical, ≥ 10 high, "
            "≥ 5 medium).")
    if pair:
        lo, hi = pair
        text += (f" So {lo['deployment_id']} scores {lo['score']:.1f} and is {lo['rating']} (L{lo['likelihood']} × "
                 f"I{lo['impact']}) while {hi['deployment_id']} scores {hi['score']:.1f} and is {hi['rating']} "
                 f"(L{hi['likelihood']} × I{hi['impact']}).")
    return text


def _changes_text(comparison: dict | None) -> str:
    if not comparison:
        return ("No earlier saved assessment to compare with (the comparison uses the last approved assessment, else "
                "the most recent saved one whose figures differ).")
    d = comparison
    pf = d["portfolio"]
    ups = sum(RATING_ORDER[c["rating_after"]] > RATING_ORDER[c["rating_before"]] for c in d["changed"])
    downs = sum(RATING_ORDER[c["rating_after"]] < RATING_ORDER[c["rating_before"]] for c in d["changed"])
    return (f"Since {d['from']['label']} ({d['from']['created_at'][:10]}): expected annual loss "
            f"{_usd(pf['expected_annual_loss_usd']['before'])} → {_usd(pf['expected_annual_loss_usd']['after'])} "
            f"({_signed_usd(pf['expected_annual_loss_usd']['delta'])}); VaR 95 {_usd(pf['var95_usd']['before'])} → "
            f"{_usd(pf['var95_usd']['after'])}. Deployments added {len(d['added'])}, removed {len(d['removed'])}; "
            f"ratings up {ups}, down {downs}; answers changed {len(d['answer_changes'])}; scenario probabilities "
            f"changed {len(d['scenario_changes'])}.")


def _signed_usd(x: float) -> str:
    """A change in money with its sign ("$0" when it rounds to nothing)."""
    return "$0" if round(x) == 0 else f"{'+' if x > 0 else '−'}${abs(x):,.0f}"


def _exec_page(rep: dict, comparison: dict | None, styles: dict, width: float) -> list:
    """One page a board member reads in two minutes."""
    deps = rep["deployments"]
    sim, conc = rep["simulation"], rep["concentration"]
    labels = report_labels(rep)
    spend = sum(d["annual_spend_usd"] for d in deps)
    hc = sum(d["rating"] in ("high", "critical") for d in deps)
    crit = sum(d["rating"] == "critical" for d in deps)
    ch = conc.get("channel", {}).get("spend")
    out = [Paragraph("Executive summary", styles["h1"])]
    banner = probability_banner(rep)
    if banner:
        out.append(_banner(banner, styles, width))
    kpis = [("Deployments assessed", f"{len(deps):,}"), ("Annual AI spend", _usd(spend)),
            ("High or critical", f"{hc:,} ({crit:,} critical)"),
            ("Expected annual loss", _usd(sim["expected_annual_loss_usd"])),
            ("VaR 95 (1 year in 20)", _usd(sim["var95_usd"])),
            ("Largest channel share", f"{human('channel', ch['top'], labels)} {ch['top_share']:.0f}%" if ch else "—")]
    cells = [[Paragraph(f'<font size="7" color="#555555">{markup(k)}</font><br/><b>{markup(v)}</b>', styles["body"])
              for k, v in kpis[r * 3:(r + 1) * 3]] for r in range(2)]
    t = Table(cells, colWidths=[width / 3] * 3)
    t.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
                           ("INNERGRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
                           ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f7f7f7"))]))
    out += [t, Spacer(1, 3 * mm)]
    top = sorted(deps, key=lambda d: -d["score"])[:3]
    side = [Paragraph("<b>Risk matrix</b>: deployments per likelihood × impact cell; the colour is the cell's "
                      "rating (see the legend).", styles["small"]),
            Paragraph(markup(score_rating_note(rep)), styles["small"])]
    if top:
        side.append(Paragraph("<b>Most exposed</b>: " + "; ".join(
            markup(f"{_who(d, 50)} ({human('channel', d['channel'], labels)}, score {d['score']:.0f}, {d['rating']})")
            for d in top) + ".", styles["small"]))
    side.append(Paragraph(markup("Concentration (HHI of spend): " + "; ".join(
        f"{human('axis', axis).lower()} {c['spend']['hhi']:,.0f} ({c['spend']['band']})" for axis, c in conc.items())
        + "."), styles["small"]))
    m = Table([[heatmap_drawing(rep["heatmap"]["cells"], size=58 * mm), side]], colWidths=[width * .5, width * .5])
    m.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    out += [m, Paragraph("Decisions asked of the committee", styles["h2"])]
    dec = decisions(rep)
    if dec:
        rows = [["#", "Decision", "One-off cost", "Run cost / yr", "Loss avoided / yr", "Net value / yr",
                 "Effort (person-weeks)"]]
        rows += [[str(k), f"Approve {f['label']} for {f['deployment']}", _usd(f["one_off_cost_usd"]),
                  _signed_usd(f["run_cost_delta_usd"]), _usd(f["expected_loss_reduction_usd"]),
                  _signed_usd(f["net_annual_value_usd"]), f"{f['effort_weeks'][0]:g}–{f['effort_weeks'][1]:g}"]
                 for k, f in enumerate(dec, start=1)]
        out.append(_table(rows, width, styles, align_right=(2, 3, 4, 5)))
        if any(f["net_annual_value_usd"] <= 0 for f in dec):
            out.append(Paragraph("A negative net value means the exit costs more than the loss it avoids: keep it "
                                 "ready, contract and process levers come first.", styles["small"]))
    else:
        out.append(Paragraph("No exit lowers the expected loss of any deployment: no decision is needed.",
                             styles["body"]))
    out += [Paragraph("Changes since the last approved or different assessment", styles["h2"]),
            Paragraph(markup(_changes_text(comparison)), styles["body"])]
    return out


def _banner(text: str, styles: dict, width: float) -> Table:
    t = Table([[Paragraph(markup(text), styles["small"])]], colWidths=[width])
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fff4e5")),
                           ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#e69500"))]))
    return t


def _recommended(d: dict) -> str:
    """The recommended exit target (another channel, model or vendor), with what it would leave."""
    f = next((f for f in d.get("fallbacks", []) if f["option_id"] == d.get("recommended_exit")), None)
    if not f:
        return "no feasible exit yet"
    note = "; costs more than it saves" if f["costs_more_than_it_saves"] else ""
    return f"{f['label']} (score → {f['residual_score']:.0f}, loss → {_usd(f['residual_expected_loss_usd'])}{note})"


def _loss_text(d: dict) -> str:
    parts = d.get("expected_loss_breakdown_usd") or {}
    shown = "; ".join(f"{COMPONENT_LABELS.get(k, k)} {_usd(v)}" for k, v in
                      sorted(parts.items(), key=lambda kv: -kv[1]) if v >= 0.5)
    return f"{_usd(d['expected_loss_usd'])}: {shown}" if shown else _usd(d["expected_loss_usd"])


def _drivers_text(d: dict, n: int = 3) -> str:
    outs = [x for x in d["drivers"] if x["kind"] == "outcome" and x["value"] > 0][:n]
    return "; ".join(f"{x['label']} +{x['value']:.1f}" for x in outs)


def _section_high(rep: dict, styles: dict, width: float) -> list:
    labels = report_labels(rep)
    hc = sorted((d for d in rep["deployments"] if d["rating"] in ("high", "critical")), key=lambda d: -d["score"])
    out = [Paragraph("High and critical deployments", styles["h1"])]
    if not hc:
        return out + [Paragraph("None.", styles["body"])]
    out.append(Paragraph(markup(score_rating_note(rep)), styles["small"]))
    rows = [["Deployment", "Channel / model", "Score", "L×I", "Rating", "Top drivers (score points)",
             "Expected annual loss by component", "Recommended exit"]]
    rows += [[f"{d['deployment_id']} — {d['name']}", f"{human('channel', d['channel'], labels)} / {d['model']}",
              f"{d['score']:.1f}", f"{d['likelihood']}×{d['impact']}", _rating_cell(d["rating"], styles),
              _drivers_text(d), _loss_text(d), _recommended(d)] for d in hc]
    return out + [_table(rows, width, styles, long=True, compact=True)]


def _references(rep: dict) -> tuple[dict[tuple, int], list[dict]]:
    """Every source once, numbered in order of first use."""
    index: dict[tuple, int] = {}
    refs: list[dict] = []
    for o in rep["scenario_library"]["outcomes"]:
        for src in o["sources"]:
            key = (src.get("title"), src.get("url"), str(src.get("date")))
            if key not in index:
                index[key] = len(refs) + 1
                refs.append(src)
    return index, refs


def _section_scenarios(rep: dict, styles: dict, width: float) -> list:
    lib = rep["scenario_library"]
    index, refs = _references(rep)
    rows = [["Event / outcome", "P used", "Default", "Confidence", "Sources"]]
    seen: set[str] = set()
    for o in lib["outcomes"]:
        first = o["event"] not in seen
        seen.add(o["event"])
        nums = [index[(s.get("title"), s.get("url"), str(s.get("date")))] for s in o["sources"]]
        src = " ".join(f"[{n}]" for n in nums) if first else "as above"
        rows.append([f"{o['event_label']}: {o['label']}" if first else f"… {o['label']}", f"{o['probability']:.0%}",
                     f"{o['default_probability']:.0%}", o["confidence"], src])
    out = [Paragraph("Scenario assumptions", styles["h1"]),
           Paragraph(f"Scenario library as of {lib['as_of']}, horizon {lib['horizon_months']} months. Probabilities are "
                     "analyst estimates; 'P used' is what this assessment used. Numbers in brackets refer to the "
                     "references below.", styles["body"]), Spacer(1, 4)]
    banner = probability_banner(rep)
    if banner:
        out += [_banner(banner, styles, width), Spacer(1, 4)]
    out.append(_table(rows, width, styles, long=True))
    if refs:
        out.append(Paragraph("References", styles["h2"]))
        out += [Paragraph(f"[{n}] " + markup(f"{r.get('title', '')} ({r.get('date', '')}). ") +
                          f'<font size="6.5">{markup(r.get("url", ""))}</font>', styles["small"])
                for n, r in enumerate(refs, start=1)]
    return out


def _section_exit_plans(rep: dict, styles: dict) -> list:
    crit = [d for d in rep["deployments"] if d["rating"] == "critical" and "exit_plan" in d]
    out = [Paragraph("Exit-plan summaries (critical deployments)", styles["h1"])]
    if not crit:
        return out + [Paragraph("No critical deployment.", styles["body"])]
    for d in sorted(crit, key=lambda d: -d["score"]):
        p = d["exit_plan"]
        tgt = p["target_option"]
        body = [Paragraph(f"<b>{markup(clip(d['deployment_id']))} — {markup(clip(d['name']))}</b> · owner {markup(p['owner'])} · "
                          f"score {d['score']:.1f}", styles["body"]),
                Paragraph("Triggers: " + markup("; ".join(f"{t['label']} (P {t['probability']:.0%})"
                                                           for t in p["trigger_events"][:3])), styles["small"]),
                Paragraph("Target: " + (markup(f"{tgt['label']}, {tgt['effort_weeks'][0]:g}–{tgt['effort_weeks'][1]:g} "
                                               f"person-weeks, residual score {tgt['residual_score']:.1f}") if tgt
                                        else "no feasible target yet"), styles["small"]),
                Paragraph(markup(f"RTO {p['rto_hours']:g} h{' (assumed)' if p['rto_assumed'] else ''}; last tested "
                                 f"{p['test_plan']['last_tested'] or 'never'}; {len(p['steps'])} steps: move data and "
                                 "prompts → " + "".join(f"replace {human('feature', f)} → "
                                                         for f in p["current"]["proprietary_features"])
                                 + "stand up target → parallel run → cut-over → rollback window → contract notice"),
                          styles["small"]), Spacer(1, 5)]
        out.append(KeepTogether(body))
    return out


def _section_appendix(rep: dict, styles: dict, width: float) -> list:
    labels = report_labels(rep)
    rows = [["ID", "Name", "Business unit", "Channel", "Model", "Spend", "Score", "Inh.", "L×I", "Rating",
             "Exp. loss"]]
    for d in sorted(rep["deployments"], key=lambda d: -d["score"]):
        rows.append([d["deployment_id"], d["name"], d["business_unit"], human("channel", d["channel"], labels), d["model"],
                     _usd(d["annual_spend_usd"]), f"{d['score']:.1f}", f"{d['inherent_score']:.1f}",
                     f"{d['likelihood']}×{d['impact']}", d["rating"], _usd(d["expected_loss_usd"])])
    w = width
    out = [Paragraph("Appendix A — all deployments", styles["h1"]),
           _table(rows, w, styles, long=True, compact=True, align_right=(5, 6, 7, 10)),
           Paragraph("Inh. = inherent score (no controls); L×I = likelihood × impact; Exp. loss = expected annual "
                     "loss.", styles["small"])]
    rej = rep["inventory"]["rejected"]
    out += [Paragraph("Appendix B — rejected rows (not assessed)", styles["h1"])]
    if rej:
        rrows = [["Line", "Deployment", "Column", "Value", "Problem"]]
        rrows += [[str(e["line"] or ""), e["deployment_id"] or "", e["column"] or "", e["value"] or "", e["message"]]
                  for e in rej]
        out.append(_table(rrows, w, styles, long=True))
    else:
        out.append(Paragraph("None: every row of the inventory was valid.", styles["body"]))
    return out + _section_long_values(rep, styles)


def _section_long_values(rep: dict, styles: dict) -> list:
    """Appendix C: values shortened in the tables, in full (paragraphs may break across pages)."""
    items = [(d["deployment_id"], f, d[f]) for d in rep["deployments"] for f in LONG_FIELDS
             if len(str(d.get(f) or "")) > CELL_MAX]
    items += [(e["deployment_id"] or f"line {e['line']}", f"rejected {k}", e[k]) for e in rep["inventory"]["rejected"]
              for k in ("value", "message") if len(str(e.get(k) or "")) > CELL_MAX]
    if not items:
        return []
    out = [Paragraph("Appendix C — values shortened in the tables above, in full", styles["h1"])]
    for who, field, value in items:
        out.append(Paragraph(f"<b>{markup(clip(who, 60))}</b> · {markup(field.replace('_', ' '))}: {markup(value)}",
                             styles["small"]))
    return out


def _methodology(rep: dict, styles: dict, width: float) -> list:
    out = [Paragraph("Methodology", styles["h1"])]
    out += [Paragraph(markup(p), styles["body"]) for p in method_paragraphs(rep)]
    rows = assumption_rows(rep)
    if len(rows) > 1:
        out += [Paragraph("Loss parameters", styles["h2"]),
                _table(rows, width, styles, compact=True)]
    example = worked_example(rep)
    if example:
        out.append(KeepTogether([Paragraph("Worked example", styles["h2"])]
                                + [Paragraph(markup(p), styles["body"]) for p in example]))
    note = fonts().note
    if note:
        out.append(Paragraph(markup("Font note: " + note + "."), styles["body"]))
    return out


def _section_comparison(d: dict, styles: dict, width: float) -> list:
    """Changes since a saved assessment (risk_models.storage.repository.diff)."""
    out = [Paragraph(markup(f"Changes since {d['from']['label']} ({d['from']['created_at'][:10]})"), styles["h2"])]
    pf = d["portfolio"]
    out.append(Paragraph(markup(
        f"Expected annual loss {_usd(pf['expected_annual_loss_usd']['before'])} → "
        f"{_usd(pf['expected_annual_loss_usd']['after'])} ({pf['expected_annual_loss_usd']['delta']:+,.0f}); VaR 95 "
        f"{_usd(pf['var95_usd']['before'])} → {_usd(pf['var95_usd']['after'])}. Deployments added: "
        f"{len(d['added'])}, removed: {len(d['removed'])}, changed score or cell: {len(d['changed'])}; "
        f"answers changed: {len(d['answer_changes'])}; scenario probabilities changed: {len(d['scenario_changes'])}."),
        styles["body"]))
    if d["changed"]:
        rows = [["Deployment", "Score before → after", "Rating before → after", "Cell (L×I)"]]
        rows += [[f"{c['deployment_id']} — {c['name']}", f"{c['score_before']:.1f} → {c['score_after']:.1f}",
                  f"{c['rating_before']} → {c['rating_after']}",
                  f"{c['cell_before'][0]}×{c['cell_before'][1]} → {c['cell_after'][0]}×{c['cell_after'][1]}"]
                 for c in d["changed"][:25]]
        out.append(_table(rows, width, styles))
    return out


def _section_plan(plan: dict, rep: dict, styles: dict, width: float) -> list:
    """The applied what-if plan: before/after matrix, loss, VaR, concentration, and the actions."""
    b, f = plan["before"], plan["after"]
    acts = plan["actions"]
    labels = report_labels(rep)
    out = [Paragraph("Plan", styles["h1"]),
           Paragraph(markup(f"{len(acts)} action(s) on {len(plan['applied'])} deployment(s), each deployment assessed "
                            "as it would be after the action by the same engine, same simulated years."),
                     styles["body"])]
    rows = [["Figure", "Before", "After", "Change"]]
    for label, key in (("Expected annual loss", "expected_annual_loss_usd"), ("VaR 95", "var95_usd"),
                       ("VaR 99", "var99_usd")):
        rows.append([label, _usd(b[key]), _usd(f[key]), _signed_usd(f[key] - b[key])])
    for r in ("critical", "high", "medium", "low"):
        rows.append([f"{r.capitalize()} deployments", str(b["ratings"][r]), str(f["ratings"][r]),
                     f"{f['ratings'][r] - b['ratings'][r]:+d}"])
    for axis in b["concentration"]:
        hb, ha = b["concentration"][axis]["spend"], f["concentration"][axis]["spend"]
        rows.append([f"HHI by {human('axis', axis).lower()} (spend)", f"{hb['hhi']:,.0f} ({hb['band']})",
                     f"{ha['hhi']:,.0f} ({ha['band']})", f"{ha['hhi'] - hb['hhi']:+,.0f}"])
    out += [_table(rows, width * .7, styles, align_right=(1, 2, 3)), Spacer(1, 3 * mm),
            Table([[heatmap_drawing(b["heatmap"], size=50 * mm, title="Before the plan"),
                    heatmap_drawing(f["heatmap"], size=50 * mm, title="After the plan")]],
                  colWidths=[width * .5, width * .5])]
    ch = f["concentration"].get("channel", {}).get("spend")
    if ch:
        out.append(Paragraph(markup(f"After the plan the largest channel is {human('channel', ch['top'], labels)} "
                                    f"with {ch['top_share']:.0f}% of spend."), styles["small"]))
    arows = [["Deployment", "Action", "Effort (person-weeks)", "One-off cost", "Run cost / yr", "Loss avoided / yr",
              "Net value / yr"]]
    arows += [[f"{x['deployment_id']} — {x['name']}", x["option"], f"{x['effort_weeks'][0]:g}–{x['effort_weeks'][1]:g}",
               _usd(x["one_off_cost_usd"]), _signed_usd(x["run_cost_delta_usd"]), _usd(x["expected_loss_reduction_usd"]),
               _signed_usd(x["net_annual_value_usd"])] for x in acts]
    if acts:
        arows.append(["Total", "", f"{sum(x['effort_weeks'][0] for x in acts):g}–"
                      f"{sum(x['effort_weeks'][1] for x in acts):g}", _usd(sum(x["one_off_cost_usd"] for x in acts)),
                      _signed_usd(sum(x["run_cost_delta_usd"] for x in acts)),
                      _usd(sum(x["expected_loss_reduction_usd"] for x in acts)),
                      _signed_usd(sum(x["net_annual_value_usd"] for x in acts))])
    out += [Paragraph("Actions", styles["h2"]), _table(arows, width, styles, long=True, compact=True,
                                                       align_right=(3, 4, 5, 6))]
    return out


def _logo(data: bytes, max_w: float, max_h: float) -> Image | None:
    try:
        iw, ih = ImageReader(io.BytesIO(data)).getSize()
    except Exception:  # a damaged image must not cost the user the report
        return None
    scale = min(max_w / iw, max_h / ih)
    return Image(io.BytesIO(data), width=iw * scale, height=ih * scale)


def render_pdf(rep: dict, paper: str = "a4", comparison: dict | None = None) -> bytes:
    """The executive summary of a JSON report as PDF bytes; `comparison` = a storage diff to include
    (see risk_models.report.changes for which saved assessment); `rep["plan"]` = a plan_record."""
    rep = with_option_details(rep)
    styles = _styles()
    pagesize = PAPER[paper]
    buf = io.BytesIO()
    generated = rep.get("generated_at") or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    profile = rep.get("organisation_profile") or {}
    org = rep.get("organisation") or profile.get("name") or "Organisation"
    doc = SimpleDocTemplate(buf, pagesize=pagesize, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"AI vendor-risk assessment — {org}",
                            author=profile.get("prepared_by") or "ai-vendor-risk",
                            subject="AI vendor-risk executive summary")
    width = pagesize[0] - 30 * mm
    f = fonts()
    footer_org = _fit_text(org, f.body, 7, width * 0.4)

    def footer(canvas, d) -> None:
        canvas.saveState()
        canvas.setFont(f.body, 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(15 * mm, 9 * mm, f"AI vendor-risk assessment · generated {generated}")
        canvas.drawRightString(pagesize[0] - 15 * mm, 9 * mm, f"{footer_org} · Page {d.page}")
        canvas.restoreState()

    deps = rep["deployments"]
    sim = rep["simulation"]
    story: list = [Spacer(1, 25 * mm)]
    logo = _logo(base64.b64decode(profile["logo"]), 60 * mm, 25 * mm) if profile.get("logo") else None
    story += [logo, Spacer(1, 8 * mm)] if logo else [Spacer(1, 20 * mm)]
    story += [Paragraph("AI vendor-risk assessment", styles["title"]), Spacer(1, 6 * mm),
              Paragraph(markup(org), styles["subtitle"]), Spacer(1, 14 * mm)]
    pack_name, age = report_pack_age(rep)
    reporting = profile.get("reporting_date") or generated[:10]
    facts = [["Reporting date", str(reporting)]]
    if profile.get("prepared_by"):
        facts.append(["Prepared by", profile["prepared_by"]])
    if rep.get("review"):
        facts.append(["Review status", review_text(rep["review"])])
    facts += [["Scenario library", f"{pack_name}, as of {rep['scenario_library']['as_of']} ({age.text()})"],
              ["Horizon", f"{rep['scenario_library']['horizon_months']} months"],
              ["Deployments assessed", f"{len(deps):,} (rejected rows: {len(rep['inventory']['rejected']):,})"],
              ["Expected annual loss / VaR 95", f"{_usd(sim['expected_annual_loss_usd'])} / {_usd(sim['var95_usd'])}"],
              ["Inputs hash (SHA-256)", rep.get("inputs_hash", "")[:32] + "…"], ["Generated", generated]]
    if rep.get("plan"):
        facts.append(["What-if plan", f"applied ({len(rep['plan']['actions'])} action(s)): see the Plan section"])
    t = Table([[Paragraph(markup(k), styles["body"]), Paragraph(markup(v), styles["body"])] for k, v in facts],
              colWidths=[width * .4, width * .5])
    t.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [t] + ([Spacer(1, 4 * mm), Paragraph(markup("Warning: " + age.warning()), styles["body"])]
                    if age.warning() else [])
    story += [PageBreak()] + _exec_page(rep, comparison, styles, width)
    story += [PageBreak(), Paragraph("Concentration", styles["h1"]),
              Paragraph("Share of annual spend per channel, cloud provider and model vendor; the bar colour is the "
                        "Herfindahl–Hirschman band (2023 US Merger Guidelines: > 1,800 highly concentrated, "
                        "1,000–1,800 moderately, < 1,000 unconcentrated).", styles["small"]),
              concentration_drawing(rep["concentration"], width, report_labels(rep))]
    if comparison:
        story += _section_comparison(comparison, styles, width)
    story += _section_high(rep, styles, width)
    if rep.get("plan"):
        story += [PageBreak()] + _section_plan(rep["plan"], rep, styles, width)
    story += _section_scenarios(rep, styles, width)
    story += _section_exit_plans(rep, styles)
    story += section_reviews(rep, styles, width)  # empty unless the caller attached reviews
    story += [PageBreak()] + _section_appendix(rep, styles, width)
    story += _methodology(rep, styles, width)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
