"""Scenarios: the sourced library, editable probabilities (validated per event), reset, stress."""

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components import charts, pack_panel, tornado
from dashboard.components.columns import money_delta
from dashboard.state.session import PACK_NOTE, SCENARIO_PACK, SCENARIO_REFUSED, SCENARIO_VERSION
from risk_models.engine.score import stressed_probabilities
from risk_models.io.escape import md_escape, md_source_link, safe_url

st.title("Scenario library")
session = state.current_session()
lib = state.library()
sc = lib.scenarios
probs = state.probabilities()
pack_name, age = state.pack_status()
source = (session.get(SCENARIO_PACK) or {}).get("source", "built-in")
st.caption(f"Pack {md_escape(pack_name)} ({md_escape(source)}), maintained by {md_escape(sc.maintainer or 'unknown')}; "
           f"as of {sc.as_of:%d %b %Y} ({age.text()}). Probabilities over a {sc.horizon_months}-month horizon are "
           "analyst estimates — edit them to match your view. Outcomes of one event are mutually exclusive (they "
           "sum to ≤ 1; the rest is 'no change').")
state.show_pack_age_banner()
if session.get(PACK_NOTE):
    st.info(session[PACK_NOTE])
pack_panel.render()

rows = []
for e in sc.events:
    for o in e.outcomes:
        favourable = any(v < 0 for r in o.impacts for v in r.severity.values())
        rows.append({"event": e.label, "outcome_id": o.id, "outcome": o.label,
                     "probability": probs.get(o.id, o.probability), "default": o.probability,
                     "confidence": o.confidence, "effect": "favourable" if favourable else (
                         "adverse" if o.impacts else "no impact"),
                     "source": safe_url(e.sources[0].url), "source date": e.sources[0].date,
                     "rationale": o.rationale})
table = pd.DataFrame(rows)
ver = session.setdefault(SCENARIO_VERSION, 0)
# why the last edit was put back: above the table, where the edit was made (below it, the message sat under
# a 1,000-px table and went unseen)
for message in session.pop(SCENARIO_REFUSED, []):
    st.error(message, icon=":material/undo:")
edited = st.data_editor(
    table, key=f"scenario_editor_{ver}", hide_index=True, width="stretch", height=36 * (len(table) + 1) + 3,
    disabled=[c for c in table.columns if c != "probability"],
    column_order=["outcome", "probability", "default", "confidence", "effect", "source", "source date", "event",
                  "rationale"],
    column_config={
        "outcome": st.column_config.TextColumn("Outcome"),
        "probability": st.column_config.NumberColumn("Probability (0–1)", min_value=0.0, max_value=1.0, step=0.01,
                                                     format="%.2f", help="Over the pack's horizon; edit to your view"),
        "default": st.column_config.NumberColumn("Pack default", format="%.2f"),
        "confidence": st.column_config.TextColumn("Confidence"),
        "effect": st.column_config.TextColumn("Effect"),
        # only a plain http(s) address is a link (safe_url); its text is the domain it opens
        "source": st.column_config.LinkColumn("Source", display_text=r"https?://([^/?#]+)"),
        "source date": st.column_config.DateColumn("Source date", format="D MMM YYYY"),
        "event": st.column_config.TextColumn("Event"),
        "rationale": st.column_config.TextColumn("Rationale"),
        "outcome_id": None,
    })
delta = session.edits(f"scenario_editor_{ver}")
if delta.get("edited_rows"):
    sums = edited.groupby("event", sort=False)["probability"].sum()
    over = sums[sums > 1 + 1e-9]
    if len(over):
        # refused: the editor is rebuilt from the probabilities in use, so the cell shows its old value again
        session[SCENARIO_REFUSED] = [
            f"{md_escape(ev)}: the edit would make its outcome probabilities sum to {total:.2f}; mutually exclusive "
            "outcomes must sum to ≤ 1. The cell was put back to its previous value — lower another outcome of this "
            "event first." for ev, total in over.items()]
        session[SCENARIO_VERSION] = ver + 1
        st.rerun()
    else:
        session.pop(SCENARIO_REFUSED, None)
        new = {r.outcome_id: float(r.probability) for r in edited.itertuples()
               if abs(r.probability - r.default) > 1e-12}
        state.set_probabilities(new)
        session[SCENARIO_VERSION] = ver + 1
        st.rerun()

with st.expander("Events and all their sources"):
    for e in sc.events:
        links = "; ".join(f"{md_source_link(s.title, s.url)} ({s.date:%d %b %Y})" for s in e.sources)
        st.markdown(f"**{md_escape(e.label)}** — {md_escape(e.description)}  \nSources: {links}")

c = st.columns(3)
changed = len(probs)
c[0].metric("Probabilities changed from defaults", changed)
if c[1].button("Reset to defaults", disabled=not changed):
    state.set_probabilities({})
    session[SCENARIO_VERSION] = ver + 1
    st.rerun()

st.subheader("Stress test")
st.caption("Make one outcome certain (its siblings in the same event impossible) and see what changes.")
labels = {r["outcome_id"]: f"{r['outcome']} — {r['event']}" for r in rows}
pick = st.selectbox("Outcome", list(labels), format_func=labels.get, key="stress_outcome",
                    index=list(labels).index("msft_openai_dispute") if "msft_openai_dispute" in labels else 0)
base = state.assessment()
stressed = state.assessment({**probs, **stressed_probabilities(sc, [pick])})
bs, ss = base.simulation.summary(base.frame), stressed.simulation.summary(stressed.frame)
c = st.columns(3)
c[0].metric("Expected annual loss", f"${ss['expected_annual_loss_usd']:,.0f}",
            money_delta(ss['expected_annual_loss_usd'] - bs['expected_annual_loss_usd']), delta_color="inverse")
c[1].metric("VaR 95", f"${ss['var95_usd']:,.0f}", money_delta(ss['var95_usd'] - bs['var95_usd']), delta_color="inverse")
hc_b = int(base.residual.table["rating"].isin(["high", "critical"]).sum())
hc_s = int(stressed.residual.table["rating"].isin(["high", "critical"]).sum())
c[2].metric("High or critical", hc_s, hc_s - hc_b, delta_color="inverse")
d = pd.DataFrame({"deployment": base.frame["deployment_id"], "name": base.frame["name"],
                  "score before": base.residual.table["score"], "score after": stressed.residual.table["score"],
                  "rating after": stressed.residual.table["rating"]})
d["change"] = d["score after"] - d["score before"]
top = d.sort_values("change", ascending=False).head(15).rename(columns=str.capitalize)


def _meaning(v: float) -> str:
    # more exposure is bad news: red; less is green (never the other way round)
    return "color: #c62828; font-weight: 600" if v > 0.05 else "color: #2e7d32; font-weight: 600" if v < -0.05 else ""


st.dataframe(top.style.map(_meaning, subset=["Change"]).format({c: "{:.1f}" for c in
                                                                ("Score before", "Score after")} | {"Change": "{:+.1f}"}),
             hide_index=True, width="stretch")
st.plotly_chart(charts.loss_exceedance(ss["lec"], {"VaR 95": ss["var95_usd"]}, compare=bs["lec"]),
                key="stress_lec")

st.subheader("What the numbers rest on")
st.caption("Every assumption — the scoring constants (base vulnerability, calibration), weights, control factors and "
           "bands, the loss parameters, and each event's probability, severity and outage hours — moved to ×0.5 and "
           "×1.5 one at a time, the assessment recomputed in closed form. The longest bars are the assumptions worth "
           "checking first. The calibration constant only stretches the 0–100 score: it moves neither losses nor "
           "ratings. Method: docs/method.md, Sensitivity.")
by = st.radio("Rank by", list(tornado.METRICS), format_func=tornado.METRICS.get, horizontal=True,
              key="sensitivity_metric")
# about 180 closed-form re-scorings: instant for the demo, tens of seconds for 20,000 rows, so large
# inventories compute it on request (then cached under the assessment key like the first time)
n_rows = len(base.frame)
if n_rows <= tornado.AUTO_MAX_ROWS or st.toggle(f"Compute the sensitivity for {n_rows:,} deployments (takes a while)",
                                                key="sensitivity_large"):
    sens = state.sensitivity_result()
    st.plotly_chart(tornado.figure(sens, by), key="sensitivity_tornado")
    with st.expander("All assumptions, ranked"):
        st.dataframe(tornado.table(sens, by), hide_index=True, width="stretch")
        st.caption("Not moved: " + "; ".join(f"{md_escape(n['label'])} ({md_escape(n['reason'])})"
                                             for n in sens["not_moved"]) + ".")
