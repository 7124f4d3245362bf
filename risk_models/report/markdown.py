"""Markdown summary of a JSON report (for wikis and tickets). User text is escaped."""

from __future__ import annotations

from risk_models.config.labels import human, report_labels
from risk_models.io.escape import md_escape as e
from risk_models.report.options import with_option_details


def render_markdown(rep: dict) -> str:
    rep = with_option_details(rep)
    deps = rep["deployments"]
    sim = rep["simulation"]
    hc = sorted((d for d in deps if d["rating"] in ("high", "critical")), key=lambda d: -d["score"])
    lines = [f"# AI vendor-risk assessment — {e(rep.get('organisation') or 'organisation')}", "",
             f"Generated {rep['generated_at']} · scenario library as of {rep['scenario_library']['as_of']} · "
             f"inputs hash `{rep.get('inputs_hash', '')[:16]}`", "",
             "## Summary", "",
             f"- Deployments assessed: {len(deps):,} (rejected problems: {len(rep['inventory']['rejected'])})",
             f"- High or critical: {len(hc):,}",
             f"- Expected annual loss: ${sim['expected_annual_loss_usd']:,.0f}; VaR 95 ${sim['var95_usd']:,.0f}; "
             f"VaR 99 ${sim['var99_usd']:,.0f} ({sim['trials']:,} trials)"]
    from risk_models.report.pdf import probability_banner  # one wording for every report
    banner = probability_banner(rep)
    if banner:
        lines[lines.index("## Summary") + 1:lines.index("## Summary") + 1] = ["", f"> **Note:** {e(banner)}"]
    labels = report_labels(rep)
    for axis, c in rep["concentration"].items():
        lines.append(f"- Concentration by {human('axis', axis).lower()} (spend): HHI {c['spend']['hhi']:,.0f} "
                     f"({c['spend']['band']}), largest {e(human(axis, c['spend']['top'], labels))} "
                     f"{c['spend']['top_share']:.0f}%")
    lines += ["", "## High and critical deployments", "",
              "| deployment | channel | score | rating | top driver | recommended fallback |", "|---|---|---|---|---|---|"]
    for d in hc:
        top = next((x["label"] for x in d["drivers"] if x["kind"] == "outcome"), "")
        fb = next((f["label"] for f in d.get("fallbacks", []) if f["feasible"] and f["risk_reduction"] > 0), "—")
        lines.append(f"| {e(d['deployment_id'])} {e(d['name'])} | {e(human('channel', d['channel'], labels))} | {d['score']:.1f} | {d['rating']} "
                     f"| {e(top)} | {e(fb)} |")
    plan = rep.get("plan")
    if plan:
        b, f = plan["before"], plan["after"]
        lines += ["", "## Plan", "", f"{len(plan['actions'])} action(s); expected annual loss "
                  f"${b['expected_annual_loss_usd']:,.0f} → ${f['expected_annual_loss_usd']:,.0f}; VaR 95 "
                  f"${b['var95_usd']:,.0f} → ${f['var95_usd']:,.0f}", "",
                  "| deployment | action | effort (person-weeks) | one-off cost | loss avoided / yr |", "|---|---|---|---|---|"]
        lines += [f"| {e(x['deployment_id'])} {e(x['name'])} | {e(x['option'])} | {x['effort_weeks'][0]:g}–"
                  f"{x['effort_weeks'][1]:g} | ${x['one_off_cost_usd']:,.0f} | ${x['expected_loss_reduction_usd']:,.0f} |"
                  for x in plan["actions"]]
    if rep["inventory"]["rejected"]:
        lines += ["", "## Rejected rows", "", "| line | deployment | column | value | problem |", "|---|---|---|---|---|"]
        lines += [f"| {r['line'] or ''} | {e(r['deployment_id'] or '')} | {e(r['column'] or '')} | "
                  f"{e(r['value'] or '')} | {e(r['message'])} |" for r in rep["inventory"]["rejected"]]
    return "\n".join(lines) + "\n"
