"""The JSON report's compact fallbacks made whole for the human reports. Schema 3 lists what each
option is once (`fallback_options`), gives per deployment what every option does there as parallel
lists in ranked order, and names the exit plan's target and supporting options by id."""

from __future__ import annotations


def fallback_records(columns: dict[str, list] | list[dict], catalogue: dict[str, dict]) -> list[dict]:
    """One record per option, best first, with the option's description."""
    rows = columns if isinstance(columns, list) else [dict(zip(columns, vals, strict=True))
                                                      for vals in zip(*columns.values(), strict=True)]
    return [catalogue.get(r["option_id"], {}) | r for r in rows]


def _plan(plan: dict, by_id: dict[str, dict]) -> dict:
    target, support = plan.get("target_option"), plan.get("supporting_actions", [])
    return plan | {"target_option": by_id.get(target) if isinstance(target, str) else target,
                   "supporting_actions": [by_id[s] if isinstance(s, str) else s for s in support]}


def _whole(d: dict, catalogue: dict[str, dict]) -> dict:
    records = fallback_records(d.get("fallbacks", []), catalogue)
    out = d | {"fallbacks": records}
    if "exit_plan" in d:
        out["exit_plan"] = _plan(d["exit_plan"], {r["option_id"]: r for r in records})
    return out


def with_option_details(rep: dict) -> dict:
    """The report with every deployment's fallbacks as complete records (label, kind, target, …)
    and its exit plan's options as records. Reports of schema 2, which carry all of it inline, come
    back the same; expanding twice changes nothing."""
    catalogue = {o["option_id"]: o for o in rep.get("fallback_options", ())}
    if not catalogue:
        return rep
    return rep | {"deployments": [_whole(d, catalogue) for d in rep.get("deployments", ())]}
