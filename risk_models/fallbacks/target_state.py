"""The deployment as it would be after a fallback option — the one definition every consumer
(recommender, residual scores, what-if, exit plans, concentration) scores with the same engine.

* A switch (channel, model or vendor) moves the workload: target channel and the option's model of
  the deployment's task kind (an embedding deployment gets the embedding model; the model vendor
  follows from the model rules), the option's region where the current jurisdiction is not served,
  else the target cloud's region in the same country or jurisdiction (westeurope on Azure becomes
  europe-west4 on Vertex), no proprietary features (they are rebuilt portably — the effort is
  counted), no commitment on the new terms, and at least the option's fallback status (the old
  channel stays documented as the way back). The questionnaire answers stay (they describe the use case).
* A control or contract lever changes only the factors it acts on: abstraction layer, fallback
  status, a cap on committed spend, or the questionnaire answers it secures (an answer is only
  replaced when the lever's is at least as good in every dimension).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from risk_models.config.domain import DIMENSIONS, FallbackStatus
from risk_models.config.loader import Library
from risk_models.config.schema import FallbackOption
from risk_models.inventory.read import jurisdiction, model_vendor, per_unique
from risk_models.inventory.regions import region_on
from risk_models.inventory.tasks import task_kinds
from risk_models.questionnaire.answers import Answer, AnswerError, AnswerMap, answer_factors, normalise_answer

FALLBACK_ORDER = [s.value for s in FallbackStatus]
REFERENCE_DATE = "reference_date"  # answer value meaning "the assessment's reference date"


def _at_least(current: pd.Series, level: str) -> pd.Series:
    rank = current.map(FALLBACK_ORDER.index)
    return current.where(rank >= FALLBACK_ORDER.index(level), level)


def lever_answers(option: FallbackOption, lib: Library, ref: dt.date) -> dict[str, Answer]:
    """The option's answers, normalised (REFERENCE_DATE -> ref)."""
    out = {}
    for qid, raw in option.after.answers.items():
        value = ref.isoformat() if raw == REFERENCE_DATE else raw
        try:
            out[qid] = normalise_answer(lib.questions[qid], value)
        except (KeyError, AnswerError) as exc:  # the loader checks these; this guards edited configs
            raise ValueError(f"fallback option {option.id}: answer {qid}={raw!r}: {exc}") from None
    return out


def _no_worse(q, candidate: Answer, current: Answer, ref: dt.date) -> bool:
    new, old = answer_factors(q, candidate, ref), answer_factors(q, current, ref)
    return all(new[d] <= old[d] + 1e-12 for d in DIMENSIONS)


def switch_target(model: pd.Series, region: pd.Series, jur: pd.Series, option: FallbackOption,
                  lib: Library) -> pd.DataFrame:
    """Where a switch takes each workload: `model` (the option's model of the row's task kind, the same
    model when the option names none; None where it has no model of that kind), `model_vendor`,
    `region` (the option's region where the jurisdiction is not served, else the target cloud's region
    of the same country or jurisdiction; None where that cloud has none) and `jurisdiction`.
    Worked out once per distinct value."""
    models = option.after.models
    target_model = task_kinds(model, lib).map(models) if models else model.astype(object)
    allowed = {j.value for j in option.allowed_jurisdictions}
    moves = ~jur.isin(allowed)
    channel = option.target_channel or ""
    target_region = per_unique(region.astype(str), lambda r: region_on(lib, r, channel))
    if option.after.region:
        target_region = target_region.mask(moves, option.after.region)
    known = target_region.notna()
    return pd.DataFrame({
        "model": target_model,
        "model_vendor": model_vendor(target_model.fillna("").astype(str), lib).where(target_model.notna()),
        "region": target_region,
        "jurisdiction": jurisdiction(target_region.fillna("").astype(str), pd.Series(channel, index=region.index),
                                     lib).where(known)})


def apply_option(frame: pd.DataFrame, answers: AnswerMap, option: FallbackOption, lib: Library,
                 ref: dt.date | None = None, target: pd.DataFrame | None = None) -> tuple[pd.DataFrame, AnswerMap]:
    """Every row of `frame` as it would be after `option` (feasibility is the caller's business),
    and the answers after it (only the rows of `frame`, other deployments untouched). `target`: the
    switch_target of these rows when the caller has it already."""
    ref = ref or lib.reference_date
    out = frame.copy()
    after = option.after
    if option.is_switch:
        if target is None:
            target = switch_target(out["model"], out["region"], out["jurisdiction"], option, lib)
        target = target.set_axis(out.index)
        out["channel"] = option.target_channel
        # a row with no target of its kind or no region there keeps its own (infeasible: callers check)
        out["model"] = target["model"].fillna(out["model"])
        out["model_vendor"] = target["model_vendor"].fillna(out["model_vendor"])
        out["region"] = target["region"].fillna(out["region"])
        stays = target["jurisdiction"].isna()
        out["jurisdiction"] = target["jurisdiction"]
        if stays.any():
            out.loc[stays, "jurisdiction"] = jurisdiction(out.loc[stays, "region"].astype(str),
                                                          out.loc[stays, "channel"], lib)
        out["proprietary_features"] = ""
        out["committed_spend_usd"] = 0.0
        out["contract_end"] = None
    if after.fallback_status:
        out["fallback_status"] = _at_least(out["fallback_status"], after.fallback_status.value)
    if after.abstraction_layer:
        out["abstraction_layer"] = True
    if after.committed_ratio_cap is not None:
        cap = after.committed_ratio_cap * out["annual_spend_usd"].to_numpy(float)
        out["committed_spend_usd"] = np.minimum(out["committed_spend_usd"].to_numpy(float), cap)
    new_answers = dict(answers)
    secured = lever_answers(option, lib, ref)
    if secured:
        better: dict[tuple[str, str], bool] = {}  # (question, current answer) -> replace it?
        unanswered = None  # the answers of every row that had none: one shared dict (read-only)
        for dep in out["deployment_id"].tolist():
            if dep not in answers and unanswered is not None:
                new_answers[dep] = unanswered
                continue
            given = dict(answers.get(dep, {}))
            for qid, value in secured.items():
                q = lib.questions[qid]
                current = given.get(qid, q.default)
                key = (qid, repr(current))
                if key not in better:
                    better[key] = _no_worse(q, value, current, ref)
                if better[key]:
                    given[qid] = value
            new_answers[dep] = given
            if dep not in answers:
                unanswered = given
    return out, new_answers


def apply_plan(frame: pd.DataFrame, answers: AnswerMap, plan: dict[str, list[FallbackOption]], lib: Library,
               ref: dt.date | None = None) -> tuple[pd.DataFrame, AnswerMap]:
    """The whole inventory after a plan {deployment_id: [options, in order]}."""
    out, new_answers = frame.copy(), dict(answers)
    index = pd.Index(out["deployment_id"])
    for dep, options in plan.items():
        i = index.get_loc(dep)
        for option in options:
            row, new_answers = apply_option(out.iloc[[i]], new_answers, option, lib, ref)
            for col in out.columns:
                out.iat[i, out.columns.get_loc(col)] = row[col].iat[0]
    return out, new_answers
