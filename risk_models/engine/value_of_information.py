"""What to answer next: for every unanswered (deployment, question), how far the score, rating
and expected annual loss could move between the question's best and worst answer.

Vectorised over the portfolio: per question, the whole inventory is scored once with every
deployment given the best answer. The worst answer is the conservative default (the config
loader checks that no answer is worse in any dimension), which is exactly what an unanswered
question already scores as, so the current scores serve as the worst case: 1 + questions calls of
`score` and `expected_losses_exact`, never a loop over deployments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from risk_models.config.domain import DIMENSIONS
from risk_models.config.loader import Library
from risk_models.config.schema import Question
from risk_models.engine.score import score
from risk_models.engine.simulation import expected_losses_exact
from risk_models.questionnaire.answers import Answer, AnswerMap, answer_factors

RATING_ORDER = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def best_answer(q: Question, ref: dt.date, weights: Mapping[str, float]) -> Answer:
    """The answer with the lowest weighted factor (options, or a value inside the best band)."""
    def cost(f: dict[str, float]) -> float:
        return sum(weights[d] * f[d] for d in DIMENSIONS)

    if q.type in ("choice", "bool", "multi"):
        best = min(q.options, key=lambda o: cost({d: o.factors.get(d, 1.0) for d in DIMENSIONS})).value
        return [best] if q.type == "multi" else best
    # number / date: a representative value of each band (its upper edge, or just past the last edge)
    values: list[float] = []
    prev = 0.0
    for b in q.bands:
        values.append(b.max if b.max is not None else prev + 1.0)
        prev = b.max if b.max is not None else prev
    if q.type == "number":
        return min(values, key=lambda x: cost(answer_factors(q, x, ref)))
    dates = [ref - dt.timedelta(days=int(m * 30.4375)) for m in values]
    return min(dates, key=lambda d: cost(answer_factors(q, d, ref)))


def value_of_information(frame: pd.DataFrame, answers: AnswerMap, lib: Library,
                         probabilities: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per unanswered (deployment, question) that can move anything, sorted by how much
    the expected loss (then the score) could move. Columns: deployment_id, name, question_id,
    question, score_best, score_worst, score_range, rating_best, rating_worst, rating_changes,
    loss_best_usd, loss_worst_usd, loss_range_usd."""
    cols = ["deployment_id", "name", "question_id", "question", "score_best", "score_worst", "score_range",
            "rating_best", "rating_worst", "rating_changes", "loss_best_usd", "loss_worst_usd", "loss_range_usd"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    ref = lib.scenarios.as_of
    ids = frame["deployment_id"].astype(str).tolist()
    worst = score(frame, answers, lib, probabilities)
    worst_loss = expected_losses_exact(frame, worst, lib)
    parts = []
    for q in lib.questions.values():
        if q.record_only:
            continue
        open_mask = np.array([q.id not in answers.get(d, {}) for d in ids])
        if not open_mask.any():
            continue
        best_value = best_answer(q, ref, lib.scoring.dimension_weights)
        best_answers = {d: {**answers.get(d, {}), q.id: best_value} for d in ids}
        best = score(frame, best_answers, lib, probabilities)
        best_loss = expected_losses_exact(frame, best, lib)
        part = pd.DataFrame({
            "deployment_id": ids, "name": frame["name"].astype(str).to_numpy(), "question_id": q.id,
            "question": q.text,
            "score_best": best.table["score"].to_numpy(), "score_worst": worst.table["score"].to_numpy(),
            "rating_best": best.table["rating"].to_numpy(), "rating_worst": worst.table["rating"].to_numpy(),
            "loss_best_usd": best_loss, "loss_worst_usd": worst_loss,
        })[open_mask]
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out["score_range"] = out["score_worst"] - out["score_best"]
    out["loss_range_usd"] = out["loss_worst_usd"] - out["loss_best_usd"]
    out["rating_changes"] = out["rating_best"] != out["rating_worst"]
    out = out[(out["score_range"] > 1e-9) | (out["loss_range_usd"] > 1e-6)]
    out = out.sort_values(["rating_changes", "loss_range_usd", "score_range", "deployment_id", "question_id"],
                          ascending=[False, False, False, True, True], kind="stable")
    return out[cols].reset_index(drop=True)


def completion(frame: pd.DataFrame, answers: AnswerMap, questions: Mapping[str, Question],
               by: str) -> pd.DataFrame:
    """Answered share per group (business_unit, model_vendor, owner, channel)."""
    n_q = len(questions)
    answered = frame["deployment_id"].astype(str).map(
        lambda d: sum(1 for q in answers.get(d, {}) if q in questions))
    g = pd.DataFrame({"group": frame[by].astype(str).replace("", "(unassigned)").to_numpy(),
                      "answered": answered.to_numpy(), "full": (answered == n_q).to_numpy()})
    out = g.groupby("group", sort=True).agg(deployments=("answered", "size"), answered=("answered", "sum"),
                                            fully_answered=("full", "sum"))
    out["questions"] = out["deployments"] * n_q
    out["completion_pct"] = 100 * out["answered"] / out["questions"].clip(lower=1)
    return out.reset_index().sort_values(["completion_pct", "group"], kind="stable").reset_index(drop=True)
