"""Exit plans per deployment with the content DORA Art. 28(8) and EBA outsourcing guidelines
section 15 ask for: triggers, target, ordered steps, RTO, test plan, owner, dependencies."""

from __future__ import annotations

import datetime as dt

from risk_models.config.labels import human
from risk_models.config.palette import signed_usd
from risk_models.engine.assessment import Assessment, DriverContext, driver_context
from risk_models.fallbacks.recommend import Recommendations
from risk_models.io.escape import md_escape

REGULATORY_BASIS = ["EU DORA (Regulation 2022/2554) Art. 28(8)", "EBA Guidelines on outsourcing (EBA/GL/2019/02) §15",
                    "NIST AI RMF GOVERN 6"]


def _answer(a: Assessment, dep: str, qid: str) -> tuple[object, bool]:
    given = a.answers_in_effect.get(dep, {})
    return (given[qid], False) if qid in given else (a.lib.questions[qid].default, True)


def exit_plan(a: Assessment, rec: Recommendations, i: int) -> dict:
    """Exit plan of deployment i, whole: what `plan_facts` holds with its options and outcomes spelt out."""
    ctx = driver_context(a, [i])
    row = ctx.rows[0]
    o = a.residual.outcomes
    outcomes = {oid: {"label": o.labels[k], "event_label": o.event_labels[k],
                      "probability": round(float(o.probability[k]), 4)} for k, oid in enumerate(o.ids)}
    deployment = {"deployment_id": str(row["deployment_id"]), "name": row["name"],
                  "business_unit": row["business_unit"], "owner": row["owner"], "rating": ctx.ratings[0],
                  "score": round(ctx.scores[0], 2), "channel": row["channel"], "model": row["model"],
                  "region": row["region"],
                  "proprietary_features": row["proprietary_features"].split(";") if row["proprietary_features"] else [],
                  "committed_spend_usd": row["committed_spend_usd"],
                  "contract_end": row["contract_end"].isoformat() if row["contract_end"] else None}
    options = {r["option_id"]: r for r in rec.records(i)}
    return whole_plan(plan_facts(a, rec, i, ctx, 0), deployment, outcomes, options,
                      a.lib.channel_label(row["channel"]))


def plan_facts(a: Assessment, rec: Recommendations, i: int, ctx: DriverContext, j: int) -> dict:
    """What deployment i's exit plan adds to its report record (the JSON report's `exit_plan`): triggers by
    outcome id, target and supporting options by id, the steps and dependencies of its set-up, notice,
    RTO, cut-over. `ctx` holds deployment i at position j (a report of 20,000 deployments builds one
    context for all of them)."""
    row = ctx.rows[j]
    dep = str(row["deployment_id"])
    k_target, k_support, k_least = rec.exit_target(i), rec.supporting(i), rec.least_bad_switch(i)
    # where no switch lowers the expected loss the plan keeps the documented way back, which is the
    # least-bad switch (named apart, never as the target)
    k_back = k_target if k_target is not None else k_least
    target_label = rec.options[k_target].label if k_target is not None else None
    if k_target is not None and rec.target_model[k_target, i]:  # the model of the deployment's task kind
        target_label = f"{target_label}: {rec.target_model[k_target, i]}"
    back_label = rec.options[k_least].label if k_target is None and k_least is not None else None
    if back_label is not None and rec.target_model[k_least, i]:
        back_label = f"{back_label}: {rec.target_model[k_least, i]}"
    target_weeks = round(float(rec.effort[k_back, i, 0]), 1) if k_back is not None else None
    rto, rto_assumed = _answer(a, dep, "rto_hours")
    notice, notice_assumed = _answer(a, dep, "notice_period_days")
    tested, _ = _answer(a, dep, "exit_last_tested")
    cutover = cutover_hours(str(row["fallback_status"]), target_weeks)
    standby = cutover is not None and cutover > float(rto)
    # what depends only on the set-up and the target is worded once per distinct set-up (a report
    # of 20,000 deployments has a few hundred)
    key = (row["channel"], row["model"], row["region"], row["jurisdiction"], row["data_sensitivity"],
           row["proprietary_features"], target_label, back_label, rto, cutover)
    if key not in ctx.plan_parts:
        ctx.plan_parts[key] = _setup_parts(a, row, a.lib.channel_label(row["channel"]), target_label, rto, cutover,
                                           standby, back_label)
    _, steps, dependencies = ctx.plan_parts[key]
    return {
        "trigger_events": [{"outcome_id": a.residual.outcomes.ids[k], "score_points": round(p, 2)}
                           for k, p in ctx.triggers[j]],
        "target_option": rec.options[k_target].id if k_target is not None else None,
        "least_bad_option": rec.options[k_least].id if k_least is not None else None,
        "supporting_actions": [rec.options[k].id for k in k_support],
        "steps": steps, "notice_days": notice, "notice_assumed": notice_assumed,
        "rto_hours": rto, "rto_assumed": rto_assumed, "cutover_hours": cutover, "warm_standby_needed": standby,
        "dates_to_act_on": act_on_dates(row["contract_end"], float(notice), ctx.reference_date,
                                        a.lib.scenarios.horizon_months),
        "last_tested": tested.isoformat() if tested else None, "dependencies": dependencies,
    }


def whole_plan(facts: dict, deployment: dict, outcomes: dict[str, dict], options: dict[str, dict],
               channel_label: str) -> dict:
    """The exit plan as people read it (app, PDF, Markdown): `facts` (plan_facts) with the deployment's
    fields, each trigger's outcome (`outcomes`: id -> label, event_label, probability), the target and
    supporting options as records (`options`: id -> record) and the contract step spelt out."""
    d, target = deployment, facts["target_option"]
    committed, end = d["committed_spend_usd"], d["contract_end"]
    feats = [f for f in d["proprietary_features"] if f]
    steps = [*facts["steps"], f"Contract: give notice ({facts['notice_days']:g} days"
             f"{', assumed' if facts['notice_assumed'] else ''}); remaining committed spend ${committed:,.0f}"
             + (f"; contract ends {end}" if end else "; no contract end date")]
    dependencies = [*facts["dependencies"], *([f"Committed spend ${committed:,.0f}"] if committed else [])]
    return {
        "deployment_id": d["deployment_id"], "name": d["name"], "business_unit": d["business_unit"],
        "owner": d["owner"] or "unassigned", "rating": d["rating"], "score": d["score"],
        "current": {"channel": d["channel"], "channel_label": channel_label, "model": d["model"],
                    "region": d["region"], "proprietary_features": feats},
        "trigger_events": [{"outcome_id": t["outcome_id"], "label": outcomes[t["outcome_id"]]["label"],
                            "event": outcomes[t["outcome_id"]]["event_label"],
                            "probability": outcomes[t["outcome_id"]]["probability"], "score_points": t["score_points"]}
                           for t in facts["trigger_events"]],
        "target_option": options[target] if target is not None else None,
        "least_bad_option": options[facts["least_bad_option"]] if facts.get("least_bad_option") else None,
        "supporting_actions": [options[s] for s in facts["supporting_actions"]], "steps": steps,
        "rto_hours": facts["rto_hours"], "rto_assumed": facts["rto_assumed"], "cutover_hours": facts["cutover_hours"],
        "warm_standby_needed": facts["warm_standby_needed"], "dates_to_act_on": facts["dates_to_act_on"],
        "test_plan": {"plan": TEST_PLAN, "last_tested": facts["last_tested"]},
        "dependencies": dependencies, "regulatory_basis": REGULATORY_BASIS,
    }


TEST_PLAN = ("Tabletop walk-through of this plan each quarter; a live failover of a traffic share to the target "
             "at least once a year and after every material change.")


def _setup_parts(a: Assessment, row: dict, channel_label: str, target_label: str | None, rto: float,
                 cutover: float | None, standby: bool, back_label: str | None = None
                 ) -> tuple[list[str], list[str], list[str]]:
    """(features, steps but the contract one, dependencies but committed spend) of a set-up and target."""
    feats = [f for f in str(row["proprietary_features"]).split(";") if f]
    names = [human("feature", f) for f in feats]
    migration = a.lib.fallbacks.feature_migration
    here = f"{channel_label} ({row['model']}, {row['region'] or 'no region'})"
    there = target_label or (f"the least-bad switch, {back_label} — {NO_EXIT_LOWERS}" if back_label else
                             "no feasible target yet — see reasons in the fallback list")
    steps = [f"Inventory what must move from {here}: prompts, system messages, tool definitions, evaluation sets, "
             f"conversation state and logs; confirm {row['data_sensitivity']} data may be processed on the target."]
    steps += [f"Replace {name}: {migration[f]}" for f, name in zip(feats, names, strict=True) if f in migration]
    steps += [
        f"Stand up the target ({there}); rerun the evaluation suite and compare quality, latency and cost.",
        "Parallel run: route a small share of traffic to the target through the abstraction layer or gateway "
        "for at least two weeks; track errors, cost and user feedback.",
        (f"Cut-over: the RTO of {rto:g} hours is shorter than the time to stand up the target "
         f"(about {_duration(cutover)}): keep a warm standby on the target, tested, so routing can "
         "switch within the RTO; announce to users and support teams." if standby else
         f"Cut-over: switch routing within the RTO of {rto:g} hours; announce to users and support teams."),
        f"Rollback: keep {here} able to take traffic until the target has run clean for one billing cycle; "
        "revert routing if error rates or quality breach agreed thresholds.",
    ]
    dependencies = [f"{channel_label} in {row['region'] or 'an unspecified region'} "
                    f"({JURISDICTION_LABELS.get(row['jurisdiction'], row['jurisdiction'])})",
                    f"{str(row['data_sensitivity']).capitalize()} data"]
    dependencies += [f"Proprietary feature: {name}" for name in names]
    return feats, steps, dependencies


NO_EXIT_LOWERS = "no exit reduces the loss; keep the documented way back"
HOURS_PER_WEEK = 168
JURISDICTION_LABELS = {"eu": "EU", "us": "US", "uk": "UK", "apac": "Asia-Pacific", "other": "other jurisdiction",
                       "on_prem": "on-premises"}


def cutover_hours(fallback_status: str, target_weeks: float | None) -> float | None:
    """How long moving traffic to the target takes: minutes with an active second channel, a day
    with a tested failover, otherwise the build-out of the target (its low effort in weeks)."""
    if fallback_status == "active":
        return 1.0
    if fallback_status == "tested":
        return 24.0
    return float(target_weeks) * HOURS_PER_WEEK if target_weeks is not None else None


def act_on_dates(contract_end: dt.date | None, notice_days: float, ref: dt.date, horizon_months: int) -> list[dict]:
    """A contract end inside the horizon is a date to act on: give notice in time, or renew on
    better terms (commitment caps, termination for convenience)."""
    if not contract_end or contract_end < ref or (contract_end - ref).days > horizon_months * 30.4375:
        return []
    notice_by = contract_end - dt.timedelta(days=int(notice_days))
    notice = ("last day to give notice or renegotiate before renewal" if notice_by >= ref else
              "the notice date has passed: the contract may renew on its terms; negotiate the renewal or an "
              "exit with the provider now")
    return [{"date": notice_by.isoformat(), "action": notice},
            {"date": contract_end.isoformat(), "action": "contract ends: renew on exit-friendly terms or exit"}]


def _duration(hours: float) -> str:
    """'6 weeks' from 1,008 hours; hours below a week stay hours."""
    if hours >= HOURS_PER_WEEK:
        weeks = round(hours / HOURS_PER_WEEK, 1)
        return f"{weeks:g} weeks" if weeks != 1 else "1 week"
    return f"{hours:g} hours"


def run_cost_text(r: dict) -> str:
    """The run-cost change of an option record as people read it ('unknown' without a listed price)."""
    v = r["run_cost_delta_usd"]
    return "run cost change unknown (no listed price)" if v is None else f"run cost {signed_usd(v)} a year"


def option_figures(r: dict) -> str:
    """Risk and cost of an option, side by side and never summed."""
    loss = r["expected_loss_reduction_usd"]
    risk = (f"expected loss avoided ${loss:,.0f} a year" if loss >= 0 else
            f"raises the expected loss by ${-loss:,.0f} a year")
    return (f"{risk}; residual score {r['residual_score']:.1f}; effort {r['effort_weeks'][0]:g}–"
            f"{r['effort_weeks'][1]:g} person-weeks; one-off ${r['one_off_cost_usd']:,.0f}; {run_cost_text(r)}")


def exit_plan_markdown(plan: dict, escape=md_escape) -> str:
    e = escape  # md_file_escape for downloaded files (no backslashes before $ and _ in words)
    lines = [f"# Exit plan — {e(plan['deployment_id'])}: {e(plan['name'])}", "",
             f"*Business unit:* {e(plan['business_unit'])} · *Owner:* {e(plan['owner'])} · "
             f"*Rating:* {plan['rating']} (score {plan['score']:.1f})", "",
             f"*Current set-up:* {e(plan['current'].get('channel_label', plan['current']['channel']))}, {e(plan['current']['model'])}, "
             f"{e(plan['current']['region'] or 'no region')}", "", "## Trigger events"]
    lines += [f"- {e(t['label'])} ({'' if t['label'].startswith(t['event']) else e(t['event']) + '; '}"
              f"P = {t['probability']:.0%}, +{t['score_points']:.1f} points)"
              for t in plan["trigger_events"]] or ["- none above 0.05 points"]
    tgt, back = plan["target_option"], plan.get("least_bad_option")
    lines += ["", "## Target"]
    if tgt:
        lines += [f"**{e(tgt['label'])}** — {option_figures(tgt)}"]
    elif back:
        lines += [f"No exit reduces the loss; keep the documented way back. Least-bad switch: **{e(back['label'])}** "
                  f"— {option_figures(back)}"]
    else:
        lines += ["No feasible target yet."]
    if plan["supporting_actions"]:
        lines += ["", "Supporting actions:"] + [f"- {e(s['label'])} (−{s['risk_reduction']:.1f} points)"
                                                 for s in plan["supporting_actions"]]
    lines += ["", "## Steps"] + [f"{n}. {e(s)}" for n, s in enumerate(plan["steps"], start=1)]
    lines += ["", "## Recovery and testing",
              f"- RTO: {plan['rto_hours']:g} hours{' (assumed default)' if plan['rto_assumed'] else ''}",
              *([f"- Warm standby needed: cut-over to the target takes about {_duration(plan['cutover_hours'])}, "
                 "longer than the RTO"] if plan.get("warm_standby_needed") else []),
              *[f"- {d['date']}: {e(d['action'])}" for d in plan.get("dates_to_act_on", [])],
              f"- Test plan: {e(plan['test_plan']['plan'])}",
              f"- Last tested: {plan['test_plan']['last_tested'] or 'never'}", "", "## Dependencies"]
    lines += [f"- {e(d)}" for d in plan["dependencies"]]
    lines += ["", "## Regulatory basis"] + [f"- {e(r)}" for r in plan["regulatory_basis"]]
    return "\n".join(lines) + "\n"
