"""The JSON report made whole for the human reports (PDF, XLSX, CSV, Markdown, Parquet). Schema 4 names
options, drivers and repeated sentences by id and lists what they are once in `catalogues`; this puts
them back into every record, as the app shows them."""

from __future__ import annotations

from risk_models.engine.assessment import OTHER_OUTCOMES, other_outcomes_label
from risk_models.fallbacks.exit_plan import whole_plan
from risk_models.fallbacks.recommend import with_flags


def with_option_details(rep: dict) -> dict:
    """The report with every deployment's drivers labelled, its fallbacks as complete records (label,
    kind, target, … and reasons as sentences) and its exit plan spelt out; `labels` and
    `fallback_options` as top-level keys instead of `catalogues`. Expanding twice changes nothing."""
    cat = rep.get("catalogues")
    if cat is None:
        return rep
    outcomes = {o["id"]: o for o in rep["scenario_library"]["outcomes"]}
    whole = _Whole(cat, outcomes)
    return {k: v for k, v in rep.items() if k != "catalogues"} | {"labels": cat["labels"],
                  "fallback_options": [{"option_id": k} | v for k, v in cat["options"].items()],
                  "deployments": [whole.deployment(d) for d in rep.get("deployments", ())]}


class _Whole:
    def __init__(self, cat: dict, outcomes: dict[str, dict]) -> None:
        self.options, self.drivers, self.texts = cat["options"], cat["drivers"], cat["texts"]
        self.channels = cat["labels"].get("channel", {})
        self.outcomes = outcomes

    def deployment(self, d: dict) -> dict:
        fallbacks = [{"option_id": f["option_id"]} | self.options[f["option_id"]]
                     | with_flags(f | {"reasons": [self.texts[t] for t in f.get("reasons", ())]})
                     for f in d["fallbacks"]]
        out = d | {"drivers": [self.driver(x) for x in d["drivers"]], "fallbacks": fallbacks}
        if "exit_plan" in d:
            p = d["exit_plan"]
            facts = p | {"steps": [self.texts[t] for t in p["steps"]],
                         "dependencies": [self.texts[t] for t in p["dependencies"]]}
            out["exit_plan"] = whole_plan(facts, d, self.outcomes, {f["option_id"]: f for f in fallbacks},
                                          self.channels.get(d["channel"], d["channel"]))
        return out

    def driver(self, x: dict) -> dict:
        kind = self.drivers[x["id"]]["kind"]
        if x["id"] == OTHER_OUTCOMES:
            label = other_outcomes_label(x["count"])
        elif kind == "outcome":
            label = self.drivers[x["id"]]["label"]
        else:
            label = self.texts[x["text"]]
        return {"kind": kind, "id": x["id"], "label": label, "value": x["value"]}
