"""Fallback recommender: for every deployment, every option of config/fallbacks.yaml — feasible or
not (with reasons) — and, for feasible ones, the residual score and expected loss of *the
deployment as it would be after the option* (risk_models.fallbacks.target_state), scored by the same engine.

Risk and cost stay apart. Options are ranked by the expected loss they avoid a year per dollar spent
once (one-off cost — option cost, rebuilt proprietary features, stranded commitment — plus the option's
own effort at the person-week cost); the change in running cost, priced from the price table
(risk_models.fallbacks.run_cost; "unknown" where a price is not listed), is its own column and never
enters the ranking. An option is never the top recommendation unless it lowers the expected loss and
the loss it avoids over the payback period repays what it costs once — except an option a regulation
requires for the deployment (DORA Art. 28(8): a tested exit), which is shown as a requirement, first.
The recommended *exit target* is the best switch (another channel, model or vendor) that lowers the
expected loss; where none does, the least-bad switch is named apart. Contract and process levers are
supporting actions.

(Over 500 lines: the recommender's arrays and the readers of those arrays — ranked records, targets,
verdicts — are one data structure.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import pandas as pd

from risk_models.config.domain import DataSensitivity
from risk_models.config.loader import Library
from risk_models.config.schema import FallbackOption
from risk_models.engine.assessment import Assessment
from risk_models.engine.score import Scores, contract_position, feature_count, score
from risk_models.engine.simulation import expected_losses_exact
from risk_models.fallbacks.run_cost import run_cost_deltas
from risk_models.fallbacks.target_state import apply_option, switch_target
from risk_models.inventory.plausibility import availability_message
from risk_models.inventory.regions import CLOUD_LABELS
from risk_models.inventory.tasks import TASK_LABELS, inputs_of, task_kinds
from risk_models.io.identity import identity_codes
from risk_models.questionnaire.answers import AnswerMap

SENSITIVITY_ORDER = [s.value for s in DataSensitivity]


def may_leave_region(frame: pd.DataFrame, answers: AnswerMap) -> np.ndarray:
    """Per deployment: may its data leave its region (questionnaire answer; default no)."""
    return np.array([answers.get(d, {}).get("data_may_leave_region") == "yes" for d in frame["deployment_id"].tolist()],
                    dtype=bool)


CODED_COLUMNS = ("channel", "model", "model_vendor", "region", "jurisdiction", "data_sensitivity",
                 "proprietary_features")


def coded_columns(frame: pd.DataFrame, lib: Library) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(codes, distinct values) of the columns the feasibility checks read, and of the task kind (from
    the model): each option's checks then work on a few distinct values instead of 20,000 strings."""
    out = {}
    for c in CODED_COLUMNS:
        codes, uniq = pd.factorize(frame[c].astype(str))
        out[c] = (codes, np.asarray(uniq, dtype=object))
    codes, uniq = out["model"]
    kind_codes, kinds = pd.factorize(task_kinds(pd.Series(uniq, dtype=object), lib))
    out["task_kind"] = (kind_codes[codes] if len(uniq) else codes, np.asarray(kinds, dtype=object))
    return out


@dataclass
class SwitchTargets:
    """Per deployment, where a switch takes it (risk_models.fallbacks.target_state.switch_target) and
    what stands in the way: the option has no model of its task kind, its cloud has no region there,
    or the availability table does not offer the target model there."""

    model: np.ndarray  # (n,) object: target model, None where the option has none of the row's kind
    vendor: np.ndarray  # (n,) object: its vendor
    region: np.ndarray  # (n,) object: target region, None where the target cloud has none there
    jurisdiction: np.ndarray  # (n,) object: its jurisdiction group
    no_region: list[str | None]  # per combination: why no region, or None
    unavailable: list[str | None]  # per combination: the availability table's warning, or None
    combo: np.ndarray  # (n,) index into the per-combination lists

    def frame(self, rows: np.ndarray) -> pd.DataFrame:
        """The target of these rows, as target_state.switch_target gives it."""
        return pd.DataFrame({c: getattr(self, a)[rows] for c, a in zip(TARGET_COLUMNS, TARGET_FIELDS, strict=True)})


def switch_targets(lib: Library, option: FallbackOption, coded: dict[str, tuple[np.ndarray, np.ndarray]]
                   ) -> SwitchTargets:
    """Where the switch takes every row, worked out once per distinct (model, region, jurisdiction)."""
    (m, m_u), (r, r_u), (j, j_u) = coded["model"], coded["region"], coded["jurisdiction"]
    key = (m.astype(np.int64) * max(len(r_u), 1) + r) * max(len(j_u), 1) + j
    uniq, first, combo = np.unique(key, return_index=True, return_inverse=True)
    rows = pd.DataFrame({"model": m_u[m[first]], "region": r_u[r[first]], "jurisdiction": j_u[j[first]]})
    t = switch_target(rows["model"], rows["region"], rows["jurisdiction"], option, lib)
    channel = option.target_channel or ""
    cloud = lib.channels.channels[channel].region_codes if channel in lib.channels.channels else None
    no_region = [None if pd.notna(tr) else
                 f"{lib.channel_label(channel)} has no {CLOUD_LABELS.get(cloud or '', cloud)} region in the "
                 f"jurisdiction of {reg}" for tr, reg in zip(t["region"], rows["region"], strict=True)]
    unavailable = [availability_message(lib, channel, tv, tm, tj) if pd.notna(tm) and pd.notna(tj) else None
                   for tm, tv, tj in zip(t["model"], t["model_vendor"], t["jurisdiction"], strict=True)]
    combo = combo.reshape(-1)
    model, vendor, region, jur = (np.array([x if isinstance(x, str) else None for x in t[c]] or [None],
                                           dtype=object)[combo] for c in TARGET_COLUMNS)
    return SwitchTargets(model, vendor, region, jur, no_region, unavailable, combo)


TARGET_COLUMNS = ("model", "model_vendor", "region", "jurisdiction")
TARGET_FIELDS = ("model", "vendor", "region", "jurisdiction")


def infeasibility(frame: pd.DataFrame, may_leave: np.ndarray, lib: Library, option: FallbackOption,
                  coded: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                  targets: SwitchTargets | None = None) -> list[list[str]]:
    """Per deployment, the reasons the option does not fit (empty list = feasible). Rows with the
    same reasons share one list (a few distinct combinations over 20,000 rows): read-only.
    `coded`: coded_columns(frame) when the caller checks several options on the same rows; `targets`:
    switch_targets of the option on those rows, when the caller has them already."""
    n = len(frame)
    coded = coded if coded is not None else coded_columns(frame, lib)
    messages: list[str] = []
    checks: list[np.ndarray] = []  # per check, (n,) index into messages or -1

    def add(mask: np.ndarray, message: str | None = None, keys: np.ndarray | None = None,
            texts: list[str] | None = None) -> None:
        """A reason where `mask`: one fixed message, or texts[keys[row]] (keys: integer codes)."""
        ids = np.full(n, -1)
        base = len(messages)
        if message is not None:
            messages.append(message)
            ids[mask] = base
        else:
            messages.extend(texts)
            ids[mask] = base + keys[mask]
        checks.append(ids)

    def isin(col: str, values) -> np.ndarray:
        codes, uniq = coded[col]
        return np.isin(uniq, list(values))[codes] if len(uniq) else np.zeros(n, dtype=bool)

    (jur, jur_u), (sens, sens_u) = coded["jurisdiction"], coded["data_sensitivity"]
    at = option.applies_to
    if at.channels:
        add(~isin("channel", at.channels), f"applies to {', '.join(lib.channel_label(c) for c in at.channels)} deployments only")
    if at.vendors:
        add(~isin("model_vendor", at.vendors), f"applies to {', '.join(lib.vendor_label(v) for v in at.vendors)} models only")
    if option.is_switch:
        targets = targets if targets is not None else switch_targets(lib, option, coded)
        kinds = option.after.models
        if kinds:  # a switch keeps the task kind: no model of the deployment's kind, no target
            (task, task_u), offered = coded["task_kind"], ", ".join(TASK_LABELS[k] for k in kinds)
            add(~isin("task_kind", kinds), keys=task,
                texts=[f"no {TASK_LABELS.get(k, k)} model on this option (it offers {offered} models)" for k in task_u])
        there = isin("channel", [option.target_channel])
        if kinds:  # another model of the same vendor on the same channel is the same place
            vendor, vendor_u = coded["model_vendor"]
            there &= targets.vendor == vendor_u[vendor]
        add(there, "the deployment already runs there")
        for texts in (targets.no_region, targets.unavailable):  # the target state must be plausible
            add(np.array([t is not None for t in texts], dtype=bool)[targets.combo], keys=targets.combo,
                texts=[t or "" for t in texts])
    allowed = [j.value for j in option.allowed_jurisdictions]
    region_bound = ~may_leave | isin("data_sensitivity", ["regulated"])
    served = ", ".join(a.upper().replace("ON_PREM", "on-prem") for a in allowed)
    outside = ~isin("jurisdiction", allowed)
    pair = jur * max(len(sens_u), 1) + sens  # one code per (jurisdiction, sensitivity)
    stay = [f"{j.upper().replace('ON_PREM', 'on-prem')} {s} data must stay in its region; "
            f"this option serves {served} regions only" for j in jur_u for s in sens_u]
    add(outside & region_bound, keys=pair, texts=stay)
    if option.is_switch and option.after.region is None:
        add(outside & ~region_bound, f"this option serves {served} regions only and names no region to move to")
    limit = SENSITIVITY_ORDER.index(option.max_sensitivity.value)
    too = [SENSITIVITY_ORDER.index(v) > limit if v in SENSITIVITY_ORDER else False for v in sens_u]
    add(np.array(too + [False], dtype=bool)[sens],  # code -1 never exceeds
        keys=sens, texts=[f"{v} data exceeds what this option allows ({option.max_sensitivity.value})" for v in sens_u])
    if option.is_switch and option.cannot_replace_features:
        codes, uniq = coded["proprietary_features"]  # a few distinct combinations
        cannot = {c.value for c in option.cannot_replace_features}
        blocked = [", ".join(sorted(set(u.split(";")) & cannot)) for u in uniq]
        add(np.array([b != "" for b in blocked] + [False], dtype=bool)[codes], keys=codes,
            texts=[f"uses {b}: no equivalent on target" for b in blocked])
    if not checks or not n:
        return [[] for _ in range(n)]
    base = len(messages) + 1
    key = np.zeros(n, dtype=np.int64)
    for ids in checks:  # one integer per combination of reasons (a few checks, a few dozen messages)
        key = key * base + (ids + 1)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    lists = [[messages[c[first_row]] for c in checks if c[first_row] >= 0] for first_row in first.tolist()]
    return [lists[c] for c in inverse.tolist()]


@dataclass(frozen=True)
class RankedArrays:
    """Option records of a run of deployments, flat over (deployment, option) in ranked order."""

    option_index: np.ndarray  # which option each record is
    option_ids: np.ndarray
    columns: dict[str, np.ndarray]  # OPTION_FIELDS after option_id (effort_weeks: (records, 2)); run cost NaN = unknown
    reason_codes: np.ndarray  # per record, its reasons in reason_table (an empty list where feasible)
    reason_table: list[list[str]]  # the distinct lists of reasons
    retraining: np.ndarray  # (records, 2) person-weeks
    retrained: np.ndarray  # records with re-training (fine-tuned deployments on a switch)


@dataclass
class Recommendations:
    """Per option arrays over deployments; `records(i)` turns them into one deployment's ranked list."""

    options: list[FallbackOption]
    reasons: list[list[list[str]]]  # [option][deployment] -> reasons
    residual: np.ndarray  # (options, n) score after the option (current score where infeasible)
    residual_loss: np.ndarray  # (options, n) expected annual loss after the option
    current: np.ndarray  # (n,)
    current_loss: np.ndarray  # (n,)
    spend: np.ndarray  # (n,)
    effort: np.ndarray  # (options, n, 2) person-weeks low/high, incl. rebuilding proprietary features
    one_off: np.ndarray  # (options, n) USD: option cost + feature rebuild + stranded commitment
    stranded: np.ndarray  # (options, n) USD committed spend a switch strands
    payback_years: float
    run_cost_delta: np.ndarray  # (options, n) USD a year, NaN = unknown (no listed price)
    required: np.ndarray  # (options, n) bool: a regulation requires the option for the deployment
    person_week_usd: float
    target_model: np.ndarray  # (options, n) object: the model a switch moves to (None for levers)
    capability_gap: np.ndarray  # (options, n) object: low/medium/high for this deployment
    retraining: np.ndarray  # (options, n, 2) person-weeks re-training a fine-tuned deployment (in effort)
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        n_opt, n = len(self.options), len(self.current)
        # the distinct reason lists (rows with the same reasons share one list) and, per option and
        # deployment, which one applies: whole arrays for the 20,000-row report
        self._reason_table: list[list[str]] = []
        self._reason_codes = np.zeros((n_opt, n), dtype=np.int64)
        for k, per_dep in enumerate(self.reasons):
            first, codes = identity_codes(per_dep)
            self._reason_codes[k] = len(self._reason_table) + codes
            self._reason_table += [per_dep[f] for f in first.tolist()]
        infeasible = np.array([bool(r) for r in self._reason_table] + [False], dtype=bool)
        self._feasible = ~infeasible[self._reason_codes] if n else np.ones((n_opt, 0), dtype=bool)
        self.loss_avoided = np.where(self._feasible, self.current_loss[None, :] - self.residual_loss, 0.0)
        own_weeks = np.array([np.mean(o.effort_weeks) for o in self.options])[:, None]
        #: what acting costs once: the one-off cost and the option's own effort (rebuilt features are in one_off)
        self.cost_once = self.one_off + own_weeks * self.person_week_usd
        # risk per dollar spent once; the run-cost change is never part of it
        self.loss_avoided_per_usd = np.where(self._feasible, self.loss_avoided / np.maximum(self.cost_once, 1.0), 0.0)
        lowers = np.round(self.loss_avoided, 2) > 0
        self._repays = self._feasible & lowers & (self.loss_avoided * self.payback_years > self.cost_once)
        changes = lowers | (np.round(self.current[None, :] - self.residual, 2) > 0)
        self._must = self._feasible & self.required & changes  # a requirement not met yet
        # order per deployment: requirements not met yet, then options that lower the expected loss and
        # repay their one-off cost within the payback period (most loss avoided per dollar first), then
        # the other feasible ones, then the infeasible ones; ties by config order. A cheaper target that
        # is riskier is never recommended.
        group = np.where(self._must, 0, np.where(self._repays, 1, np.where(self._feasible, 2, 3)))
        idx = np.arange(n_opt)[:, None].repeat(n, axis=1)
        self._order = np.lexsort((idx, -self.loss_avoided_per_usd, group), axis=0)
        self._switch = np.array([o.is_switch for o in self.options], dtype=bool)
        self._lowers = self._feasible & lowers

    def reason_lists(self) -> list[list[str]]:
        """The distinct lists of reasons an option does not fit, in a fixed order."""
        return self._reason_table

    def feasible(self) -> np.ndarray:
        """(options, n) bool."""
        return self._feasible

    def top(self, i: int) -> int | None:
        """The best option for deployment i: a requirement not met yet, or one that lowers the expected
        loss and repays its one-off cost within the payback period; None if there is none."""
        first = int(self._order[0, i])
        return first if self._must[first, i] or self._repays[first, i] else None

    def exit_targets(self) -> np.ndarray:
        """(n,) per deployment the best feasible switch (another channel, model or vendor) that lowers
        the expected loss, whatever its cost; -1 where no switch does."""
        if "exit" not in self._cache:
            ok = np.take_along_axis(self._switch[:, None] & self._lowers, self._order, axis=0)
            first = ok.argmax(axis=0)
            self._cache["exit"] = np.where(ok.any(axis=0), self._order[first, np.arange(ok.shape[1])], -1)
        return self._cache["exit"]

    def decisions(self, n: int = 3) -> list[tuple[int, int]]:
        """The committee's decisions: up to n (deployment, option) exit targets that avoid the most expected
        loss per dollar spent once (the PDF's `decisions` reads the same from the report records)."""
        exits = self.exit_targets()
        rows = np.flatnonzero(exits >= 0)
        key = self.loss_avoided_per_usd[exits[rows], rows]
        pick = rows[np.argsort(-key, kind="stable")[:n]]
        return [(int(i), int(exits[i])) for i in pick]

    def least_bad_switches(self) -> np.ndarray:
        """(n,) where no switch lowers the expected loss: the feasible switch that raises it least (ties
        by config order); -1 where a switch lowers it or none is feasible."""
        if "least_bad" not in self._cache:
            ok = self._switch[:, None] & self._feasible
            best = np.where(ok, self.loss_avoided, -np.inf).argmax(axis=0)
            self._cache["least_bad"] = np.where(ok.any(axis=0) & (self.exit_targets() < 0), best, -1)
        return self._cache["least_bad"]

    def supporting(self, i: int, limit: int = 3) -> list[int]:
        """Up to `limit` feasible levers (not switches) that are required or repay their one-off cost, best
        first: the exit plan's supporting actions. Selected for every deployment at once on first use."""
        if "support" not in self._cache:
            ok = ~self._switch[:, None] & (self._must | self._repays)
            ranked_ok = np.take_along_axis(ok, self._order, axis=0)
            pick = ranked_ok & (np.cumsum(ranked_ok, axis=0) <= limit)
            rows, pos = np.nonzero(pick.T)
            ks = self._order.T[rows, pos]
            self._cache["support"] = (ks, np.searchsorted(rows, np.arange(pick.shape[1] + 1)))
        ks, bounds = self._cache["support"]
        return ks[bounds[i]:bounds[i + 1]].tolist()

    def exit_target(self, i: int) -> int | None:
        k = int(self.exit_targets()[i])
        return None if k < 0 else k

    def least_bad_switch(self, i: int) -> int | None:
        k = int(self.least_bad_switches()[i])
        return None if k < 0 else k

    def catalogue(self) -> list[dict]:
        """What each option is, the same for every deployment (the JSON report lists it once)."""
        return [{"option_id": o.id, "label": o.label, "kind": o.kind, "channel": o.target_channel,
                 "vendor": o.target_vendor, "model": o.after.model, "models": dict(o.after.models),
                 "jurisdictions": [j.value for j in o.allowed_jurisdictions],
                 "run_cost_basis": "price_table" if o.is_switch else "assumption",
                 "run_cost_delta_pct": o.run_cost_delta_pct,
                 "required_by": o.required_by.label if o.required_by else None, "capability_gap": o.capability_gap}
                for o in self.options]

    def ranked_records(self, start: int, stop: int) -> list[list[dict]]:
        """Per deployment in [start, stop): what every option does there, one record per option, best
        first (without the option's own description: `catalogue`); `reasons` only where it is infeasible.
        The one builder of these fields for every front end (the JSON writer serialises the same
        `ranked_arrays`); call it on chunks of rows to keep memory bounded. `with_flags` adds what a
        record implies."""
        ra = self.ranked_arrays(start, stop)
        n_opt = len(self.options)
        cols = [[None if r != r else r for r in c.tolist()] if name == "run_cost_delta_usd" else c.tolist()
                for name, c in ra.columns.items()]  # NaN run cost: unknown (no listed price)
        # flat lists and one map over all m x options records: several times faster than nested lists
        recs = list(map(dict, map(zip, repeat(OPTION_FIELDS), zip(ra.option_ids.tolist(), *cols))))  # noqa: B905
        for p in np.flatnonzero(~ra.columns["feasible"]).tolist():
            recs[p]["reasons"] = ra.reason_table[ra.reason_codes[p]]
        for p in ra.retrained.tolist():  # fine-tuned deployments on a switch only
            recs[p]["retraining_weeks"] = ra.retraining[p].tolist()
        return [recs[j * n_opt:(j + 1) * n_opt] for j in range(len(recs) // n_opt)]

    def ranked_arrays(self, start: int, stop: int) -> RankedArrays:
        """The option records of deployments [start, stop) as flat arrays over (deployment, option) in each
        deployment's ranked order, rounded as reported."""
        s = slice(start, stop)
        rank = self._order[:, s].T  # (m, options)
        feas = self._feasible[:, s]
        current, current_loss = self.current[None, s], self.current_loss[None, s]

        def ranked(a: np.ndarray) -> np.ndarray:
            """a: (options, m) -> flat (m x options) in ranked order."""
            return np.take_along_axis(a.T, rank, axis=1).ravel()

        def weeks(a: np.ndarray) -> np.ndarray:
            """(options, m, 2) -> (m x options, 2) in ranked order, rounded to a tenth."""
            return np.take_along_axis(np.round(a[:, s, :], 1).transpose(1, 0, 2), rank[:, :, None], 1).reshape(-1, 2)

        def take(a: np.ndarray, digits: int = 2) -> np.ndarray:
            return np.round(ranked(a), digits)

        feasible = ranked(feas)
        columns = dict(zip(OPTION_FIELDS[1:], [
            feasible, weeks(self.effort),
            take(np.where(feas, current - self.residual[:, s], 0.0)),
            take(np.where(feas, self.residual[:, s], current)),
            take(np.where(feas, self.residual_loss[:, s], current_loss)),
            take(self.loss_avoided[:, s]), take(self.one_off[:, s]), take(self.stranded[:, s]),
            take(self.run_cost_delta[:, s]), take(self.loss_avoided_per_usd[:, s], 4), ranked(self._repays[:, s]),
            ranked(self.required[:, s]), ranked(self.target_model[:, s]), ranked(self.capability_gap[:, s])], strict=True))
        retraining = weeks(self.retraining)
        return RankedArrays(rank.ravel(), np.array([o.id for o in self.options], dtype=object)[rank].ravel(),
                            columns, ranked(self._reason_codes[:, s]), self._reason_table, retraining,
                            np.flatnonzero(retraining[:, 1] > 0))

    def records(self, i: int, lib: Library | None = None) -> list[dict]:
        """Deployment i's options, best first, each with its description (the app's fallback table)."""
        static = self.catalogue()
        index = {o.id: k for k, o in enumerate(self.options)}
        return [static[index[r["option_id"]]] | with_flags(r) for r in self.ranked_records(i, i + 1)[0]]

    def record(self, k: int, i: int) -> dict:
        """Option k for deployment i: what the option is and what it does there."""
        return next(r for r in self.records(i) if r["option_id"] == self.options[k].id)

    def ranked(self, i: int) -> list[int]:
        """Option indices for deployment i, best first."""
        return self._order[:, i].tolist()


OPTION_FIELDS = ("option_id", "feasible", "effort_weeks", "risk_reduction", "residual_score",
                 "residual_expected_loss_usd", "expected_loss_reduction_usd", "one_off_cost_usd",
                 "stranded_commitment_usd", "run_cost_delta_usd", "loss_avoided_per_usd", "repays_one_off",
                 "required", "target_model", "capability_gap")


def with_flags(r: dict) -> dict:
    """An option record with what its rounded figures imply, as people read it: no reasons when feasible,
    costs more than it saves (the loss it avoids over the payback period does not repay what it costs
    once — never said of a regulatory requirement), raises the expected loss (negative reduction),
    run cost unknown (no listed price), no re-training (0 weeks) unless it is a fine-tuned deployment's switch."""
    ok = r["feasible"]
    return r | {"reasons": r.get("reasons", []), "retraining_weeks": r.get("retraining_weeks", [0.0, 0.0]),
                "costs_more_than_it_saves": ok and not r["required"] and not r["repays_one_off"],
                "raises_expected_loss": ok and r["expected_loss_reduction_usd"] < 0,
                "run_cost_unknown": r["run_cost_delta_usd"] is None}


def option_verdict(r: dict) -> str:
    """What an option record means, in words (the app's Fallbacks table and the XLSX say the same)."""
    if not r["feasible"]:
        return "not feasible"
    if r["required"]:
        met = r["risk_reduction"] <= 0 and r["expected_loss_reduction_usd"] <= 0
        return f"required ({r.get('required_by') or 'regulation'})" + (" — already in place" if met else "")
    if r["raises_expected_loss"]:
        return "raises expected loss"
    return "one-off not repaid by the loss avoided" if r["costs_more_than_it_saves"] else "loss avoided repays the one-off"


def recommend(frame: pd.DataFrame, answers: AnswerMap, lib: Library, scores: Scores,
              probabilities: dict[str, float] | None = None) -> Recommendations:
    options = lib.fallbacks.options
    n = len(frame)
    base_loss = expected_losses_exact(frame, scores, lib)
    current = scores.table["score"].to_numpy()
    may_leave = may_leave_region(frame, answers)
    coded = coded_columns(frame, lib)
    residual = np.repeat(current[None, :], len(options), axis=0)
    residual_loss = np.repeat(base_loss[None, :], len(options), axis=0)
    target_model = np.full((len(options), n), None, dtype=object)
    reasons = []
    for k, o in enumerate(options):
        targets = switch_targets(lib, o, coded) if o.is_switch else None
        if targets is not None:
            target_model[k] = targets.model
        why = infeasibility(frame, may_leave, lib, o, coded, targets)
        reasons.append(why)
        rows = np.flatnonzero([not r for r in why])
        if not len(rows):
            continue
        sub = frame.iloc[rows].reset_index(drop=True)
        after_frame, after_answers = apply_option(sub, answers, o, lib,
                                                  target=targets.frame(rows) if targets is not None else None)
        # a lever keeps channel, vendor, region and features: the severities are the same rows'
        # (unless it secures an answer that scales some events' severity)
        scoped = any(lib.questions[q].scope_events for q in o.after.answers if q in lib.questions)
        same = None if o.is_switch or scoped else scores.profiles.subset(rows)
        after = score(after_frame, after_answers, lib, probabilities, profiles=same, lean=True)
        residual[k, rows] = after.table["score"].to_numpy()
        residual_loss[k, rows] = expected_losses_exact(after_frame, after, lib)
    effort = _effort(frame, lib)
    stranded = _stranded(frame, lib)
    rebuild_usd = (effort.mean(axis=2) - np.array([np.mean(o.effort_weeks) for o in options])[:, None]) \
        * lib.assumptions.person_week_usd.value
    one_off = np.array([o.one_off_cost_usd for o in options])[:, None] + rebuild_usd + stranded
    gap, retraining = _capability(frame, lib, coded, target_model)
    return Recommendations(options, reasons, residual, residual_loss, current, base_loss,
                           frame["annual_spend_usd"].to_numpy(float), effort, one_off.reshape(len(options), n),
                           stranded, float(lib.assumptions.payback_years.value), run_cost_deltas(frame, lib, options, target_model),
                           required_options(frame, lib), float(lib.assumptions.person_week_usd.value), target_model, gap,
                           retraining)


def required_options(frame: pd.DataFrame, lib: Library) -> np.ndarray:
    """(options, n): the option is required of the deployment by a regime of the organisation's profile
    (e.g. DORA Art. 28(8) for deployments supporting critical or important functions)."""
    regimes = set(lib.profile.regimes)
    crit = frame["criticality"].astype(str).to_numpy()
    out = np.zeros((len(lib.fallbacks.options), len(frame)), dtype=bool)
    for k, o in enumerate(lib.fallbacks.options):
        rb = o.required_by
        if rb is not None and rb.regime in regimes:
            out[k] = np.isin(crit, [c.value for c in rb.criticality])
    return out


GAP_LEVELS = ("low", "medium", "high")


def _capability(frame: pd.DataFrame, lib: Library, coded: dict[str, tuple[np.ndarray, np.ndarray]],
                target_model: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(options, n) capability gap per deployment and (options, n, 2) re-training weeks. A switch is one
    level worse for a fine-tuned deployment (the tuned behaviour is gone until it is re-trained on the
    target; the re-training is its fine-tuning feature rebuild, already in the effort) and one level
    worse where the target model takes in less than the current one (e.g. no images)."""
    options = lib.fallbacks.options
    n = len(frame)
    codes, feats = coded["proprietary_features"]
    tuned = np.array(["fine_tuning" in f.split(";") for f in feats] + [False], dtype=bool)[codes]
    m, m_u = coded["model"]
    inputs = {name: inputs_of(lib, name) for name in m_u.tolist()}
    switch = np.array([o.is_switch for o in options], dtype=bool)
    level = np.array([GAP_LEVELS.index(o.capability_gap) for o in options])[:, None] + np.zeros((1, n), dtype=int)
    level += switch[:, None] & tuned[None, :]
    for k in np.flatnonzero(switch).tolist():  # per distinct (current, target) model pair
        t, t_u = pd.factorize(pd.Series(target_model[k], dtype=object))  # None -> -1
        key = m.astype(np.int64) * (len(t_u) + 1) + (t + 1)
        uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
        losing = [t[i] >= 0 and not inputs_of(lib, t_u[t[i]]) >= inputs[m_u[m[i]]] for i in first.tolist()]
        level[k] += np.array(losing, dtype=bool)[inv.reshape(-1)] if len(uniq) else 0
    gap = np.asarray(GAP_LEVELS, dtype=object)[np.minimum(level, len(GAP_LEVELS) - 1)]
    weeks = np.array(lib.fallbacks.feature_rebuild_weeks, dtype=float)
    retraining = (switch[:, None] & tuned[None, :])[:, :, None] * weeks[None, None, :]
    return gap.reshape(len(options), n), retraining.reshape(len(options), n, 2)


def _stranded(frame: pd.DataFrame, lib: Library) -> np.ndarray:
    """(options, n): a switch before the contract ends strands the remaining commitment."""
    _, expired = contract_position(frame, lib.reference_date)
    committed = np.where(expired, 0.0, frame["committed_spend_usd"].to_numpy(float))
    return np.array([committed if o.is_switch else np.zeros(len(frame)) for o in lib.fallbacks.options]).reshape(
        len(lib.fallbacks.options), len(frame))


def _effort(frame: pd.DataFrame, lib: Library) -> np.ndarray:
    """(options, n, 2): the option's own effort plus rebuilding each proprietary feature it replaces."""
    per = np.array(lib.fallbacks.feature_rebuild_weeks)
    out = np.empty((len(lib.fallbacks.options), len(frame), 2))
    n_feats = feature_count(frame)
    for k, o in enumerate(lib.fallbacks.options):
        n = n_feats if o.is_switch else np.zeros(len(frame))
        out[k] = np.array(o.effort_weeks)[None, :] + n[:, None] * per[None, :]
    return out


def recommendations_of(a: Assessment) -> Recommendations:
    """Fallback options for every deployment of an assessment (computed once, on first use)."""
    if a._recommendations is None:
        a._recommendations = recommend(a.frame, a.answers, a.lib, a.residual, a.probabilities)
    return a._recommendations  # type: ignore[return-value]
