"""Case watch: one record per case or proceeding of the scenario pack — where it runs, its status and
next date, the deployments it reaches and through which path, the expected loss it carries, the loss if
its adverse outcome happens, and the option that removes most of its exposure; and the dated things to
watch (case milestones, contract notice deadlines, reviews due) in one list."""

from __future__ import annotations

import datetime as dt

import numpy as np
from pydantic import BaseModel

from risk_models.config.labels import human
from risk_models.config.loader import Library
from risk_models.config.schema import Event, Milestone, Source
from risk_models.dora.review import review_schedule
from risk_models.dora.spec import load_review_policy
from risk_models.engine.assessment import Assessment, assess
from risk_models.engine.lenses import event_outcomes, expected_loss_of
from risk_models.engine.score import score, stressed_probabilities
from risk_models.engine.simulation import expected_loss_components, expected_losses_exact
from risk_models.fallbacks.target_state import apply_option

MIN_LOSS_USD = 0.5  # a deployment is "reached" when the case carries at least this expected loss for it


class Reached(BaseModel):
    deployment_id: str
    name: str
    path: str  # model vendor -> channel -> hosting cloud, as people read it
    expected_loss_usd: float
    loss_if_adverse_usd: float


class CaseOutcome(BaseModel):
    id: str
    label: str
    probability: float
    confidence: str
    adverse: bool  # has impacts that raise losses


class BestOption(BaseModel):
    option_id: str
    label: str
    loss_removed_usd: float  # of the case's expected loss, over the deployments it reaches
    deployments: int  # for how many of them the option is feasible


class CaseRecord(BaseModel):
    event_id: str
    label: str
    kind: str
    forum: str
    reference: str | None
    status: str
    status_as_of: dt.date | None
    milestones: list[Milestone]
    next_milestone: Milestone | None
    sources: list[Source]
    outcomes: list[CaseOutcome]
    adverse_outcome: str | None  # the outcome whose loss, if it happens, is the largest
    reached: list[Reached]
    expected_loss_usd: float  # attributable to this case, whole portfolio
    loss_if_adverse_usd: float  # portfolio expected loss with the adverse outcome certain, minus today's
    best_option: BestOption | None


def _path(a: Assessment, channel: str, vendor: str) -> str:
    """Model vendor → channel → the cloud that hosts the channel (config/channels.yaml `hosted_on`: the OpenAI
    API runs on Microsoft's cloud), as people read them."""
    ch = a.lib.channels.channels.get(channel)
    cloud = human("cloud", ch.hosting_cloud) if ch else "—"
    return f"{a.lib.vendor_label(vendor)} → {a.lib.channel_label(channel)} → {cloud}"


def stressed_probabilities_of(a: Assessment, outcome_id: str) -> dict[str, float]:
    """The assessment's probabilities with `outcome_id` certain (its siblings impossible)."""
    return {**a.probabilities, **stressed_probabilities(a.lib, [outcome_id])}


def next_milestone(event: Event, today: dt.date) -> Milestone | None:
    ahead = [m for m in (event.case.milestones if event.case else []) if m.date >= today]
    return min(ahead, key=lambda m: m.date) if ahead else None


def _adverse(a: Assessment, event: Event) -> tuple[str | None, np.ndarray]:
    """The event's outcome with the largest portfolio loss if it happens (one-hot weights), and the
    per-deployment loss if it does (exact stress: the outcome certain, its siblings impossible)."""
    ids = a.residual.outcomes.ids
    best, best_loss = None, 0.0
    for o in event.outcomes:
        one = np.array([i == o.id for i in ids], dtype=float)
        # loss given the outcome: the closed form with its annual frequency set to 1 (one occurrence)
        given = expected_loss_components(a.frame, a.residual, a.lib, one / np.maximum(a.residual.outcomes.frequency, 1e-12))
        total = float(given.sum())
        if total > best_loss + 1e-9:
            best, best_loss = o.id, total
    if best is None:
        return None, np.zeros(len(a.frame))
    stressed = score(a.frame, a.answers, a.lib, stressed_probabilities_of(a, best), lean=True)
    return best, expected_losses_exact(a.frame, stressed, a.lib)


class _OptionStates:
    """Every option applied once to the deployments it is feasible for (lean scores): the cases then
    only mask outcomes, instead of re-scoring per case."""

    def __init__(self, a: Assessment) -> None:
        from risk_models.fallbacks.recommend import recommendations_of

        self.a = a
        rec = recommendations_of(a)
        self.options = rec.options
        self.states: list[tuple[np.ndarray, object, object] | None] = []
        for k, o in enumerate(rec.options):
            rows = np.flatnonzero(rec.feasible()[k])
            if not len(rows):
                self.states.append(None)
                continue
            after_frame, after_answers = apply_option(a.frame.iloc[rows].reset_index(drop=True), a.answers, o, a.lib)
            self.states.append((rows, after_frame, score(after_frame, after_answers, a.lib, a.probabilities, lean=True)))

    def best(self, reached: np.ndarray, mask: np.ndarray, loss: np.ndarray) -> BestOption | None:
        """The switch or lever that removes most of the case's expected loss over the rows it reaches."""
        best: BestOption | None = None
        for o, state in zip(self.options, self.states, strict=True):
            if state is None:
                continue
            rows, after_frame, after = state
            keep = np.isin(rows, reached)
            if not keep.any():
                continue
            after_loss = expected_loss_components(after_frame, after, self.a.lib, mask).sum(axis=1)
            removed = float(loss[rows[keep]].sum() - after_loss[keep].sum())
            if removed > 0.5 and (best is None or removed > best.loss_removed_usd + 1e-9):
                best = BestOption(option_id=o.id, label=o.label, loss_removed_usd=round(removed, 2),
                                  deployments=int(keep.sum()))
        return best


def case_record(a: Assessment, event: Event, today: dt.date, options: _OptionStates | None = None) -> CaseRecord:
    mask = event_outcomes(a, event.id)
    loss = expected_loss_of(a, mask)
    adverse, if_adverse = _adverse(a, event)
    base = a.simulation.expected_by_deployment
    rows = np.flatnonzero((loss >= MIN_LOSS_USD) | (np.abs(if_adverse - base) >= MIN_LOSS_USD))
    rows = rows[np.argsort(-loss[rows], kind="stable")]
    ids, names, channels, vendors = (a.frame[c].astype(str).to_numpy()
                                     for c in ("deployment_id", "name", "channel", "model_vendor"))
    paths: dict[tuple[str, str], str] = {}  # a few distinct set-ups, thousands of rows
    reached = [Reached(deployment_id=ids[i], name=names[i],
                       path=paths.setdefault((channels[i], vendors[i]), _path(a, channels[i], vendors[i])),
                       expected_loss_usd=round(float(loss[i]), 2),
                       loss_if_adverse_usd=round(float(if_adverse[i] - base[i]), 2)) for i in rows]
    case = event.case
    adverse_ids = {o.id for o in event.outcomes if any(v > 0 for r in o.impacts for v in r.severity.values())}
    return CaseRecord(
        event_id=event.id, label=event.label, kind=case.kind if case else "other",
        forum=case.forum if case else "—", reference=case.reference if case else None,
        status=case.status if case else (event.description or "—"), status_as_of=case.status_as_of if case else None,
        milestones=sorted(case.milestones, key=lambda m: m.date) if case else [],
        next_milestone=next_milestone(event, today), sources=event.sources,
        outcomes=[CaseOutcome(id=o.id, label=o.label, probability=a.probabilities.get(o.id, o.probability),
                              confidence=o.confidence, adverse=o.id in adverse_ids) for o in event.outcomes],
        adverse_outcome=adverse, reached=reached, expected_loss_usd=round(float(loss.sum()), 2),
        loss_if_adverse_usd=round(float(if_adverse.sum() - base.sum()), 2),
        best_option=(options or _OptionStates(a)).best(rows, mask, loss) if len(rows) else None)


def case_records(a: Assessment, today: dt.date | None = None) -> list[CaseRecord]:
    """Every event of the scenario pack (not the operational baseline), the largest expected loss first."""
    today = today or a.lib.reference_date
    options = _OptionStates(a)
    out = [case_record(a, e, today, options) for e in a.lib.scenarios.events]
    return sorted(out, key=lambda c: (-c.expected_loss_usd, c.label))


def stress_case(a: Assessment, outcome_id: str) -> Assessment:
    """The assessment with one outcome certain: what `assess --stress OUTCOME` compares with."""
    return assess(a.inventory, a.answers, a.lib, stressed_probabilities_of(a, outcome_id),
                  trials=a.simulation.trials, seed=a.seed)


# --- dates to watch -----------------------------------------------------------------------------------

class WatchItem(BaseModel):
    date: dt.date
    kind: str  # "Case milestone", "Contract notice deadline", "Contract ends", "Model retirement", "Review due"
    title: str
    reassess: str
    source_url: str | None = None
    deployments: list[str] = []


def milestone_items(lib: Library, start: dt.date, end: dt.date) -> list[WatchItem]:
    """The scenario pack's case milestones from `start` to `end` (no inventory needed)."""
    items = []
    for e in lib.scenarios.events:
        for m in (e.case.milestones if e.case else []):
            if start <= m.date <= end:
                when = " (expected)" if m.expected else ""
                items.append(WatchItem(date=m.date, kind="Case milestone", title=f"{e.label}: {m.label}{when}",
                                       reassess=m.reassess or f"Re-assess the deployments {e.label} reaches; "
                                       "update the outcome probabilities if the step changes them.",
                                       source_url=m.source.url))
    return items


def _contract_items(a: Assessment, start: dt.date, end: dt.date) -> list[WatchItem]:
    """Per deployment with a contract end in or after the window: the last day to give notice
    (contract end minus the notice period answered, or the questionnaire's default), and the end."""
    q = a.lib.questions.get("notice_period_days")
    default = float(q.default) if q is not None and isinstance(q.default, int | float) else 0.0
    items = []
    for dep, name, ends in zip(a.frame["deployment_id"], a.frame["name"], a.frame["contract_end"], strict=True):
        if ends is None or (isinstance(ends, float) and np.isnan(ends)):
            continue
        days = a.answers.get(dep, {}).get("notice_period_days", default)
        notice = ends - dt.timedelta(days=int(days or 0))
        if start <= notice <= end and notice != ends:
            items.append(WatchItem(date=notice, kind="Contract notice deadline", title=f"{dep} {name}: last day to "
                                   f"give notice ({int(days)} days before the contract ends {ends:%d %b %Y})",
                                   reassess="Decide renew, renegotiate or exit; check the exit plan's target.",
                                   deployments=[dep]))
        if start <= ends <= end:
            items.append(WatchItem(date=ends, kind="Contract ends", title=f"{dep} {name}: contract ends",
                                   reassess="Rolling terms from here: price and notice can change unilaterally.",
                                   deployments=[dep]))
    return items


def _retirement_items(a: Assessment, start: dt.date, end: dt.date) -> list[WatchItem]:
    """The model retirement dates the firm recorded (question model_retirement_date), one item per date
    and model, naming the deployments that must have moved by then."""
    by_date: dict[tuple[dt.date, str], list[str]] = {}
    models = dict(zip(a.frame["deployment_id"], a.frame["model"], strict=True))
    for dep, answers in a.answers.items():
        when = answers.get("model_retirement_date")
        if isinstance(when, dt.date) and start <= when <= end and dep in models:
            by_date.setdefault((when, models[dep]), []).append(dep)
    return [WatchItem(date=d, kind="Model retirement", title=f"{model} retired ({len(deps)} deployment(s))",
                      reassess="Migrate to the successor model and re-test before this date; check the exit plan "
                               "and the target's availability.", deployments=sorted(deps))
            for (d, model), deps in by_date.items()]


def _review_items(a: Assessment, start: dt.date, end: dt.date,
                  last_reviewed: dict[str, dt.date]) -> list[WatchItem]:
    if not last_reviewed:  # never reviewed = due now for every row: one line says it, not one per row
        return []
    sched = review_schedule(a.frame, a.residual.table["rating"], last_reviewed, load_review_policy(), start)
    items = []
    for r in sched.itertuples(index=False):
        if r.last_reviewed is not None and start <= r.next_review <= end:
            items.append(WatchItem(date=r.next_review, kind="Review due", title=f"{r.deployment_id} {r.name}: "
                                   f"{r.rating} rating, reviewed every {r.interval_months} months",
                                   reassess="Review the deployment, its answers and its fallback.",
                                   deployments=[r.deployment_id]))
    return items


def watch_dates(a: Assessment, within_days: int = 90, today: dt.date | None = None,
                last_reviewed: dict[str, dt.date] | None = None) -> list[WatchItem]:
    """Every dated thing to act on from `today` (the assessment date) to `within_days` after it."""
    start = today or a.lib.reference_date
    end = start + dt.timedelta(days=within_days)
    items = (milestone_items(a.lib, start, end) + _contract_items(a, start, end) + _retirement_items(a, start, end)
             + _review_items(a, start, end, last_reviewed or {}))
    return sorted_items(items)


def sorted_items(items: list[WatchItem]) -> list[WatchItem]:
    return sorted(items, key=lambda w: (w.date, w.kind, w.title))


def cases_block(a: Assessment, within_days: int = 90, last_reviewed: dict[str, dt.date] | None = None) -> dict:
    """What the PDF, XLSX and Markdown carry about cases: every case and the dates to watch."""
    return {"as_of": a.lib.reference_date.isoformat(), "within_days": within_days,
            "cases": [c.model_dump(mode="json") for c in case_records(a)],
            "watch": [w.model_dump(mode="json") for w in watch_dates(a, within_days, last_reviewed=last_reviewed)]}


# --- what moved since the last pack ---------------------------------------------------------------------

def _case_changes(old: Event | None, new: Event | None, probs_old: dict, probs_new: dict) -> list[str]:
    if old is None:
        return ["new case in this pack"]
    if new is None:
        return ["no longer in the pack"]
    out = []
    co, cn = old.case, new.case
    if (co.status if co else None) != (cn.status if cn else None):
        out.append(f"status: {cn.status if cn else '—'}")
    mo = {(m.label, m.date) for m in (co.milestones if co else [])}
    mn = {(m.label, m.date) for m in (cn.milestones if cn else [])}
    by_label_old = {label: d for label, d in mo}
    for label, d in sorted(mn - mo, key=lambda x: x[1]):
        was = by_label_old.get(label)
        out.append(f"{label}: {was:%d %b %Y} → {d:%d %b %Y}" if was else f"new date {d:%d %b %Y}: {label}")
    for label, d in sorted(mo - mn, key=lambda x: x[1]):
        if label not in {lbl for lbl, _ in mn}:
            out.append(f"date removed: {label} ({d:%d %b %Y})")
    outcomes_old = {o.id: o for o in old.outcomes}
    for o in new.outcomes:
        before = probs_old.get(o.id, outcomes_old[o.id].probability) if o.id in outcomes_old else None
        after = probs_new.get(o.id, o.probability)
        if before is None:
            out.append(f"new outcome “{o.label}” ({after:.0%})")
        elif abs(before - after) > 1e-9:
            out.append(f"“{o.label}” {before:.0%} → {after:.0%}")
    out += [f"outcome removed: “{o.label}”" for oid, o in outcomes_old.items() if oid not in {x.id for x in new.outcomes}]
    return out


def case_updates(before: Assessment, after: Assessment) -> list[dict]:
    """Per case whose status, dates or probabilities changed between the two assessments' packs: what
    changed and the expected loss it carries before and after (the portfolio effect of the case)."""
    old = {e.id: e for e in before.lib.scenarios.events}
    new = {e.id: e for e in after.lib.scenarios.events}
    out = []
    for eid in [*new, *(e for e in old if e not in new)]:
        changes = _case_changes(old.get(eid), new.get(eid), before.probabilities, after.probabilities)
        if not changes:
            continue
        loss_b = float(expected_loss_of(before, event_outcomes(before, eid)).sum()) if eid in old else 0.0
        loss_a = float(expected_loss_of(after, event_outcomes(after, eid)).sum()) if eid in new else 0.0
        out.append({"event_id": eid, "label": (new.get(eid) or old[eid]).label, "changes": changes,
                    "expected_loss_before_usd": round(loss_b, 2), "expected_loss_after_usd": round(loss_a, 2),
                    "delta_usd": round(loss_a - loss_b, 2)})
    return sorted(out, key=lambda u: -abs(u["delta_usd"]))


def case_update_note(updates: list[dict], old_label: str, new_label: str) -> str:
    """The case update as plain text to paste into a committee note."""
    if not updates:
        return f"Case update ({old_label} → {new_label}): no case changed."
    lines = [f"Case update ({old_label} → {new_label}):"]
    for u in updates:
        sign = "+" if u["delta_usd"] >= 0 else "-"
        lines.append(f"- {u['label']}: {'; '.join(u['changes'])}. Expected annual loss it carries "
                     f"${u['expected_loss_before_usd']:,.0f} → ${u['expected_loss_after_usd']:,.0f} "
                     f"({sign}${abs(u['delta_usd']):,.0f}).")
    return "\n".join(lines)
