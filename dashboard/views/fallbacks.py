"""Fallbacks & what-if: ranked options per deployment with feasibility reasons; a what-if plan with
before/after heatmap, loss and concentration; the exit plan as Markdown."""

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components import charts
from dashboard.components.columns import money, money_delta, money_table
from dashboard.state.session import WHATIF_PLAN
from risk_models.config.labels import label_maps
from risk_models.config.palette import run_cost_usd
from risk_models.fallbacks.exit_plan import exit_plan, exit_plan_markdown, option_figures
from risk_models.fallbacks.recommend import option_verdict, recommendations_of
from risk_models.fallbacks.whatif import WhatIfError, top_plan
from risk_models.io.escape import md_escape, md_file_escape

st.title("Fallbacks & what-if")
session = state.current_session()
lib = state.library()
a = state.assessment()
rec = recommendations_of(a)
frame, table = a.frame, a.residual.table
if frame.empty:
    st.info("No valid deployments yet: load an inventory first.")
    st.stop()
plan = session.setdefault(WHATIF_PLAN, {})

order = table.sort_values("score", ascending=False, kind="stable").index
text = (frame["deployment_id"] + " — " + frame["name"] + " (" + table["rating"] + ", "
        + table["score"].round(1).astype(str) + ")")
labels = dict(zip(order.tolist(), text[order].tolist(), strict=True))
i = st.selectbox("Deployment (highest exposure first)", list(labels), format_func=labels.get, key="fb_deployment")
dep = str(frame.at[i, "deployment_id"])

loss_parts = state.loss_breakdown(i)
st.plotly_chart(charts.loss_breakdown(loss_parts, f"Expected annual loss of {dep}: ${sum(loss_parts.values()):,.0f}"),
                key=f"fb_loss_{dep}")
target, least_bad = rec.exit_target(i), rec.least_bad_switch(i)
shown = target if target is not None else least_bad
if shown is not None:
    best = next(r for r in rec.records(i, lib) if r["option_id"] == rec.options[shown].id)
    head = ("**Recommended exit:** " if target is not None else
            "**No exit reduces the loss; keep the documented way back.** Least-bad switch: ")
    verdict = ("; the loss it avoids does not repay its one-off cost and effort within the payback period — keep it "
               "ready, contract and process levers come first" if target is not None and best["costs_more_than_it_saves"]
               else "")
    st.markdown(f"{head}{md_escape(best['label'])} — {md_escape(option_figures(best))}{verdict}.")
else:
    st.markdown("**Recommended exit:** none feasible yet — see the reasons below.")

records = pd.DataFrame(rec.records(i, lib))
records["effort (person-weeks)"] = records["effort_weeks"].map(lambda w: f"{w[0]:g}–{w[1]:g}")
records["why not"] = records["reasons"].map("; ".join)
records["run cost"] = records["run_cost_delta_usd"].map(run_cost_usd)
records["target model"] = records["target_model"].fillna("—")
# a fine-tuned deployment is re-trained on a switch's target: the gap says so, with its effort (in the total)
records["capability gap"] = [f"{g} (re-train the fine-tuned model: {w[0]:g}–{w[1]:g} person-weeks)" if w[1] else g
                             for g, w in zip(records["capability_gap"], records["retraining_weeks"], strict=True)]
records["verdict"] = [option_verdict(r) for r in records.to_dict("records")]
money_table(records[["label", "verdict", "expected_loss_reduction_usd", "loss_avoided_per_usd", "residual_score",
                      "effort (person-weeks)", "one_off_cost_usd", "run cost", "target model", "capability gap",
                      "why not"]],
             hide_index=True, width="stretch", key=f"fb_table_{dep}", column_config={
                 "label": st.column_config.TextColumn("Option"),
                 "verdict": st.column_config.TextColumn("Verdict"),
                 "expected_loss_reduction_usd": money("Loss avoided / yr"),
                 "loss_avoided_per_usd": st.column_config.NumberColumn(
                     "Loss avoided per $1 spent once", format="%.2f",
                     help="Expected loss avoided a year per dollar of one-off cost and effort: the ranking. "
                          "The run-cost change is its own column and never added in."),
                 "residual_score": st.column_config.NumberColumn("Score after", format="%.1f"),
                 "effort (person-weeks)": st.column_config.TextColumn("Effort (person-weeks)"),
                 "one_off_cost_usd": money("One-off cost"),
                 "run cost": st.column_config.TextColumn(
                     "Run cost change / yr", help="From list prices per model and channel (sourced and dated in the report); "
                                                  "“unknown” where no price is listed."),
                 "target model": st.column_config.TextColumn("Target model"),
                 "capability gap": st.column_config.TextColumn("Capability gap"),
                 "why not": st.column_config.TextColumn("Why not")})

st.subheader("What-if plan")
feasible = [r.option_id for r in records.itertuples() if r.feasible]
names = dict(zip(records["option_id"], records["label"], strict=True))
chosen = st.multiselect(f"Options to apply to {md_escape(dep)}", feasible, default=[o for o in plan.get(dep, []) if o in feasible],
                        format_func=names.get, key=f"fb_choose_{dep}")
if chosen != plan.get(dep, []):
    new = {k: v for k, v in plan.items() if k != dep}
    if chosen:
        new[dep] = chosen
    session[WHATIF_PLAN] = plan = new


def _replace_plan(new: dict[str, list[str]]) -> None:
    # the per-deployment pickers must show the new plan, not their previous state
    session.forget_widgets("fb_choose_")
    session[WHATIF_PLAN] = new


c = [st.container(horizontal=True, vertical_alignment="center", key="whatif_actions")] * 3  # wraps when narrow
if c[0].button("Apply the top recommendation to every high/critical deployment", type="primary"):
    _replace_plan(top_plan(a, rec, "high"))
    st.rerun()
if c[1].button("Clear the plan", disabled=not plan):
    _replace_plan({})
    st.rerun()
c[2].caption(f"{sum(len(v) for v in plan.values())} option(s) on {len(plan)} deployment(s)")

if plan:
    try:
        w = state.whatif_result(plan)
    except WhatIfError as exc:  # e.g. the inventory changed since the plan was made
        st.error(f"The plan no longer fits the inventory: {md_escape(exc)}")
        st.stop()
    b, f = w["before"], w["after"]
    m = st.columns(4)
    m[0].metric("Expected annual loss", f"${f['expected_annual_loss_usd']:,.0f}",
                money_delta(f['expected_annual_loss_usd'] - b['expected_annual_loss_usd']), delta_color="inverse")
    m[1].metric("VaR 95", f"${f['var95_usd']:,.0f}", money_delta(f['var95_usd'] - b['var95_usd']), delta_color="inverse")
    hc_b, hc_f = b["ratings"]["high"] + b["ratings"]["critical"], f["ratings"]["high"] + f["ratings"]["critical"]
    m[2].metric("High or critical", hc_f, hc_f - hc_b, delta_color="inverse")
    hb, hf = b["concentration"]["channel"]["spend"], f["concentration"]["channel"]["spend"]
    m[3].metric("HHI by channel (spend)", f"{hf['hhi']:,.0f} ({hf['band']})", f"{hf['hhi'] - hb['hhi']:+,.0f}",
                delta_color="inverse")
    names_all = frame["name"].where(frame["name"] != "", frame["deployment_id"])
    left, right = st.columns(2)
    left.plotly_chart(charts.risk_matrix(table, names_all, lib.scoring.rating_bounds, "Before"), key="wi_before")
    right.plotly_chart(charts.risk_matrix(w["scores_after"].table, names_all, lib.scoring.rating_bounds, "After"),
                       key="wi_after")
    st.plotly_chart(charts.loss_exceedance(f["lec"], {"VaR 95 after": f["var95_usd"]}, compare=b["lec"]), key="wi_lec")
    changes = pd.DataFrame(w["deployments"])
    all_names = {o.id: o.label for o in lib.fallbacks.options}
    channel_names = label_maps(lib)["channel"]
    shown = pd.DataFrame({
        "Deployment": changes["deployment_id"],
        "Options applied": changes["options"].map(lambda ids: "; ".join(all_names.get(o, o) for o in ids) or "—"),
        "Channel before": changes["channel_before"].map(channel_names).fillna(changes["channel_before"]),
        "Channel after": changes["channel_after"].map(channel_names).fillna(changes["channel_after"]),
        "Model after": changes["model_after"], "Score before": changes["score_before"],
        "Score after": changes["score_after"], "Rating before": changes["rating_before"],
        "Rating after": changes["rating_after"], "Expected loss before": changes["expected_loss_before_usd"],
        "Expected loss after": changes["expected_loss_after_usd"]})
    money_table(shown, hide_index=True, width="stretch", key="wi_changes", column_config={
        "Options applied": st.column_config.TextColumn(width="large"),
        "Score before": st.column_config.NumberColumn(format="%.1f"),
        "Score after": st.column_config.NumberColumn(format="%.1f"),
        "Expected loss before": money(),
        "Expected loss after": money()})

st.subheader(f"Exit plan — {md_escape(dep)}")
plan_doc = exit_plan(a, rec, i)
md = exit_plan_markdown(plan_doc)
st.download_button("Download exit plan (Markdown)", exit_plan_markdown(plan_doc, md_file_escape).encode(),
                   state.download_name("md", f"exit-plan-{dep}"),
                   "text/markdown", icon=":material/description:")
with st.container(border=True):
    st.markdown(md)
