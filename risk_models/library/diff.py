"""`library diff`: what changed between two scenario packs (events, outcomes, probabilities,
impacts, sources) and, given an inventory, what that does to the portfolio."""

from __future__ import annotations

from risk_models.answers import AnswerMap
from risk_models.assessment import Assessment, assess
from risk_models.config_loader import Library, with_scenario_pack
from risk_models.config_schema import Event, ImpactRule, Outcome, ScenariosFile
from risk_models.inventory_import import ImportResult
from risk_models.library.pack import pack_hash, pack_label

RATINGS = ("critical", "high", "medium", "low")
PACK_KEYS = ("id", "version", "as_of", "horizon_months", "maintainer")


def rule_text(rule: ImpactRule, lib: Library | None = None) -> str:
    """'channels Azure OpenAI; jurisdictions eu → cost -0.10, continuity -0.05' (display names
    when a library is given)."""
    names = {"channels": {k: c.display_name for k, c in lib.channels.channels.items()} if lib else {},
             "vendors": dict(lib.models.vendors) if lib else {},
             "features": {}, "jurisdictions": {}}
    m = rule.match
    crit = "; ".join(f"{k} {', '.join(names[k].get(str(x), str(x).replace('_', ' ')) for x in getattr(m, k))}"
                     for k in ("channels", "vendors", "features", "jurisdictions") if getattr(m, k)) or "every deployment"
    return f"{crit} → " + ", ".join(f"{k} {v:+.2f}" for k, v in rule.severity.items())


def _source_text(s) -> str:
    return f"{s.title} ({s.date.isoformat()}) {s.url}"


def _outcome_changes(a: Outcome, b: Outcome) -> list[str]:
    out = []
    if a.probability != b.probability:
        out.append(f"probability {a.probability:.0%} → {b.probability:.0%}")
    for key in ("label", "confidence", "rationale"):
        if getattr(a, key) != getattr(b, key):
            out.append(f"{key} changed")
    if [r.model_dump() for r in a.impacts] != [r.model_dump() for r in b.impacts]:
        out.append("impacts changed")
    return out


def _event_changes(a: Event, b: Event) -> tuple[list[str], list[str], list[str]]:
    changes = [f"{k} changed" for k in ("label", "description") if getattr(a, k) != getattr(b, k)]
    sa, sb = [_source_text(s) for s in a.sources], [_source_text(s) for s in b.sources]
    return changes, [s for s in sb if s not in sa], [s for s in sa if s not in sb]


def pack_summary(sf: ScenariosFile) -> dict:
    return {"label": pack_label(sf), "id": sf.id, "version": sf.version, "as_of": sf.as_of.isoformat(),
            "horizon_months": sf.horizon_months, "maintainer": sf.maintainer, "hash": pack_hash(sf),
            "events": len(sf.events), "outcomes": sum(len(e.outcomes) for e in sf.events)}


def diff_packs(old: ScenariosFile, new: ScenariosFile, lib: Library | None = None) -> dict:
    """Events and outcomes added, removed and changed from `old` to `new` (impact rules described with
    `lib`'s display names when given)."""
    ea, eb = {e.id: e for e in old.events}, {e.id: e for e in new.events}
    oa = {o.id: (e, o) for e in old.events for o in e.outcomes}
    ob = {o.id: (e, o) for e in new.events for o in e.outcomes}
    events_changed = []
    for eid in [e for e in eb if e in ea]:
        changes, src_added, src_removed = _event_changes(ea[eid], eb[eid])
        if changes or src_added or src_removed:
            events_changed.append({"id": eid, "label": eb[eid].label, "changes": changes,
                                   "sources_added": src_added, "sources_removed": src_removed})
    outcomes_changed = []
    for oid in [o for o in ob if o in oa]:
        (_, a), (ev, b) = oa[oid], ob[oid]
        changes = _outcome_changes(a, b)
        if oa[oid][0].id != ev.id:
            changes.insert(0, f"moved from event {oa[oid][0].id} to {ev.id}")
        if changes:
            outcomes_changed.append({
                "event": ev.id, "id": oid, "label": b.label, "probability_before": a.probability,
                "probability_after": b.probability, "changes": changes,
                "impacts_before": [rule_text(r, lib) for r in a.impacts] if "impacts changed" in changes else [],
                "impacts_after": [rule_text(r, lib) for r in b.impacts] if "impacts changed" in changes else []})

    def outcome_rows(ids: list[str], side: dict) -> list[dict]:
        return [{"event": side[o][0].id, "id": o, "label": side[o][1].label, "probability": side[o][1].probability,
                 "impacts": [rule_text(r, lib) for r in side[o][1].impacts]} for o in ids]

    pa, pb = pack_summary(old), pack_summary(new)
    return {
        "old": pa, "new": pb,
        "pack_changes": [{"field": k, "before": pa[k], "after": pb[k]} for k in PACK_KEYS if pa[k] != pb[k]],
        "events_added": [{"id": e, "label": eb[e].label, "sources": [_source_text(s) for s in eb[e].sources]}
                         for e in eb if e not in ea],
        "events_removed": [{"id": e, "label": ea[e].label} for e in ea if e not in eb],
        "events_changed": events_changed,
        "outcomes_added": outcome_rows([o for o in ob if o not in oa], ob),
        "outcomes_removed": outcome_rows([o for o in oa if o not in ob], oa),
        "outcomes_changed": outcomes_changed,
    }


def has_changes(d: dict) -> bool:
    return any(d[k] for k in ("pack_changes", "events_added", "events_removed", "events_changed",
                              "outcomes_added", "outcomes_removed", "outcomes_changed"))


def effect_of(before: Assessment, after: Assessment) -> dict:
    """Portfolio effect of switching packs: expected loss, VaR 95 and the ratings that moved."""
    sb, sa = before.simulation.summary(before.frame), after.simulation.summary(after.frame)
    tb, ta = before.residual.table, after.residual.table
    moved = [{"deployment_id": str(d), "name": str(n), "rating_before": str(rb), "rating_after": str(ra),
              "score_before": round(float(xb), 2), "score_after": round(float(xa), 2)}
             for d, n, rb, ra, xb, xa in zip(before.frame["deployment_id"], before.frame["name"], tb["rating"],
                                             ta["rating"], tb["score"], ta["score"], strict=True) if rb != ra]
    order = {r: i for i, r in enumerate(RATINGS)}
    moved.sort(key=lambda m: (order.get(m["rating_after"], 9), -m["score_after"]))
    return {
        "deployments": len(before.frame),
        "portfolio": {k: {"before": round(sb[k], 2), "after": round(sa[k], 2), "delta": round(sa[k] - sb[k], 2)}
                      for k in ("expected_annual_loss_usd", "var95_usd")},
        "ratings": {r: {"before": int((tb["rating"] == r).sum()), "after": int((ta["rating"] == r).sum())}
                    for r in RATINGS},
        "ratings_moved": moved,
    }


def portfolio_effect(inventory: ImportResult, answers: AnswerMap, lib: Library, old: ScenariosFile,
                     new: ScenariosFile, trials: int = 10_000, seed: int = 0) -> dict:
    """Assess the same inventory and answers under both packs (same seed, default probabilities)."""
    before = assess(inventory, answers, with_scenario_pack(lib, old), trials=trials, seed=seed)
    after = assess(inventory, answers, with_scenario_pack(lib, new), trials=trials, seed=seed)
    return effect_of(before, after)
