"""The PDF executive summary (reportlab, drawn natively: no browser).

Sections: title page, executive summary, 5x5 heatmap, concentration, high/critical deployments,
scenario assumptions, exit-plan summaries for critical deployments, appendix of all deployments
(header repeated on every page) and rejected rows, methodology. Every piece of user text goes
through `fonts.markup` (escaped, shaped), so it can never become markup."""

from __future__ import annotations

import datetime as dt
import io

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from risk_models.library.pack import report_pack_age
from risk_models.report.fonts import fonts, markup
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
                             spaceAfter=8),
        "h2": ParagraphStyle("h2", parent=base, fontName=f.bold, fontSize=12, leading=15, spaceBefore=8,
                             spaceAfter=5),
        "title": ParagraphStyle("title", parent=base, fontName=f.bold, fontSize=24, leading=30,
                                alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=12, leading=16, alignment=TA_CENTER),
    }


def _usd(x: float) -> str:
    return f"${x:,.0f}"


def _table(rows: list[list], widths: list[float], styles: dict, long: bool = False, zebra: bool = True,
           compact: bool = False) -> Table:
    """Rows of text (user text is marked up here); first row is the header, repeated on new pages."""
    head, cell = (styles["tinyhead"], styles["tiny"]) if compact else (styles["head"], styles["cell"])
    data = [[Paragraph(markup(c), head) for c in rows[0]]]
    data += [[c if not isinstance(c, str | int | float) else Paragraph(markup(clip(c)), cell) for c in r]
             for r in rows[1:]]
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


def _rating_cell(rating: str, styles: dict) -> Table:
    fill = RATING_FILL.get(rating, "#ffffff")
    p = Paragraph(f'<font color="{"black" if fill in DARK_TEXT else "white"}">{markup(rating)}</font>', styles["cell"])
    t = Table([[p]])
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(fill)),
                           ("LEFTPADDING", (0, 0), (-1, -1), 2), ("TOPPADDING", (0, 0), (-1, -1), 1)]))
    return t


def heatmap_drawing(cells: list[dict], size: float = 62 * mm) -> Drawing:
    """5x5 likelihood x impact, counts in cells, colours by the cell's rating."""
    f = fonts()
    cell = size / 5
    left, bottom = 14 * mm, 12 * mm
    d = Drawing(left + size + 4 * mm, bottom + size + 4 * mm)
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
    d.add(String(left + size / 2, 1 * mm, "impact →", fontName=f.body, fontSize=8, textAnchor="middle"))
    d.add(String(2 * mm, bottom + size + 1 * mm, "likelihood ↑", fontName=f.body, fontSize=8))
    return d


def concentration_drawing(conc: dict, width: float) -> Drawing:
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
        d.add(String(x0, d.height - 10, f"{axis.replace('_', ' ')}: HHI {c['hhi']:,.0f} ({c['band']})",
                     fontName=f.bold, fontSize=8))
        shares = sorted(c["shares"].items(), key=lambda kv: -kv[1])
        label_w, bar_w = col_w * 0.42, col_w * 0.48
        for j, (key, share) in enumerate(shares):
            y = d.height - top_pad - j * (bar_h + 3)
            d.add(String(x0, y + 1, str(key)[:18], fontName=f.body, fontSize=7))
            d.add(Rect(x0 + label_w, y, bar_w * share / 100, bar_h, fillColor=colors.HexColor(BAND_FILL[c["band"]]),
                       strokeColor=None))
            d.add(String(x0 + label_w + bar_w * share / 100 + 2, y + 1, f"{share:.0f}%", fontName=f.body, fontSize=7))
    return d


def _exec_summary(rep: dict) -> list[str]:
    deps = rep["deployments"]
    sim, conc = rep["simulation"], rep["concentration"]
    spend = sum(d["annual_spend_usd"] for d in deps)
    hc = [d for d in deps if d["rating"] in ("high", "critical")]
    crit = [d for d in deps if d["rating"] == "critical"]
    top = sorted(deps, key=lambda d: -d["score"])[:3]
    lines = [
        f"The organisation runs {len(deps):,} assessed AI deployments with {_usd(spend)} of annual spend. "
        f"{len(hc):,} are rated high or critical ({len(crit):,} critical).",
        "The most exposed are " + "; ".join(
            f"{markup(clip(d['name'] or d['deployment_id'], 80))} ({markup(d['channel'])}, score {d['score']:.0f}, mainly "
            f"{markup(next((x['label'] for x in d['drivers'] if x['kind'] == 'outcome'), 'no outcome'))})"
            for d in top) + "." if top else "No deployment is exposed.",
        f"Simulated over {sim['trials']:,} years, the expected annual loss is {_usd(sim['expected_annual_loss_usd'])}; "
        f"in one year out of twenty it exceeds {_usd(sim['var95_usd'])} (VaR 95), in one out of a hundred "
        f"{_usd(sim['var99_usd'])}.",
        "Concentration (HHI of spend, 2023 US Merger Guidelines bands): " + "; ".join(
            f"{axis.replace('_', ' ')} {c['spend']['hhi']:,.0f} — {c['spend']['band']}, largest "
            f"{markup(c['spend']['top'])} at {c['spend']['top_share']:.0f}%" for axis, c in conc.items()) + ".",
    ]
    actions = _top_actions(rep)
    if actions:
        lines.append("The three most valuable actions (net annual value = loss avoided − run-cost change − one-off "
                     "cost over the payback period): " + "; ".join(
            f"{markup(a['label'])} for {markup(a['deployment'])} (net {_usd(a['net_annual_value_usd'])} a year, "
            f"loss avoided {_usd(a['expected_loss_reduction_usd'])}, one-off {_usd(a['one_off_cost_usd'])}, "
            f"{a['effort_weeks'][0]:g}–{a['effort_weeks'][1]:g} person-weeks)"
            for a in actions) + ".")
    return lines


def _top_actions(rep: dict, n: int = 3) -> list[dict]:
    """The n options with the largest net annual value that also lower the expected loss, at most one
    per deployment."""
    best = []
    for d in rep["deployments"]:
        opts = [f for f in d.get("fallbacks", []) if f["feasible"] and f["net_annual_value_usd"] > 0
                and f["expected_loss_reduction_usd"] > 0]
        if opts:
            top = max(opts, key=lambda f: f["net_annual_value_usd"])
            best.append(top | {"deployment": clip(d["name"] or d["deployment_id"], 80)})
    return sorted(best, key=lambda f: -f["net_annual_value_usd"])[:n]


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
    hc = sorted((d for d in rep["deployments"] if d["rating"] in ("high", "critical")), key=lambda d: -d["score"])
    out = [Paragraph("High and critical deployments", styles["h1"])]
    if not hc:
        return out + [Paragraph("None.", styles["body"])]
    rows = [["Deployment", "Channel / model", "Score", "Rating", "Top drivers (score points)",
             "Expected annual loss by component", "Recommended exit"]]
    rows += [[f"{d['deployment_id']} — {d['name']}", f"{d['channel']} / {d['model']}", f"{d['score']:.1f}",
              _rating_cell(d["rating"], styles), _drivers_text(d), _loss_text(d), _recommended(d)] for d in hc]
    w = width
    return out + [_table(rows, [w * .14, w * .12, w * .07, w * .09, w * .2, w * .2, w * .18], styles, long=True,
                         compact=True)]


def _section_scenarios(rep: dict, styles: dict, width: float) -> list:
    lib = rep["scenario_library"]
    rows = [["Event / outcome", "P used", "Default", "Confidence", "Sources (once per event)"]]
    seen: set[str] = set()
    for o in lib["outcomes"]:
        first = o["event"] not in seen
        seen.add(o["event"])
        src = "; ".join(f"{s['title']} ({s['date']}) {s['url']}" for s in o["sources"]) if first else "as above"
        rows.append([f"{o['event_label']}: {o['label']}" if first else f"… {o['label']}", f"{o['probability']:.0%}",
                     f"{o['default_probability']:.0%}", o["confidence"], src])
    w = width
    return [Paragraph("Scenario assumptions", styles["h1"]),
            Paragraph(f"Scenario library as of {lib['as_of']}, horizon {lib['horizon_months']} months. Probabilities are "
                      "analyst estimates; 'P used' is what this assessment used.", styles["body"]), Spacer(1, 4),
            _table(rows, [w * .34, w * .075, w * .085, w * .11, w * .39], styles, long=True)]


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
                                 "prompts → " + "".join(f"replace {f} → " for f in p["current"]["proprietary_features"])
                                 + "stand up target → parallel run → cut-over → rollback window → contract notice"),
                          styles["small"]), Spacer(1, 5)]
        out.append(KeepTogether(body))
    return out


def _section_appendix(rep: dict, styles: dict, width: float) -> list:
    rows = [["ID", "Name", "Business unit", "Channel", "Model", "Spend", "Score", "Inh.", "L×I", "Rating",
             "Exp. loss"]]
    for d in sorted(rep["deployments"], key=lambda d: -d["score"]):
        rows.append([d["deployment_id"], d["name"], d["business_unit"], d["channel"], d["model"],
                     _usd(d["annual_spend_usd"]), f"{d['score']:.1f}", f"{d['inherent_score']:.1f}",
                     f"{d['likelihood']}×{d['impact']}", d["rating"], _usd(d["expected_loss_usd"])])
    w = width
    out = [Paragraph("Appendix A — all deployments", styles["h1"]),
           _table(rows, [w * x for x in (.08, .145, .095, .12, .11, .085, .065, .055, .055, .08, .09)], styles, long=True,
                  compact=True),
           Paragraph("Inh. = inherent score (no controls); L×I = likelihood × impact; Exp. loss = expected annual "
                     "loss.", styles["small"])]
    rej = rep["inventory"]["rejected"]
    out += [Paragraph("Appendix B — rejected rows (not assessed)", styles["h1"])]
    if rej:
        rrows = [["Line", "Deployment", "Column", "Value", "Problem"]]
        rrows += [[str(e["line"] or ""), e["deployment_id"] or "", e["column"] or "", e["value"] or "", e["message"]]
                  for e in rej]
        out.append(_table(rrows, [w * .06, w * .14, w * .14, w * .2, w * .46], styles, long=True))
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
                _table(rows, [0.28 * width, 0.24 * width, 0.48 * width], styles, compact=True)]
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
        out.append(_table(rows, [width * .4, width * .2, width * .22, width * .18], styles))
    return out


def render_pdf(rep: dict, paper: str = "a4", comparison: dict | None = None) -> bytes:
    """The executive summary of a JSON report as PDF bytes; `comparison` = a storage diff to include."""
    rep = with_option_details(rep)
    styles = _styles()
    pagesize = PAPER[paper]
    buf = io.BytesIO()
    generated = rep.get("generated_at") or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    org = rep.get("organisation") or "Organisation"
    doc = SimpleDocTemplate(buf, pagesize=pagesize, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"AI vendor-risk assessment — {org}",
                            author="ai-vendor-risk", subject="AI vendor-risk executive summary")
    width = pagesize[0] - 30 * mm
    f = fonts()

    def footer(canvas, d) -> None:
        canvas.saveState()
        canvas.setFont(f.body, 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(15 * mm, 9 * mm, f"AI vendor-risk assessment · generated {generated}")
        canvas.drawRightString(pagesize[0] - 15 * mm, 9 * mm, f"Page {d.page}")
        canvas.restoreState()

    deps = rep["deployments"]
    sim = rep["simulation"]
    story: list = [Spacer(1, 45 * mm), Paragraph("AI vendor-risk assessment", styles["title"]), Spacer(1, 6 * mm),
                   Paragraph(markup(org), styles["subtitle"]), Spacer(1, 14 * mm)]
    pack_name, age = report_pack_age(rep)
    facts = [["Date", generated[:10]],
             ["Scenario library", f"{pack_name}, as of {rep['scenario_library']['as_of']} ({age.text()})"],
             ["Horizon", f"{rep['scenario_library']['horizon_months']} months"],
             ["Deployments assessed", f"{len(deps):,} (rejected rows: {len(rep['inventory']['rejected']):,})"],
             ["Expected annual loss / VaR 95", f"{_usd(sim['expected_annual_loss_usd'])} / {_usd(sim['var95_usd'])}"],
             ["Inputs hash (SHA-256)", rep.get("inputs_hash", "")[:32] + "…"], ["Generated", generated]]
    t = Table([[Paragraph(markup(k), styles["body"]), Paragraph(markup(v), styles["body"])] for k, v in facts],
              colWidths=[width * .4, width * .5])
    t.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc"))]))
    story += [t] + ([Spacer(1, 4 * mm), Paragraph(markup("Warning: " + age.warning()), styles["body"])]
                    if age.warning() else [])
    story += [PageBreak(), Paragraph("Executive summary", styles["h1"])]
    story += [Paragraph(line, styles["body"]) for line in _exec_summary(rep)]
    story += [Spacer(1, 4), Table([[heatmap_drawing(rep["heatmap"]["cells"]),
                                    Paragraph("Risk matrix: number of deployments per likelihood × impact cell. Colours "
                                              "follow the rating of the cell (light = low, dark = critical).",
                                              styles["small"])]], colWidths=[width * .55, width * .45]),
              Paragraph("Concentration", styles["h2"]), concentration_drawing(rep["concentration"], width)]
    if comparison:
        story += _section_comparison(comparison, styles, width)
    story += [PageBreak()] + _section_high(rep, styles, width)
    story += _section_scenarios(rep, styles, width)
    story += _section_exit_plans(rep, styles)
    story += section_reviews(rep, styles, width)  # empty unless the caller attached reviews
    story += [PageBreak()] + _section_appendix(rep, styles, width)
    story += _methodology(rep, styles, width)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
