"""The methodology of a report, in plain words, from the report itself: the probability method, the
scoring and rating rules, the loss model with every loss parameter and its basis, the fallback
method — and a worked example of one deployment taken from the real numbers of the report. The
PDF and the Markdown summary print it; docs/method.md says the same."""

from __future__ import annotations

from risk_models.config.assumptions import PARAMETER_LABELS
from risk_models.config.palette import usd
from risk_models.config.profile import DEFAULT_IMPACT_USD

COMPONENT_LABELS = {"price": "price / cost", "stranded_commitment": "stranded commitment", "switching": "switching",
                    "downtime": "downtime", "compliance": "compliance"}


def parameter_value(row: dict) -> str:
    v = row["value"]
    if isinstance(v, dict):
        return ", ".join(f"{k} {usd(x)}" for k, x in v.items())
    return usd(v) if row["parameter"].endswith("_usd") else f"{v:g}"


def assumption_rows(rep: dict) -> list[list[str]]:
    """Header + one row per loss parameter: what, value, basis (with the source where there is one)."""
    rows = [["Loss parameter", "Value", "Basis"]]
    for r in rep.get("assumptions", []):
        basis = "organisation assumption" if r["basis"] == "assumption" else "sourced"
        if r.get("source"):
            basis += f"; context: {r['source']['title']} ({r['source']['date']})"
        rows.append([PARAMETER_LABELS.get(r["parameter"], r["parameter"]), parameter_value(r),
                     f"{basis}. {r['note']}".strip()])
    return rows


def method_paragraphs(rep: dict) -> list[str]:
    sim = rep["simulation"]
    lib = rep["scenario_library"]
    profile = rep.get("organisation_profile") or {}
    from risk_models.config.labels import human, report_labels
    labels = report_labels(rep)
    regimes = ", ".join(human("regime", r, labels) for r in profile.get("regimes") or []) or "none"
    bands = (profile.get("risk_appetite") or {}).get("impact_usd") or DEFAULT_IMPACT_USD  # older reports: defaults
    appetite = [f"${v:,.0f}" for v in bands]
    return [
        "Events. The scenario pack (litigation, contracts, regulation; as of "
        f"{lib['as_of']}, {lib['horizon_months']}-month horizon) plus baseline events every provider is exposed to "
        "whatever the litigation: outages, price/quota changes, model retirements, change of control or "
        "insolvency (per channel and per model vendor, independent of each other); cross-border data-transfer "
        "disruption is the pack's EU–US Data Privacy Framework event. Every outcome has a probability, a source "
        "list and a confidence.",
        "Probabilities. " + lib.get("probability_method", ""),
        "Scores. Exposure of a deployment to an outcome = annual probability × severity (the largest impact rule "
        "that matches its channel, model vendor, proprietary features, data region, or — for legal and regulatory "
        f"outcomes — the organisation's regimes (here: {regimes}) and where it is established, wherever its data sits) × vulnerability × weight (criticality; data sensitivity for "
        "compliance), over continuity, cost, contract, capability and compliance. Vulnerability = 1 − exp(−0.35 × "
        "product of named factors: fallback status, abstraction layer, proprietary features, the years a "
        "commitment still binds, out-of-contract terms, questionnaire answers with conservative defaults where unanswered): "
        "every control lowers it. Favourable outcomes of other events (exit paths opening up) relieve what remains. "
        "The 0–100 score saturates the weighted sum; the outcome drivers add up to it.",
        "Rating. Likelihood (1–5) bands the annual chance that anything material reaches the deployment (an "
        f"outcome that could cost it at least {appetite[0]} before its controls); impact (1–5) is the loss when "
        "something does — the expected annual loss divided by the chance that anything reaches it — banded by the "
        f"organisation's risk appetite: minor from {appetite[0]}, moderate from {appetite[1]}, major from "
        f"{appetite[2]}, severe from {appetite[3]}. Controls never change the likelihood (a tested fallback does not "
        "stop an outage) and lower the impact as much as they lower the loss. The rating is the cell of the 5×5 "
        "matrix (likelihood × impact ≥ 20 critical, ≥ 12 high, ≥ 5 medium), so for equal likelihood the rating "
        "follows the expected loss.",
        f"Losses. Expected annual loss per deployment is computed in closed form and broken down into price, "
        f"stranded commitment (committed spend still under contract), switching, downtime (only outcomes that can "
        f"cause an outage, for their outage hours) and compliance. The portfolio distribution (VaR, loss "
        f"exceedance) comes from a Monte Carlo of {sim['trials']:,} simulated years (seed {sim['seed']}): each year "
        "draws at most one outcome per event, so deployments sharing an event are hit together, and their loss "
        "magnitudes share a common factor; favourable outcomes shrink the losses of the years they happen in.",
        "Fallbacks. Each option is scored as the deployment would be after it (target channel, model, region and "
        "controls, or the factors a contract or process lever changes) by the same engine, so residual scores, the "
        "what-if plan, exit plans and concentration agree. Options rank by net annual value (loss avoided − run-cost "
        "change − one-off cost over the payback period, one-off including feature rebuilds and stranded commitments) "
        "per person-week; an option that costs more than it saves is never the top recommendation. Concentration: "
        "Herfindahl–Hirschman index of spend shares (2023 US Merger Guidelines bands).",
    ]


def worked_example(rep: dict) -> list[str]:
    """The worst deployment of the report, decomposed: outcomes, factors, cell, loss components."""
    deps = rep.get("deployments") or []
    if not deps:
        return []
    d = max(deps, key=lambda x: (x["score"], x["deployment_id"]))
    outcomes = [x for x in d["drivers"] if x["kind"] == "outcome"]
    factors = [x for x in d["drivers"] if x["kind"] == "factor"]
    top = "; ".join(f"{x['label']} {x['value']:+.1f}" for x in outcomes[:4])
    rest = sum(x["value"] for x in outcomes[4:])
    fac = "; ".join(f"{x['label']} ×{x['value']:.2f}" for x in factors[:5])
    parts = d.get("expected_loss_breakdown_usd") or {}
    loss = " + ".join(f"{COMPONENT_LABELS.get(k, k)} {usd(v)}" for k, v in parts.items() if v >= 0.5)
    return [
        f"Worked example: {d['deployment_id']} ({d['name'] or 'unnamed'}) scores {d['score']:.1f}. Outcome points: "
        f"{top}" + (f"; the other outcomes {rest:+.1f}" if outcomes[4:] else "") + f" — together {d['score']:.1f}.",
        f"Its effective factors: {fac or 'none'}. Likelihood {d['likelihood']} × impact {d['impact']} = "
        f"{d['likelihood'] * d['impact']} → {d['rating']}.",
        f"Expected annual loss {usd(d['expected_loss_usd'])} = {loss or '0'}.",
    ]
