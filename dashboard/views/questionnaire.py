"""Questionnaire: per-deployment form generated from config/questionnaire.yaml; progress;
answers saved in the session and downloadable / uploadable as YAML or JSON."""

import datetime as dt
import json

import pandas as pd
import streamlit as st
import yaml

from dashboard import state
from risk_models.answers import AnswerError, answers_to_jsonable, normalise_answer, validate_answers
from risk_models.assessment import drivers
from risk_models.markdown_text import md_escape
from risk_models.safe_yaml import load_user_yaml

st.title("Questionnaire")
lib = state.library()
questions = lib.questions
frame = state.inventory().frame
answers = state.answers()
n_q = len(questions)

# astype(int): on a header-only inventory the empty object column summed to '' and int('') crashed
answered_counts = frame["deployment_id"].map(lambda d: len(answers.get(d, {}))).astype(int)
total = len(frame) * n_q
c = st.columns(3)
c[0].metric("Questions answered (all deployments)", f"{int(answered_counts.sum()):,} / {total:,}")
c[1].metric("Deployments fully answered", f"{int((answered_counts == n_q).sum())} / {len(frame)}")
c[2].metric("Deployments with no answers", f"{int((answered_counts == 0).sum())}")
st.progress(float(answered_counts.sum()) / max(total, 1), text="Overall progress — unanswered questions use the "
            "conservative default and are flagged as assumed")

if frame.empty:
    st.info("No valid deployments yet: load an inventory first.")
    st.stop()

left, right = st.columns([1, 2])
with left:
    search = st.text_input("Search by id or name", key="q_search")
    only_open = st.toggle("Only deployments with unanswered questions", key="q_only_open")
    mask = pd.Series(True, index=frame.index)
    if search:
        s = search.casefold()
        mask &= frame["deployment_id"].str.casefold().str.contains(s, regex=False) | \
            frame["name"].str.casefold().str.contains(s, regex=False)
    if only_open:
        mask &= answered_counts < n_q
    choices = frame[mask]
    if choices.empty:
        st.warning("No deployment matches.")
        st.stop()
    labels = {r.deployment_id: f"{r.deployment_id} — {r.name} ({len(answers.get(r.deployment_id, {}))}/{n_q})"
              for r in choices.itertuples()}
    dep = st.selectbox("Deployment", list(labels), format_func=labels.get, key="q_deployment")

a = state.assessment()
idx = int(frame.index[frame["deployment_id"] == dep][0])
row = a.residual.table.iloc[idx]
with left:
    st.metric("Score (residual)", f"{row['score']:.1f}", help="0-100; drivers below")
    st.metric("Rating", f"{row['rating']} (L{row['likelihood']} × I{row['impact']})")
    st.caption(f"Answered {len(answers.get(dep, {}))} of {n_q}; assumed: {len(a.residual.assumed[idx])}")
    dr = pd.DataFrame(drivers(a, idx))
    if not dr.empty:
        st.dataframe(dr[["kind", "label", "value"]], hide_index=True, width="stretch", key=f"drivers_{dep}")

current = answers.get(dep, {})
with right, st.form(f"form_{dep}"):
    st.subheader(md_escape(f"{dep}: {frame.at[idx, 'name']}"))
    raw: dict[str, object] = {}
    for q in questions.values():
        label = q.text + (f"  ·  DORA {q.dora_field}" if q.dora_field else "")
        helptext = q.help + ("" if q.id in current else "  (currently assumed: the conservative default)")
        key = f"q_{dep}_{q.id}"
        cur = current.get(q.id)
        opts = [o.value for o in q.options]
        names = {o.value: o.label for o in q.options}
        if q.type in ("choice", "bool"):
            raw[q.id] = st.radio(label, ["(not answered)", *opts], horizontal=True, help=helptext, key=key,
                                 index=opts.index(cur) + 1 if cur in opts else 0,
                                 format_func=lambda v, names=names: names.get(v, v))
        elif q.type == "multi":
            raw[q.id] = st.multiselect(label, opts, default=cur or [], help=helptext, key=key,
                                       format_func=lambda v, names=names: names.get(v, v),
                                       placeholder="(not answered)")
        elif q.type == "number":
            raw[q.id] = st.number_input(label, min_value=0.0,
                                        value=float(cur) if cur is not None else None, help=helptext, key=key,
                                        placeholder="(not answered)")
        else:
            raw[q.id] = st.date_input(label, value=cur, help=helptext, key=key, min_value=dt.date(2000, 1, 1),
                                      max_value=dt.date(2100, 12, 31))
    submitted = st.form_submit_button("Save answers", type="primary")

if submitted:
    new = dict(answers)
    per: dict[str, object] = {}
    problems = []
    for qid, value in raw.items():
        if value in (None, "(not answered)", []):
            continue
        try:
            per[qid] = normalise_answer(questions[qid], value)
        except AnswerError as exc:
            problems.append(f"{qid}: {exc}")
    if problems:
        st.error("Not saved: " + "; ".join(problems))
    else:
        new[dep] = per
        if not per:
            new.pop(dep, None)
        state.set_answers(new)
        st.toast(f"Saved {len(per)} answer(s) for {md_escape(dep)}")
        st.rerun()

st.divider()
st.subheader("Answers file")
c = st.columns(3)
data = answers_to_jsonable(answers)
c[0].download_button("Download answers (YAML)", yaml.safe_dump(data, allow_unicode=True, sort_keys=True),
                     state.download_name("yaml", "answers"), "application/yaml")
c[1].download_button("Download answers (JSON)", json.dumps(data, indent=1, ensure_ascii=False),
                     state.download_name("json", "answers"), "application/json")
up = c[2].file_uploader("Upload answers (YAML or JSON)", type=["yaml", "yml", "json"], key="answers_upload")
if up is not None and st.session_state.get("answers_loaded") != up.file_id:
    st.session_state["answers_loaded"] = up.file_id
    try:
        loaded = load_user_yaml(up.getvalue().decode("utf-8-sig")) or {}  # no aliases (billion laughs)
        if not isinstance(loaded, dict):
            raise ValueError("expected a mapping {deployment_id: {question_id: answer}}")
    except (ValueError, UnicodeDecodeError, yaml.YAMLError) as exc:
        st.session_state["answers_upload_error"] = f"{up.name}: cannot read ({exc})"
    else:
        new, errors = validate_answers(loaded, questions, frame["deployment_id"])
        state.set_answers({**answers, **new})
        st.session_state["answers_upload_error"] = None
        st.session_state["answers_upload_rejected"] = [e.model_dump() for e in errors]
        st.rerun()
if st.session_state.get("answers_upload_error"):
    st.error(st.session_state["answers_upload_error"])
if st.session_state.get("answers_upload_rejected"):
    st.warning("Some answers in the uploaded file were not used:")
    st.dataframe(pd.DataFrame(st.session_state["answers_upload_rejected"]), hide_index=True, width="stretch")
