"""`library diff`: what changed between two scenario packs (events, outcomes, probabilities,
impacts, sources) and, given an inventory, what that does to the portfolio."""

from __future__ import annotations

from risk_models.config.loader import Library
from risk_models.config.schema import Event, ImpactRule, Outcome, ScenariosFile
from risk_models.scenarios.pack import pack_hash, pack_label

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
