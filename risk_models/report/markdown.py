"""Markdown summary of a JSON report (for wikis and tickets). User text is escaped."""

from __future__ import annotations

from risk_models.markdown_text import md_escape as e
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
    for axis, c in rep["concentration"].items():
        lines.append(f"- Concentration by {axis.replace('_', ' ')} (spend): HHI {c['spend']['hhi']:,.0f} "
                     f"({c['spend']['band']}), largest {e(c['spend']['top'])} {c['spend']['top_share']:.0f}%")
    lines += ["", "## High and critical deployments", "",
              "| deployment | channel | score | rating | top driver | recommended fallback |", "|---|---|---|---|---|---|"]
    for d in hc:
        top = next((x["label"] for x in d["drivers"] if x["kind"] == "outcome"), "")
        fb = next((f["label"] for f in d.get("fallbacks", []) if f["feasible"] and f["risk_reduction"] > 0), "—")
        lines.append(f"| {e(d['deployment_id'])} {e(d['name'])} | {e(d['channel'])} | {d['score']:.1f} | {d['rating']} "
                     f"| {e(top)} | {e(fb)} |")
    if rep["inventory"]["rejected"]:
        lines += ["", "## Rejected rows", "", "| line | deployment | column | value | problem |", "|---|---|---|---|---|"]
        lines += [f"| {r['line'] or ''} | {e(r['deployment_id'] or '')} | {e(r['column'] or '')} | "
                  f"{e(r['value'] or '')} | {e(r['message'])} |" for r in rep["inventory"]["rejected"]]
    return "\n".join(lines) + "\n"
