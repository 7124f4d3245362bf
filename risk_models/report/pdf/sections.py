"""PDF sections: executive summary, high/critical deployments, plan, scenarios with references, exit plans,
reviews due, appendix and methodology. Every piece of user text goes through `fonts.markup`. (Over 500
lines: one short function per section, in the order the committee pack prints them.)"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from risk_models.config.labels import human, report_labels
from risk_models.config.palette import interval_text, run_cost_usd, signed_usd, usd
from risk_models.config.schema import SWITCH_KINDS
from risk_models.fallbacks.exit_plan import option_figures
from risk_models.report.fonts import fonts, markup
from risk_models.report.methodology import COMPONENT_LABELS, assumption_rows, method_paragraphs, worked_example
from risk_models.report.pdf.drawings import heatmap_drawing
from risk_models.report.pdf.layout import CELL_MAX, LONG_FIELDS, clip, rating_cell, table

RATING_ORDER = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def _who(d: dict, limit: int = 60) -> str:
    return clip(d["name"] or d["deployment_id"], limit)


def decisions(rep: dict, n: int = 3) -> list[dict]:
    """The decisions asked of the committee: the n exits (a switch to another channel, model or vendor
    that lowers the expected loss) that avoid the most expected loss per dollar spent once (one-off cost
    and effort), best per deployment. The run-cost change is shown beside them, never added in."""
    best = []
    for d in rep["deployments"]:
        opts = [f for f in d.get("fallbacks", []) if f["feasible"] and f.get("kind") in SWITCH_KINDS
                and f["expected_loss_reduction_usd"] > 0]
        if opts:
            top = max(opts, key=lambda f: f["loss_avoided_per_usd"])
            best.append(top | {"deployment": _who(d), "deployment_id": d["deployment_id"]})
    return sorted(best, key=lambda f: -f["loss_avoided_per_usd"])[:n]


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
            "outcomes; the rating comes from the likelihood × impact cell of the matrix (L×I ≥ 20 critical, ≥ 12 high, "
            "≥ 5 medium), where impact is the loss in money when something reaches the deployment, so the rating "
            "follows the expected loss.")
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
            f"{usd(pf['expected_annual_loss_usd']['before'])} → {usd(pf['expected_annual_loss_usd']['after'])} "
            f"({signed_usd(pf['expected_annual_loss_usd']['delta'])}); VaR 95 {usd(pf['var95_usd']['before'])} → "
            f"{usd(pf['var95_usd']['after'])}. Deployments added {len(d['added'])}, removed {len(d['removed'])}; "
            f"ratings up {ups}, down {downs}; answers changed {len(d['answer_changes'])}; scenario probabilities "
            f"changed {len(d['scenario_changes'])}.")


def exec_page(rep: dict, comparison: dict | None, styles: dict, width: float) -> list:
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
        out.append(banner_box(banner, styles, width))
    kpis = [("Deployments assessed", f"{len(deps):,}"), ("Annual AI spend", usd(spend)),
            ("High or critical", f"{hc:,} ({crit:,} critical)"),
            ("Expected annual loss", usd(sim["expected_annual_loss_usd"])),
            ("VaR 95 (1 year in 20)", usd(sim["var95_usd"])),
            ("Largest channel share", f"{human('channel', ch['top'], labels)} {ch['top_share']:.0f}%" if ch else "—")]
    # the uncertainty of the probabilities and severities behind the two loss figures
    iv = sim.get("intervals") or {}
    notes = {"Expected annual loss": interval_text(iv.get("expected_annual_loss_usd"), money=usd, between=" to "),
             "VaR 95 (1 year in 20)": interval_text(iv.get("var95_usd"), money=usd, between=" to ")}
    cells = [[Paragraph(f'<font size="7" color="#555555">{markup(k)}</font><br/><b>{markup(v)}</b>'
                        + (f'<br/><font size="7" color="#555555">{markup(notes[k])}</font>' if notes.get(k) else ""),
                        styles["body"])
              for k, v in kpis[r * 3:(r + 1) * 3]] for r in range(2)]
    t = Table(cells, colWidths=[width / 3] * 3)
    t.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
                           ("INNERGRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
                           ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f7f7f7"))]))
    out += [t, Spacer(1, 2 * mm)]
    lenses = rep.get("lenses")
    if lenses:
        lit, ops = lenses["litigation_regulatory"], lenses["operational"]
        out.append(Paragraph(markup(
            f"Of the expected annual loss, {usd(lit['expected_annual_loss_usd'])} comes from litigation and regulation "
            f"in the supply chain (the cases of the scenario pack: see “Cases and dates to watch”) and "
            f"{usd(ops['expected_annual_loss_usd'])} from the operational baseline (outages, price and quota "
            "changes, model retirements, vendor failure)."), styles["small"]))
    out.append(Spacer(1, 2 * mm))
    top = sorted(deps, key=lambda d: -d["score"])[:3]
    side = [Paragraph("<b>Risk matrix</b>: deployments per likelihood × impact cell; the colour is the cell's "
                      "rating (see the legend). Likelihood: the annual chance that anything material reaches the "
                      "deployment; impact: the loss when it does, banded by the organisation's risk appetite.",
                      styles["small"]),
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
        rows = [["#", "Decision", "Loss avoided / yr", "One-off cost", "Effort (person-weeks)",
                 "Loss avoided per $1 spent once", "Run cost change / yr"]]
        rows += [[str(k), f"Approve {f['label']} for {f['deployment']}", usd(f["expected_loss_reduction_usd"]),
                  usd(f["one_off_cost_usd"]), f"{f['effort_weeks'][0]:g}–{f['effort_weeks'][1]:g}",
                  f"${f['loss_avoided_per_usd']:,.2f}", run_cost_usd(f["run_cost_delta_usd"])]
                 for k, f in enumerate(dec, start=1)]
        out.append(table(rows, width, styles, align_right=(2, 3, 5, 6)))
        notes = ["Ranked by the expected loss avoided a year per dollar spent once (one-off cost and the effort "
                 "at the person-week cost); the run-cost change is shown beside it and never added in."]
        if any(f["costs_more_than_it_saves"] for f in dec):
            notes.append("An exit whose loss avoided over the payback period does not repay what it costs once: keep "
                         "it ready, contract and process levers come first.")
        if any(f["run_cost_delta_usd"] is None for f in dec):
            notes.append("Run cost “unknown”: no list price for the model on that channel in the price table; the "
                         "exit is ranked on risk alone.")
        out.append(Paragraph(" ".join(notes), styles["small"]))
    else:
        out.append(Paragraph("No exit lowers the expected loss of any deployment: no decision is needed.",
                             styles["body"]))
    out += [Paragraph("Changes since the last approved or different assessment", styles["h2"]),
            Paragraph(markup(_changes_text(comparison)), styles["body"])]
    return out


def banner_box(text: str, styles: dict, width: float) -> Table:
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
    return (f"{f['label']} (score → {f['residual_score']:.0f}, loss → {usd(f['residual_expected_loss_usd'])}, "
            f"run cost {run_cost_usd(f['run_cost_delta_usd'])} a year{note})")


def _loss_text(d: dict) -> str:
    parts = d.get("expected_loss_breakdown_usd") or {}
    shown = "; ".join(f"{COMPONENT_LABELS.get(k, k)} {usd(v)}" for k, v in
                      sorted(parts.items(), key=lambda kv: -kv[1]) if v >= 0.5)
    return f"{usd(d['expected_loss_usd'])}: {shown}" if shown else usd(d["expected_loss_usd"])


def _drivers_text(d: dict, n: int = 3) -> str:
    outs = [x for x in d["drivers"] if x["kind"] == "outcome" and x["value"] > 0][:n]
    return "; ".join(f"{x['label']} +{x['value']:.1f}" for x in outs)


def section_high(rep: dict, styles: dict, width: float) -> list:
    labels = report_labels(rep)
    hc = sorted((d for d in rep["deployments"] if d["rating"] in ("high", "critical")), key=lambda d: -d["score"])
    out = [Paragraph("High and critical deployments", styles["h1"])]
    if not hc:
        return out + [Paragraph("None.", styles["body"])]
    out.append(Paragraph(markup(score_rating_note(rep)), styles["small"]))
    rows = [["Deployment", "Channel / model", "Score", "L×I", "Rating", "Top drivers (score points)",
             "Expected annual loss by component", "Recommended exit"]]
    rows += [[f"{d['deployment_id']} — {d['name']}", f"{human('channel', d['channel'], labels)} / {d['model']}",
              f"{d['score']:.1f}", f"{d['likelihood']}×{d['impact']}", rating_cell(d["rating"], styles),
              _drivers_text(d), _loss_text(d), _recommended(d)] for d in hc]
    return out + [table(rows, width, styles, long=True, compact=True)]


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


def section_scenarios(rep: dict, styles: dict, width: float) -> list:
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
        out += [banner_box(banner, styles, width), Spacer(1, 4)]
    out.append(table(rows, width, styles, long=True))
    if refs:
        out += references(rep, index, styles)
    return out


SHORT_TITLE = 90  # characters of a source's title in the PDF; the XLSX and JSON give titles and URLs whole


def short_title(title: str, limit: int = SHORT_TITLE) -> str:
    """The title cut at a word boundary (the full title is in the XLSX workbook and the JSON report)."""
    if len(title) <= limit:
        return title
    cut = title[:limit].rsplit(" ", 1)[0].rstrip(" ,;:—-(")
    return cut + " …"


def references(rep: dict, index: dict[tuple, int], styles: dict) -> list:
    """The sources grouped per event, each as its short title, the site and the date (not four pages of URLs)."""
    out = [Paragraph("References", styles["h2"]),
           Paragraph("Per event; titles shortened to their first words — the XLSX workbook (Scenarios sheet) and the "
                     "JSON report give every title and URL whole.", styles["small"])]
    seen: set[str] = set()
    for o in rep["scenario_library"]["outcomes"]:
        if o["event"] in seen or not o["sources"]:
            continue
        seen.add(o["event"])
        items = []
        for src in o["sources"]:
            n = index[(src.get("title"), src.get("url"), str(src.get("date")))]
            site = urlparse(src.get("url", "")).netloc.removeprefix("www.")
            items.append(f"[{n}] {short_title(src.get('title', ''))} ({site}, {src.get('date', '')})")
        out.append(Paragraph(f"<b>{markup(o['event_label'])}</b>: " + markup("; ".join(items)), styles["small"]))
    return out


def _target_text(tgt: dict | None, back: dict | None) -> str:
    """An exit plan's target with its risk and run cost side by side; where no switch lowers the expected
    loss, that said and the least-bad switch named apart."""
    if tgt:
        return f"{tgt['label']}, {option_figures(tgt)}"
    if back:
        return f"no exit reduces the loss; keep the documented way back. Least-bad switch: {back['label']}, " \
               f"{option_figures(back)}"
    return "no feasible target yet"


def section_exit_plans(rep: dict, styles: dict) -> list:
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
                Paragraph("Target: " + markup(_target_text(tgt, p.get("least_bad_option"))), styles["small"]),
                Paragraph(markup(f"RTO {p['rto_hours']:g} h{' (assumed)' if p['rto_assumed'] else ''}; last tested "
                                 f"{p['test_plan']['last_tested'] or 'never'}; {len(p['steps'])} steps: move data and "
                                 "prompts → " + "".join(f"replace {human('feature', f)} → "
                                                         for f in p["current"]["proprietary_features"])
                                 + "stand up target → parallel run → cut-over → rollback window → contract notice"),
                          styles["small"]), Spacer(1, 5)]
        out.append(KeepTogether(body))
    return out


def section_appendix(rep: dict, styles: dict, width: float) -> list:
    labels = report_labels(rep)
    rows = [["ID", "Name", "Business unit", "Channel", "Model", "Spend", "Score", "Inh.", "L×I", "Rating",
             "Exp. loss"]]
    for d in sorted(rep["deployments"], key=lambda d: -d["score"]):
        rows.append([d["deployment_id"], d["name"], d["business_unit"], human("channel", d["channel"], labels), d["model"],
                     usd(d["annual_spend_usd"]), f"{d['score']:.1f}", f"{d['inherent_score']:.1f}",
                     f"{d['likelihood']}×{d['impact']}", d["rating"], usd(d["expected_loss_usd"])])
    w = width
    out = [Paragraph("Appendix A — all deployments", styles["h1"]),
           table(rows, w, styles, long=True, compact=True, align_right=(5, 6, 7, 10)),
           Paragraph("Inh. = inherent score (no controls); L×I = likelihood × impact; Exp. loss = expected annual "
                     "loss.", styles["small"])]
    rej = rep["inventory"]["rejected"]
    out += [Paragraph("Appendix B — rejected rows (not assessed)", styles["h1"])]
    if rej:
        rrows = [["Line", "Deployment", "Column", "Value", "Problem"]]
        rrows += [[str(e["line"] or ""), e["deployment_id"] or "", e["column"] or "", e["value"] or "", e["message"]]
                  for e in rej]
        out.append(table(rrows, w, styles, long=True))
    else:
        out.append(Paragraph("None: every row of the inventory was valid.", styles["body"]))
    return out + section_long_values(rep, styles)


def section_long_values(rep: dict, styles: dict) -> list:
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


def section_methodology(rep: dict, styles: dict, width: float) -> list:
    out = [Paragraph("Methodology", styles["h1"])]
    out += [Paragraph(markup(p), styles["body"]) for p in method_paragraphs(rep)]
    rows = assumption_rows(rep)
    if len(rows) > 1:
        out += [Paragraph("Loss parameters", styles["h2"]),
                table(rows, width, styles, compact=True, limit=None)]
    example = worked_example(rep)
    if example:
        out.append(KeepTogether([Paragraph("Worked example", styles["h2"])]
                                + [Paragraph(markup(p), styles["body"]) for p in example]))
    note = fonts().note
    if note:
        out.append(Paragraph(markup("Font note: " + note + "."), styles["body"]))
    return out


def section_comparison(d: dict, styles: dict, width: float) -> list:
    """Changes since a saved assessment (risk_models.storage.repository.diff)."""
    out = [Paragraph(markup(f"Changes since {d['from']['label']} ({d['from']['created_at'][:10]})"), styles["h2"])]
    pf = d["portfolio"]
    out.append(Paragraph(markup(
        f"Expected annual loss {usd(pf['expected_annual_loss_usd']['before'])} → "
        f"{usd(pf['expected_annual_loss_usd']['after'])} ({pf['expected_annual_loss_usd']['delta']:+,.0f}); VaR 95 "
        f"{usd(pf['var95_usd']['before'])} → {usd(pf['var95_usd']['after'])}. Deployments added: "
        f"{len(d['added'])}, removed: {len(d['removed'])}, changed score or cell: {len(d['changed'])}; "
        f"answers changed: {len(d['answer_changes'])}; scenario probabilities changed: {len(d['scenario_changes'])}."),
        styles["body"]))
    if d["changed"]:
        rows = [["Deployment", "Score before → after", "Rating before → after", "Cell (L×I)"]]
        rows += [[f"{c['deployment_id']} — {c['name']}", f"{c['score_before']:.1f} → {c['score_after']:.1f}",
                  f"{c['rating_before']} → {c['rating_after']}",
                  f"{c['cell_before'][0]}×{c['cell_before'][1]} → {c['cell_after'][0]}×{c['cell_after'][1]}"]
                 for c in d["changed"][:25]]
        out.append(table(rows, width, styles))
    return out


def section_plan(plan: dict, rep: dict, styles: dict, width: float) -> list:
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
        rows.append([label, usd(b[key]), usd(f[key]), signed_usd(f[key] - b[key])])
    for r in ("critical", "high", "medium", "low"):
        rows.append([f"{r.capitalize()} deployments", str(b["ratings"][r]), str(f["ratings"][r]),
                     f"{f['ratings'][r] - b['ratings'][r]:+d}"])
    for axis in b["concentration"]:
        hb, ha = b["concentration"][axis]["spend"], f["concentration"][axis]["spend"]
        rows.append([f"HHI by {human('axis', axis).lower()} (spend)", f"{hb['hhi']:,.0f} ({hb['band']})",
                     f"{ha['hhi']:,.0f} ({ha['band']})", f"{ha['hhi'] - hb['hhi']:+,.0f}"])
    out += [table(rows, width * .7, styles, align_right=(1, 2, 3)), Spacer(1, 3 * mm),
            Table([[heatmap_drawing(b["heatmap"], size=50 * mm, title="Before the plan"),
                    heatmap_drawing(f["heatmap"], size=50 * mm, title="After the plan")]],
                  colWidths=[width * .5, width * .5])]
    ch = f["concentration"].get("channel", {}).get("spend")
    if ch:
        out.append(Paragraph(markup(f"After the plan the largest channel is {human('channel', ch['top'], labels)} "
                                    f"with {ch['top_share']:.0f}% of spend."), styles["small"]))
    arows = [["Deployment", "Action", "Effort (person-weeks)", "One-off cost", "Loss avoided / yr",
              "Run cost change / yr"]]
    arows += [[f"{x['deployment_id']} — {x['name']}", x["option"] + (" (required)" if x.get("required") else ""),
               f"{x['effort_weeks'][0]:g}–{x['effort_weeks'][1]:g}", usd(x["one_off_cost_usd"]),
               usd(x["expected_loss_reduction_usd"]), run_cost_usd(x["run_cost_delta_usd"])] for x in acts]
    if acts:
        known = [x["run_cost_delta_usd"] for x in acts if x["run_cost_delta_usd"] is not None]
        unknown = len(acts) - len(known)
        arows.append(["Total", "", f"{sum(x['effort_weeks'][0] for x in acts):g}–"
                      f"{sum(x['effort_weeks'][1] for x in acts):g}", usd(sum(x["one_off_cost_usd"] for x in acts)),
                      usd(sum(x["expected_loss_reduction_usd"] for x in acts)),
                      signed_usd(sum(known)) + (f" + {unknown} unknown" if unknown else "")])
    out += [Paragraph("Actions", styles["h2"]), table(arows, width, styles, long=True, compact=True,
                                                       align_right=(3, 4, 5))]
    return out



ROW_LIMIT = 25  # the committee needs the worst ones; the app and `due --json` list them all


def section_reviews(rep: dict, styles: dict, width: float) -> list:
    block = rep.get("reviews")
    if not block:
        return []
    c = block["counts"]
    policy = ", ".join(f"{k} every {v} months" for k, v in block["interval_months"].items())
    as_of = dt.date.fromisoformat(block["as_of"])
    out = [Paragraph("Reviews overdue or due soon", styles["h1"]),
           Paragraph(markup(f"As of {as_of:%d %b %Y}: {c['overdue']} overdue, {c['never']} never reviewed, "
                            f"{c['due_soon']} due within {block['due_soon_days']} days, {c['scheduled']} on schedule. "
                            f"Review interval by rating: {policy}. Saving or approving an assessment records a review "
                            "of every deployment in it."), styles["body"]), Spacer(1, 4)]
    rows = [["Deployment", "Rating", "Last reviewed", "Next review", "Status"]]
    for r in block["due"][:ROW_LIMIT]:
        last = dt.date.fromisoformat(r["last_reviewed"]).strftime("%d %b %Y") if r["last_reviewed"] else "never"
        rows.append([f"{clip(r['deployment_id'])} — {clip(r['name'])}", rating_cell(r["rating"], styles), last,
                     f"{dt.date.fromisoformat(r['next_review']):%d %b %Y}", r["status_label"]])
    if len(rows) == 1:
        return out + [Paragraph("None: every review is on schedule.", styles["body"])]
    out.append(table(rows, [width * .44, width * .12, width * .15, width * .15, width * .14], styles, long=True))
    if len(block["due"]) > ROW_LIMIT:
        out.append(Paragraph(f"… and {len(block['due']) - ROW_LIMIT} more (Providers & contracts page, or "
                             "`python -m risk_models due`).", styles["small"]))
    return out


def section_cases(rep: dict, styles: dict, width: float) -> list:
    """Case by case: what each case of the pack carries, what its adverse outcome would add, the way out,
    and the dates to watch; empty when the report has no cases block."""
    block = rep.get("cases")
    if not block:
        return []
    out = [Paragraph("Cases and dates to watch", styles["h1"]),
           Paragraph(markup("Each case or proceeding of the scenario pack: the share of the expected annual loss it "
                            "carries, the change if its most costly outcome happens, its next dated step and the "
                            "option that removes most of its exposure."), styles["small"]), Spacer(1, 3)]
    rows = [["Case", "Court or authority", "Next date", "Reached", "Expected loss / yr", "If adverse / yr",
             "Best way out"]]
    for c in block["cases"]:
        m = c["next_milestone"]
        nxt = f"{dt.date.fromisoformat(m['date']):%d %b %Y}: {m['label']}" if m else "no date announced"
        rows.append([c["label"], c["forum"] + (f" ({c['reference']})" if c["reference"] else ""), nxt,
                     str(len(c["reached"])), usd(c["expected_loss_usd"]), signed_usd(c["loss_if_adverse_usd"]),
                     c["best_option"]["label"] if c["best_option"] else "—"])
    out.append(table(rows, width, styles, long=True, compact=True, align_right=(3, 4, 5), limit=None))
    out.append(Paragraph(f"Dates to watch (next {block['within_days']} days from "
                         f"{dt.date.fromisoformat(block['as_of']):%d %b %Y})", styles["h2"]))
    if block["watch"]:
        rows = [["Date", "What", "Detail", "What to re-assess"]]
        rows += [[f"{dt.date.fromisoformat(w['date']):%d %b %Y}", w["kind"], w["title"], w["reassess"]]
                 for w in block["watch"]]
        out.append(table(rows, width, styles, long=True, compact=True))
    else:
        out.append(Paragraph("Nothing dated in the window.", styles["body"]))
    return out


def section_ctpp(rep: dict, styles: dict, width: float) -> list:
    """The critical ICT third-party providers (ESAs' list): which carry what share of the AI spend and of
    the critical functions; empty when the report has no CTPP block (no providers and contracts loaded)."""
    block = rep.get("ctpp")
    if not block:
        return []
    listed = dt.date.fromisoformat(block["list_date"])
    n_fn, on = len(block["critical_functions"]), len(block["critical_functions_on_ctpp"])
    basis = {"profile": "as the profile's DORA function table classifies them",
             "mixed": "as the profile's DORA function table classifies them; for the business units it does not "
                      "classify, those with a deployment of critical or high criticality",
             "deployment criticality": "the business units with a deployment of critical or high criticality; the "
                                       "profile's DORA function table classifies none"}[block["functions_basis"]]
    out = [Paragraph("Critical ICT third-party providers", styles["h1"]),
           Paragraph(markup(
               f"The providers the European Supervisory Authorities designated critical (list of {listed:%d %b %Y}, "
               f"updated yearly), and the groups they belong to, carry {block['spend_share']:.0%} of the AI spend "
               f"and serve {block['critical']} of the {block['critical_total']} deployments of critical or high "
               f"criticality under a contract directly; {on} of the {n_fn} critical or important functions "
               f"({basis}) rely on at least one of them somewhere in their supply chain (as contracted provider, "
               "channel operator, hosting cloud or model vendor)."), styles["body"]), Spacer(1, 4)]
    if not block["providers"]:
        return out + [Paragraph("No provider of the providers file is a designated CTPP or part of the group of one.",
                                styles["body"])]
    rows = [["Provider", "Status", "Share of AI spend", "Critical or high deployments", "Deployments in its chain",
             "Critical functions supported"]]
    for r in block["providers"]:
        rows.append([clip(r["provider"]), r["status"], f"{r['share_of_ai_spend']:.1%}", str(r["critical_deployments"]),
                     str(r["chain_deployments"]), clip(", ".join(r["critical_functions"]) or "none", 120)])
    out.append(table(rows, width, styles, long=True, compact=True, align_right=(2, 3, 4)))
    return out
