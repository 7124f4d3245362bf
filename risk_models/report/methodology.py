"""The methodology of a report, in plain words, from the report itself: the probability method, the
scoring and rating rules, the loss model with every loss parameter and its basis, the fallback
method — and a worked example of one deployment taken from the real numbers of the report. The
PDF and the Markdown summary print it; docs/method.md says the same."""

from __future__ import annotations

import math

from risk_models.config.assumptions import PARAMETER_LABELS
from risk_models.config.palette import signed_usd, usd
from risk_models.config.profile import DEFAULT_IMPACT_USD

COMPONENT_LABELS = {"price": "price / cost", "stranded_commitment": "stranded commitment", "switching": "switching",
                    "downtime": "downtime", "compliance": "compliance"}


def parameter_value(row: dict) -> str:
    v = row["value"]
    if row["parameter"].endswith("_spread"):  # a range factor by confidence, not money
        return ", ".join(f"{k} ×{x:g}" for k, x in v.items())
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


def _interval_sentence(sim: dict) -> str:
    """The 90 % intervals of the report, in words (none in a report made without parameter spreads)."""
    iv = sim.get("intervals")
    if not iv:
        return ""

    def between(pair: dict) -> str:
        return f"{usd(pair['low'])} and {usd(pair['high'])}"

    return (f" Uncertainty: each outcome's probability and severity lies in a range set by its confidence (a PERT "
            f"on the log scale whose mean is the stated value). Over {iv['parameter_sets']:,} parameter sets the "
            f"expected annual loss lies between {between(iv['expected_annual_loss_usd'])} and, over "
            f"{iv['var_parameter_sets']:,} of them simulated for {iv['years_per_set']:,} years each, VaR 95 between "
            f"{between(iv['var95_usd'])} ({iv['level']:.0%} intervals): they carry the parameters' uncertainty, "
            "not only sampling noise.").replace("0%", "0 %")


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
        "draws at most one outcome per event (outages and price changes: a Poisson count of occurrences whose mean "
        "is the closed form's annual frequency), so deployments sharing an event are hit together, and their loss "
        "magnitudes share a common factor; favourable outcomes shrink the losses of the years they happen in. Every "
        "draw is keyed by the seed, the event or outcome and the deployment's id, so the order of the inventory's "
        "rows changes no figure. An outage of a cloud's own channel also reaches the channels hosted on that cloud "
        "(the OpenAI API on Microsoft Azure, the Anthropic API on AWS), and concentration counts them under it."
        + _interval_sentence(sim),
        "Fallbacks. Each option is scored as the deployment would be after it (target channel, model, region and "
        "controls, or the factors a contract or process lever changes) by the same engine, so residual scores, the "
        "what-if plan, exit plans and concentration agree. Risk and cost are shown side by side, never summed: "
        "options rank by the expected loss they avoid a year per dollar spent once (one-off cost, including feature "
        "rebuilds and stranded commitments, plus the option's own effort at the person-week cost); the change in "
        "running cost is its own column. A switch's run-cost change prices the deployment's spend, turned into "
        "tokens at its current model's list price (3 input tokens per output token, an assumption), at the target's "
        "list price (config/prices.yaml, each price with its source and date); without a listed price it is "
        "\"unknown\" and the option is ranked on risk alone. A lever's own running cost is an organisation assumption. "
        "The recommended exit and every exit-plan target lower the expected loss; where no switch does, the plan "
        "keeps the documented way back and names the least-bad switch apart. An option that does not repay its "
        "one-off cost within the payback period is never the top recommendation, except one a regulation requires: "
        "documenting and testing the exit of a deployment supporting a critical or important function under DORA "
        "(Art. 28(8)) is shown as a requirement. A switch is "
        "feasible only when it keeps the deployment's task kind (an embedding deployment moves to an embedding "
        "model; the option names its target model per kind) and its target model is offered on the target "
        "channel in the jurisdiction it lands in, per the same availability table the import's plausibility "
        "warnings read; it must also serve the deployment's region and data sensitivity and replace its "
        "proprietary features. A fine-tuned deployment is re-trained on the target (in the effort) and carries a "
        "wider capability gap. Concentration: Herfindahl–Hirschman index of spend shares "
        "(2023 US Merger Guidelines bands).",
        constants_paragraph(rep),
    ]


# The two model constants of config/scoring.yaml the method states (tests/test_sensitivity.py checks
# they match the configuration); the report JSON carries the loss parameters, not the scoring file.
BASE_VULNERABILITY, CALIBRATION = 0.35, 11.0


def constants_paragraph(rep: dict) -> str:
    """The calibration constant and the base vulnerability with their basis, and (when the report has a
    sensitivity appendix) what moving them ±50 % does to this portfolio."""
    neutral = 1 - math.exp(-BASE_VULNERABILITY)
    text = (f"Model constants. Two constants are model assumptions, not sourced figures. The base vulnerability "
            f"{BASE_VULNERABILITY:g} sets how much of an outcome's severity reaches a deployment whose factors are all "
            f"neutral (1 − e^−{BASE_VULNERABILITY:g} ≈ {neutral:.0%}); controls and lock-in move it from there, and "
            f"it saturates towards 100 % instead of being capped. The calibration constant {CALIBRATION:g} sets the "
            "scale of the 0–100 score: chosen so that a critical Azure OpenAI deployment with no fallback, lock-in "
            "features and a commitment scores in the high 70s (the worked example of docs/method.md). The "
            "calibration only stretches the score — likelihood, impact, ratings and expected losses do not use it; "
            "the base vulnerability moves all of them.")
    rows = {r["id"]: r for r in (rep.get("sensitivity") or {}).get("rows", [])}
    if "base_vulnerability" in rows and "calibration" in rows:
        s, bv, cal = rep["sensitivity"], rows["base_vulnerability"], rows["calibration"]
        lo, hi = f"×{s['low_factor']:g}", f"×{s['high_factor']:g}"
        text += (f" In this portfolio the base vulnerability {lo} / {hi} changes the expected annual loss by "
                 f"{signed_usd(bv['expected_loss_low_usd'])} / {signed_usd(bv['expected_loss_high_usd'])} and the "
                 f"number of critical deployments by {bv['critical_low']:+d} / {bv['critical_high']:+d}; the "
                 f"calibration {lo} / {hi} moves the mean score by {cal['mean_score_low']:+.1f} / "
                 f"{cal['mean_score_high']:+.1f} points and nothing else (see the sensitivity appendix).")
    return text


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
        *_exit_example(d),
    ]


def _exit_example(d: dict) -> list[str]:
    """The deployment's recommended exit, risk and cost side by side (or why there is none)."""
    exit_ = next((f for f in d.get("fallbacks", []) if f["option_id"] == d.get("recommended_exit")), None)
    if exit_ is None:
        return ["No switch lowers its expected loss: its exit plan keeps the documented way back."]
    run = exit_["run_cost_delta_usd"]
    return [f"Its recommended exit, {exit_.get('label', 'the best switch')}, avoids {usd(exit_['expected_loss_reduction_usd'])} "
            f"of expected loss a year for a one-off {usd(exit_['one_off_cost_usd'])} and "
            f"{exit_['effort_weeks'][0]:g}–{exit_['effort_weeks'][1]:g} person-weeks "
            f"({usd(exit_['loss_avoided_per_usd'] * 100)} avoided per $100 spent once); separately, its running cost "
            + ("is unknown (no listed price)." if run is None else f"changes by {signed_usd(run)} a year.")]
