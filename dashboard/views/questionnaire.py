"""Questionnaire: per-deployment answers saved as they are given; bulk answers by filter; answers per
provider or model vendor inherited by deployments; what to answer next; XLSX send-out and read-back;
archived answers of removed deployments; answers file download / upload (diff, then confirm)."""

import datetime as dt
import io
import json
import re
import zipfile

import pandas as pd
import streamlit as st
import yaml

from dashboard import state
from dashboard.components.columns import money, money_table
from dashboard.state.session import (
    ANSWERS_LOADED,
    ANSWERS_PENDING,
    ANSWERS_UPLOAD_ERROR,
    ANSWERS_UPLOAD_REJECTED,
    Q_CURRENT,
    Q_PICKER,
    Q_SAVE_ERROR,
    Q_SHOWN,
    Q_STEMS,
    XLSX_LOADED,
    XLSX_PENDING,
    Key,
)
from risk_models.engine.assessment import drivers
from risk_models.engine.value_of_information import completion, value_of_information
from risk_models.io.escape import md_escape
from risk_models.io.safe_yaml import load_user_yaml
from risk_models.questionnaire.answers import AnswerError, answers_to_jsonable, normalise_answer, validate_answers
from risk_models.questionnaire.bulk import Selection, copy_answers, select, set_answer
from risk_models.questionnaire.scoped import SCOPES, source_label
from risk_models.questionnaire.workbook import (
    answer_text,
    change_rows,
    default_text,
    export_workbooks,
    merge_answers,
    read_workbook,
)
from risk_models.storage.errors import StorageError
from risk_models.storage.signing import signing_key

NOT = "(not answered)"
st.title("Questionnaire")
session = state.current_session()
lib = state.library()
questions = lib.questions
frame = state.inventory().frame
own = state.own_answers()
effective, sources = state.resolved()
n_q = len(questions)
channel_names = {k: c.display_name for k, c in lib.channels.channels.items()}
vendor_names = dict(lib.models.vendors)
SCOPE_NAMES = {"channel": "Provider", "model_vendor": "Model vendor"}


KEEP = {"q_search", "q_only_open", *(k.name for k in (Q_CURRENT, Q_PICKER, Q_STEMS, Q_SHOWN, Q_SAVE_ERROR))}


def _pick_deployment(names: dict[str, str], counts: dict[str, str]) -> str:
    """The picker whose selection no rerun can move.

    The browser sends a selectbox's value back as its *label*, and the labels carry answer counts: after an
    answer, the label the browser still held ("… (3/32)") matched no option ("… (4/32)"), Streamlit reset the
    picker to the first deployment and the next clicks overwrote that deployment's answers. So the selection
    lives in `Q_CURRENT`, changed only by a pick (read by its label without the count), and is written into the
    widget before each run, which also sends the browser the label with today's count."""
    ids = list(names)
    if session.get(Q_CURRENT) not in names:
        session[Q_CURRENT] = ids[0]
    session[Q_PICKER] = session[Q_CURRENT]
    session[Q_STEMS] = {stem: d for d, stem in names.items()}
    return st.selectbox("Deployment", ids, format_func=lambda d: f"{names[d]} ({counts[d]})", key=Q_PICKER.name,
                        on_change=_picked)


def _picked() -> None:
    value, stems = session[Q_PICKER], session[Q_STEMS]
    if value not in stems.values():  # a label sent before its count changed
        value = stems.get(re.sub(r" \(\d+/\d+\)$", "", str(value)))
    if value is not None:
        session[Q_CURRENT] = value


def _reset_widgets() -> None:
    """Answer widgets must show the new answers after a bulk change, not their previous state."""
    session.forget_widgets("q_", keep=KEEP)


def _changes_to_confirm(prefix: str, pending: Key[dict], apply_label: str, discard_label: str) -> None:
    """The answers a read-back would change (waiting under `pending`), then apply (or discard) on confirmation."""
    pend = session[pending]
    st.markdown(f"**{len(pend['changes'])} answer(s) change**")
    if pend["changes"]:
        st.dataframe(pd.DataFrame(pend["changes"]).astype(str), hide_index=True, width="stretch",
                     key=f"{prefix}_changes")
    b = st.columns(2)
    if b[0].button(apply_label, type="primary", disabled=not pend["changes"], key=f"{prefix}_apply"):
        state.set_answers(pend["answers"])
        session.pop(pending)
        _reset_widgets()
        st.rerun()
    if b[1].button(discard_label, key=f"{prefix}_discard"):
        session.pop(pending)
        st.rerun()


def _label(q, v) -> str:
    return {o.value: o.label for o in q.options}.get(v, v)


# astype(int): on a header-only inventory the empty object column summed to '' and int('') crashed
answered_counts = frame["deployment_id"].map(lambda d: len(effective.get(d, {}))).astype(int)
total = len(frame) * n_q
c = st.columns(3)
c[0].metric("Questions answered (all deployments)", f"{int(answered_counts.sum()):,} / {total:,}")
c[1].metric("Deployments fully answered", f"{int((answered_counts == n_q).sum())} / {len(frame)}")
c[2].metric("Deployments with no answers", f"{int((answered_counts == 0).sum())}")
st.progress(float(answered_counts.sum()) / max(total, 1), text="Overall progress — answers save as you give them; "
            "unanswered questions use the conservative default and are flagged as assumed")

if frame.empty:
    st.info("No valid deployments yet: load an inventory first.")
    st.stop()

tabs = st.tabs(["One deployment", "Answer many", "Per provider / vendor", "What to answer next",
                "Send out / read back", "Archived answers", "Answers file"])

# --- one deployment: every change is saved at once ------------------------------------------------
with tabs[0]:
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
        dep = None
        if choices.empty:
            st.warning("No deployment matches.")
        else:
            dep = _pick_deployment({r.deployment_id: f"{r.deployment_id} — {r.name}" for r in choices.itertuples()},
                                   {d: f"{len(effective.get(d, {}))}/{n_q}" for d in choices["deployment_id"]})

    if dep is not None:
        a = state.assessment()
        idx = int(frame.index[frame["deployment_id"] == dep][0])
        row = a.residual.table.iloc[idx]
        with left:
            st.metric("Score (residual)", f"{row['score']:.1f}", help="0-100; drivers below")
            st.metric("Rating", str(row["rating"]), help="From the likelihood × impact cell of the 5×5 matrix")
            st.caption(f"Cell: likelihood {row['likelihood']} × impact {row['impact']}")
            st.caption(f"Answered {len(effective.get(dep, {}))} of {n_q}; assumed: {len(a.residual.assumed[idx])}")
            dr = pd.DataFrame(drivers(a, idx))
            if not dr.empty:
                # outcomes add score points, factors multiply the vulnerability (the effect's unit says which);
                # the effect first: in this narrow column it stays in view, the driver's name is cut at worst
                st.dataframe(pd.DataFrame({
                    "Effect": [f"{v:+.1f} points" if k == "outcome" else f"×{v:.2f}"
                               for k, v in zip(dr["kind"], dr["value"], strict=True)],
                    "Driver": dr["label"]}), hide_index=True, width="stretch", key=f"drivers_{dep}",
                    column_config={"Driver": st.column_config.TextColumn(
                        help="Outcomes add score points; control factors multiply the vulnerability")})

        def _save(dep: str, qid: str, key: str) -> None:
            # The browser keeps the widgets of a deployment shown earlier and sends their old values back with
            # a later answer; Streamlit, which forgot them when they left the page, calls their callbacks as if
            # they had changed. Only the deployment on the page may be written, or a stale value would undo an
            # answer given meanwhile (bulk, read-back, another user).
            if dep != session.get(Q_SHOWN):
                return
            value = session.widget(key)
            new = dict(state.own_answers())
            per = dict(new.get(dep, {}))
            if value in (None, NOT, []):
                per.pop(qid, None)
            else:
                try:
                    per[qid] = normalise_answer(questions[qid], value)
                except AnswerError as exc:
                    session[Q_SAVE_ERROR] = f"{questions[qid].text}: {exc}"
                    return
            if per == new.get(dep, {}):
                return  # nothing changed: no write, no audit entry
            if per:
                new[dep] = per
            else:
                new.pop(dep, None)
            state.set_answers(new)
            session.pop(Q_SAVE_ERROR, None)

        cur_own = own.get(dep, {})
        cur_src = sources.get(dep, {})
        session[Q_SHOWN] = dep
        with right:
            st.subheader(md_escape(f"{dep}: {frame.at[idx, 'name']}"))
            st.caption("Every answer is saved as soon as you give it; switching deployment loses nothing.")
            if session.get(Q_SAVE_ERROR):
                st.error(md_escape(session[Q_SAVE_ERROR]))
            for q in questions.values():
                label = q.text + (f"  ·  DORA {q.dora_field}" if q.dora_field else "") + \
                    ("  ·  record only" if q.record_only else "")
                key = f"q_{dep}_{q.id}"
                cur = cur_own.get(q.id)
                inherited = effective.get(dep, {}).get(q.id) if q.id not in cur_own else None
                src = cur_src.get(q.id)
                if inherited is not None and src:
                    unset = f"(inherited: {answer_text(q, inherited)} — {source_label(src, channel_names, vendor_names)})"
                else:
                    unset = f"({default_text(q)})"
                helptext = q.help + f"  \n\nIf not answered: {default_text(q)}."
                opts = [o.value for o in q.options]
                names = {o.value: o.label for o in q.options}
                cb = {"on_change": _save, "args": (dep, q.id, key), "key": key, "help": helptext}
                if q.type in ("choice", "bool"):
                    st.radio(label, [NOT, *opts], horizontal=True, index=opts.index(cur) + 1 if cur in opts else 0,
                             format_func=lambda v, names=names, unset=unset: unset if v == NOT else names.get(v, v),
                             **cb)
                elif q.type == "multi":
                    st.multiselect(label, opts, default=cur or [], format_func=lambda v, names=names: names.get(v, v),
                                   placeholder=unset, **cb)
                elif q.type == "number":
                    st.number_input(label, min_value=0.0, value=float(cur) if cur is not None else None,
                                    placeholder=unset, **cb)
                else:
                    st.date_input(label, value=cur, min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31),
                                  **cb)
                    if cur is None:
                        st.caption(md_escape(unset))

# --- answer many at once -------------------------------------------------------------------------------
with tabs[1]:
    st.caption("Select deployments by filter (all filters combine) or by hand, pick a question and an answer, "
               "check how many answers change, then apply.")
    f = st.columns(3)
    sel = Selection(
        model_vendor=f[0].multiselect("Model vendor", sorted(frame["model_vendor"].unique()),
                                      format_func=lambda v: vendor_names.get(v, v), key="bulk_vendor"),
        channel=f[1].multiselect("Provider (channel)", sorted(frame["channel"].unique()),
                                 format_func=lambda v: channel_names.get(v, v), key="bulk_channel"),
        business_unit=f[2].multiselect("Business unit", sorted(frame["business_unit"].unique()), key="bulk_bu"),
        owner=f[0].multiselect("Owner", sorted(frame["owner"].unique()), key="bulk_owner"),
        rating=f[1].multiselect("Rating", ["critical", "high", "medium", "low"], key="bulk_rating"),
        deployment_ids=f[2].multiselect("Or pick deployments by hand", frame["deployment_id"].tolist(),
                                        key="bulk_pick"),
    )
    contract = f[0].date_input("Contract ends between", value=[], key="bulk_contract",
                               min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))
    if len(contract) == 2:
        sel = sel.model_copy(update={"contract_end_from": contract[0], "contract_end_to": contract[1]})
    ratings = state.assessment().residual.table["rating"] if sel.rating else None
    picked = frame.loc[select(frame, sel, ratings), "deployment_id"].astype(str).tolist()
    st.markdown(f"**{len(picked)}** deployment(s) selected")
    if picked:
        st.dataframe(frame[frame["deployment_id"].isin(picked)][["deployment_id", "name", "business_unit", "owner"]]
                     .rename(columns={"deployment_id": "Deployment", "name": "Name", "business_unit": "Business unit",
                                      "owner": "Owner"}), hide_index=True, width="stretch", height=180,
                     key="bulk_selected")
    g = st.columns([2, 2, 1])
    qid = g[0].selectbox("Question", list(questions), format_func=lambda k: questions[k].text, key="bulk_question")
    q = questions[qid]
    value = None
    if q.type in ("choice", "bool"):
        value = g[1].selectbox("Answer", [o.value for o in q.options] + [NOT], key=f"bulk_value_{qid}",
                               format_func=lambda v, q=q: "(clear the answer)" if v == NOT else _label(q, v))
    elif q.type == "multi":
        value = g[1].multiselect("Answer", [o.value for o in q.options], key=f"bulk_value_{qid}",
                                 format_func=lambda v, q=q: _label(q, v), placeholder="(clear the answer)")
    elif q.type == "number":
        value = g[1].number_input(f"Answer ({q.unit or 'number'})", min_value=0.0, value=None, key=f"bulk_value_{qid}",
                                  placeholder="(clear the answer)")
    else:
        value = g[1].date_input("Answer", value=None, key=f"bulk_value_{qid}", min_value=dt.date(2000, 1, 1),
                                max_value=dt.date(2100, 12, 31))
    norm = None if value in (None, NOT, []) else normalise_answer(q, value)
    new_answers, n_change = set_answer(own, picked, qid, norm)
    shown = "(cleared)" if norm is None else answer_text(q, norm)
    g[2].markdown(f"**{n_change} answer(s) change**")
    if g[2].button(f"Apply to {len(picked)}", type="primary", disabled=not n_change, key="bulk_apply"):
        state.set_answers(new_answers)
        _reset_widgets()
        st.toast(f"{n_change} answer(s) set: {md_escape(q.text)} = {md_escape(str(shown))}")
        st.rerun()
    st.divider()
    cc = st.columns([2, 1])
    source_dep = cc[0].selectbox("Copy all answers from", frame["deployment_id"].tolist(), key="bulk_copy_from",
                                 format_func=lambda d: f"{d} ({len(own.get(d, {}))} answers)")
    copied, n_copy = copy_answers(own, source_dep, picked)
    cc[1].markdown(f"**{n_copy} answer(s) change**")
    if cc[1].button(f"Copy to the {len([p for p in picked if p != source_dep])} selected", disabled=not n_copy,
                    key="bulk_copy"):
        state.set_answers(copied)
        _reset_widgets()
        st.rerun()

# --- answers per provider / model vendor --------------------------------------------------------------
with tabs[2]:
    st.caption("An answer given once for a provider (e.g. its contract terms) or a model vendor is inherited by "
               "every deployment of it; a deployment's own answer always wins (provider answers win over "
               "model-vendor answers). Contracts are not yet an entity of the inventory, so answers per contract "
               "are given per provider for now.")
    sc = state.scoped_answers()
    s1 = st.columns(4)
    scope = s1[0].radio("Scope", list(SCOPES), format_func=SCOPE_NAMES.get, key="scope_kind", horizontal=True)
    names_for = channel_names if scope == "channel" else vendor_names
    scope_value = s1[1].selectbox(SCOPE_NAMES[scope], sorted(frame[scope].unique()),
                                  format_func=lambda v: names_for.get(v, v), key=f"scope_value_{scope}")
    sq = s1[2].selectbox("Question", list(questions), format_func=lambda k: questions[k].text, key="scope_question")
    q = questions[sq]
    cur = getattr(sc, scope).get(scope_value, {}).get(sq)
    if q.type in ("choice", "bool", "multi"):
        opts = [o.value for o in q.options]
        sval = s1[3].selectbox("Answer", [NOT, *opts], index=opts.index(cur) + 1 if cur in opts else 0,
                               key=f"scope_answer_{scope}_{scope_value}_{sq}",
                               format_func=lambda v, q=q: "(no answer for this scope)" if v == NOT else _label(q, v))
        sval = [sval] if (q.type == "multi" and sval != NOT) else sval
    elif q.type == "number":
        sval = s1[3].number_input("Answer", min_value=0.0, value=float(cur) if cur is not None else None,
                                  key=f"scope_answer_{scope}_{scope_value}_{sq}", placeholder="(no answer for this scope)")
    else:
        sval = s1[3].date_input("Answer", value=cur, key=f"scope_answer_{scope}_{scope_value}_{sq}",
                                min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))
    members = int((frame[scope] == scope_value).sum())
    overridden = int(sum(1 for d in frame.loc[frame[scope] == scope_value, "deployment_id"] if sq in own.get(d, {})))
    st.caption(f"{members} deployment(s) inherit this; {overridden} have their own answer, which wins.")
    if st.button("Save for this scope", key="scope_save"):
        per_scope = {k: dict(v) for k, v in getattr(sc, scope).items()}
        given = per_scope.setdefault(scope_value, {})
        if sval in (None, NOT, []):
            given.pop(sq, None)
        else:
            given[sq] = normalise_answer(q, sval)
        if not given:
            per_scope.pop(scope_value, None)
        state.set_scoped_answers(sc.model_copy(update={scope: per_scope}))
        _reset_widgets()
        st.rerun()
    rows = [{"Scope": SCOPE_NAMES[s], "For": (channel_names if s == "channel" else vendor_names).get(v, v),
             "Question": questions[k].text, "Answer": answer_text(questions[k], ans)}
            for s in SCOPES for v, per in getattr(sc, s).items() for k, ans in per.items()]
    if rows:
        st.dataframe(pd.DataFrame(rows).astype(str), hide_index=True, width="stretch", key="scope_table")

# --- value of information ---------------------------------------------------------------------------


@st.cache_resource(show_spinner="Scoring every question's best and worst answer…", max_entries=4)
def _voi(key: str, _frame: pd.DataFrame, _answers: dict, _probs: dict) -> pd.DataFrame:
    return value_of_information(_frame, _answers, lib, _probs)


with tabs[3]:
    st.caption("For each unanswered question on each deployment: how far the score, rating and expected annual "
               "loss could move between its best answer and the conservative default assumed now. Answer from "
               "the top.")
    if st.toggle("Rank the unanswered questions", key="voi_on"):
        voi = _voi(state.assessment_key(), frame, state.answers(), state.probabilities())
        top_n = st.number_input("Show the top", min_value=5, max_value=500, value=20, step=5, key="voi_top")
        view = voi.head(int(top_n)).copy()
        view["Rating"] = [f"{b} – {w}" if c else w for b, w, c in
                          zip(view["rating_best"], view["rating_worst"], view["rating_changes"], strict=True)]
        view["Score"] = [f"{b:.1f} – {w:.1f}" for b, w in zip(view["score_best"], view["score_worst"], strict=True)]
        money_table(view[["deployment_id", "name", "question", "Score", "Rating", "loss_range_usd"]].rename(columns={
            "deployment_id": "Deployment", "name": "Name", "question": "Question"}), hide_index=True, width="stretch",
            key="voi_table", column_config={"loss_range_usd": money("Expected loss could move by")})
        st.caption(f"{len(voi):,} unanswered question(s) could move a score.")
    st.subheader("Completion")
    cols = st.columns(3)
    for col, (by, title) in zip(cols, [("business_unit", "Business unit"), ("model_vendor", "Model vendor"),
                                       ("owner", "Owner")], strict=True):
        comp = completion(frame, effective, questions, by)
        if by == "model_vendor":
            comp["group"] = comp["group"].map(lambda v: vendor_names.get(v, v))
        col.dataframe(comp[["group", "deployments", "completion_pct"]].rename(columns={"group": title}),
                      hide_index=True, width="stretch", key=f"completion_{by}", column_config={
                          "deployments": st.column_config.NumberColumn("Deployments"),
                          "completion_pct": st.column_config.ProgressColumn("Answered", format="%.0f%%",
                                                                            min_value=0, max_value=100)})

# --- XLSX send-out and read-back ---------------------------------------------------------------------


def _zip(by: str, key: str, seal: bytes) -> bytes:
    books = export_workbooks(frame, effective, lib, by, seal_key=seal)  # type: ignore[arg-type]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in books.items():
            z.writestr(name, data)
    return buf.getvalue()


with tabs[4]:
    st.caption("One workbook per recipient: one row per deployment, one column per question, drop-downs for "
               "choices, help as cell comments, id columns locked, current answers filled in.")
    x = st.columns([1, 2])
    by = x[0].radio("One workbook per", ["owner", "business_unit", "vendor"], key="xlsx_by",
                    format_func={"owner": "Owner", "business_unit": "Business unit", "vendor": "Model vendor"}.get)
    try:  # the secret that seals each row to its workbook (risk_models.storage.signing)
        seal = signing_key()
    except StorageError as exc:
        seal = None
        st.error(f"Workbooks cannot be sent or read back: {md_escape(state.problem_text(exc))}")
    x[1].download_button("Download the workbooks (ZIP)", lambda: _zip(by, state.assessment_key(), seal),
                         state.download_name("zip", f"questionnaire-{by}"), "application/zip", key="xlsx_download",
                         disabled=seal is None)
    ups = st.file_uploader("Returned workbooks (XLSX)", type=["xlsx"], accept_multiple_files=True, key="xlsx_upload",
                           disabled=seal is None)
    ids_key = tuple(u.file_id for u in ups or [])
    if ups and session.get(XLSX_LOADED) != ids_key:
        session[XLSX_LOADED] = ids_key
        incoming: dict = {}
        errs = []
        known = set(frame["deployment_id"].astype(str))
        for u in ups:
            got, e = read_workbook(u.getvalue(), u.name, lib, known, seal)
            errs += e
            for d, per in got.items():
                incoming.setdefault(d, {}).update(per)
        merged, changes = merge_answers(own, incoming)
        session[XLSX_PENDING] = {"answers": merged, "changes": change_rows(changes, questions),
                            "errors": [e.model_dump() for e in errs]}
    pend = session.get(XLSX_PENDING)
    if pend:
        if pend["errors"]:
            st.error(f"{len(pend['errors'])} cell(s) refused — they are not applied:")
            errs_view = pd.DataFrame(pend["errors"])
            errs_view["question"] = errs_view["question"].map(lambda k: questions[k].text if k in questions else k)
            st.dataframe(errs_view.rename(columns={
                "file": "File", "sheet": "Sheet", "row": "Row", "deployment_id": "Deployment", "question": "Question",
                "value": "Value", "message": "Problem"}).fillna("").astype(str), hide_index=True, width="stretch",
                key="xlsx_errors")
        _changes_to_confirm("xlsx", XLSX_PENDING, "Apply the answers", "Discard")

# --- archived answers ----------------------------------------------------------------------------------
with tabs[5]:
    archive = state.archived_answers()
    if not archive:
        st.info("No archived answers: answers of deployments removed from the register are kept here.")
    present = set(frame["deployment_id"].astype(str))
    for d, item in sorted(archive.items()):
        r = st.columns([3, 1])
        r[0].markdown(f"**{md_escape(d)}** — {len(item.answers)} answer(s), archived "
                      f"{item.archived_at:%Y-%m-%d %H:%M} UTC when register version {item.register_version} "
                      "removed it")
        if r[1].button("Restore", key=f"restore_{d}", disabled=d not in present,
                       help=None if d in present else "Restorable once the deployment is back in the register"):
            state.restore_archived(d)
            _reset_widgets()
            st.rerun()

# --- answers file ---------------------------------------------------------------------------------------
with tabs[6]:
    c = st.columns(3)
    data = answers_to_jsonable(own)
    c[0].download_button("Download answers (YAML)", yaml.safe_dump(data, allow_unicode=True, sort_keys=True),
                         state.download_name("yaml", "answers"), "application/yaml")
    c[1].download_button("Download answers (JSON)", json.dumps(data, indent=1, ensure_ascii=False),
                         state.download_name("json", "answers"), "application/json")
    up = c[2].file_uploader("Upload answers (YAML or JSON)", type=["yaml", "yml", "json"], key="answers_upload")
    if up is not None and session.get(ANSWERS_LOADED) != up.file_id:
        session[ANSWERS_LOADED] = up.file_id
        try:
            loaded = load_user_yaml(up.getvalue().decode("utf-8-sig")) or {}  # no aliases (billion laughs)
            if not isinstance(loaded, dict):
                raise ValueError("expected a mapping {deployment_id: {question_id: answer}}")
        except (ValueError, UnicodeDecodeError, yaml.YAMLError) as exc:
            session[ANSWERS_UPLOAD_ERROR] = f"{up.name}: cannot read ({exc})"
        else:
            new, errors = validate_answers(loaded, questions, frame["deployment_id"])
            merged, changes = merge_answers(own, new)
            session[ANSWERS_PENDING] = {"answers": merged, "changes": change_rows(changes, questions)}
            session[ANSWERS_UPLOAD_ERROR] = None
            session[ANSWERS_UPLOAD_REJECTED] = [e.model_dump() for e in errors]
    if session.get(ANSWERS_UPLOAD_ERROR):
        st.error(session[ANSWERS_UPLOAD_ERROR])
    if session.get(ANSWERS_UPLOAD_REJECTED):
        st.warning("Some answers in the uploaded file were not used:")
        refused = pd.DataFrame(session[ANSWERS_UPLOAD_REJECTED])
        refused["column"] = refused["column"].map(lambda k: questions[k].text if k in questions else k)
        st.dataframe(refused.drop(columns=["line"], errors="ignore").rename(columns={
            "deployment_id": "Deployment", "column": "Question", "value": "Value", "message": "Problem"}),
            hide_index=True, width="stretch")
    if session.get(ANSWERS_PENDING):
        _changes_to_confirm("answers", ANSWERS_PENDING, "Apply the uploaded answers", "Discard the upload")
