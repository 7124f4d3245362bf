"""B_07.01 "assessment of the ICT services" per deployment, from the fallback recommender and the
exit plans (never typed twice): substitutability, its reason, reintegration, alternative providers,
exit plan existence and the impact of discontinuing the service.

- substitutability: no feasible switch (another channel, model or vendor) -> not substitutable
  (lack of real alternatives); else by the effort of the exit target: up to `easy_max_weeks` easy,
  up to `medium_max_weeks` medium, above highly complex (difficulties in migrating).
- reintegration (bringing the service in-house): the best feasible self-hosted option, graded by
  the same effort bands (easy / difficult); none feasible -> highly complex.
- alternative providers identified: yes when a feasible switch exists; its label names it.
- exit plan exists: yes when the exit plan written for the deployment names a feasible target;
  `exit_plan` takes its target from `rec.exit_target`, so that is read directly here (an exit plan
  per row costs ~3 ms: a minute for 20,000 deployments); tests check both agree for every row.
- impact of discontinuing: the deployment's criticality (critical/high -> high).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk_models.dora.spec import RoiSpec
from risk_models.engine.assessment import Assessment
from risk_models.fallbacks.recommend import recommendations_of

NOT_SUBSTITUTABLE, HIGHLY_COMPLEX, MEDIUM, EASY = "eba_ZZ:x959", "eba_ZZ:x960", "eba_ZZ:x961", "eba_ZZ:x962"
NO_ALTERNATIVES, MIGRATION, BOTH = "eba_ZZ:x963", "eba_ZZ:x964", "eba_ZZ:x965"
REINTEGRATION_EASY, REINTEGRATION_DIFFICULT, REINTEGRATION_COMPLEX = "eba_ZZ:x798", "eba_ZZ:x966", "eba_ZZ:x967"
YES, NO = "eba_BT:x28", "eba_BT:x29"
IMPACT = {"low": "eba_ZZ:x791", "medium": "eba_ZZ:x792", "high": "eba_ZZ:x793", "critical": "eba_ZZ:x793"}
# worst-first orders used when several deployments share one B_07.01 row
SUBSTITUTABILITY_ORDER = [EASY, MEDIUM, HIGHLY_COMPLEX, NOT_SUBSTITUTABLE]
REINTEGRATION_ORDER = [REINTEGRATION_EASY, REINTEGRATION_DIFFICULT, REINTEGRATION_COMPLEX]
IMPACT_ORDER = ["eba_ZZ:x791", "eba_ZZ:x792", "eba_ZZ:x793"]
SELF_HOSTED = "self_hosted"


def ict_assessment(a: Assessment, spec: RoiSpec) -> pd.DataFrame:
    """One row per deployment of `a` with the B_07.01 codes (c0050, c0060, c0080, c0090, c0100,
    c0110, c0120) derived from the recommender and the exit plan."""
    rec = recommendations_of(a)
    weeks = rec.effort.mean(axis=2)  # (options, n)
    feasible = rec.feasible()
    self_hosted = np.array([o.target_channel == SELF_HOSTED for o in rec.options])
    easy, medium = spec.derivation.easy_max_weeks, spec.derivation.medium_max_weeks
    rows = []
    records = a.frame.to_dict("records")
    for i, row in enumerate(records):
        k = rec.exit_target(i)
        if k is None:
            subst, reason = NOT_SUBSTITUTABLE, NO_ALTERNATIVES
        else:
            w = float(weeks[k, i])
            subst = EASY if w <= easy else MEDIUM if w <= medium else HIGHLY_COMPLEX
            reason = MIGRATION if subst == HIGHLY_COMPLEX else ""
        inhouse = feasible[:, i] & self_hosted
        if row["channel"] == SELF_HOSTED:
            reint = REINTEGRATION_EASY
        elif inhouse.any():
            reint = REINTEGRATION_EASY if float(weeks[inhouse, i].min()) <= easy else REINTEGRATION_DIFFICULT
        else:
            reint = REINTEGRATION_COMPLEX
        rows.append({
            "deployment_id": row["deployment_id"], "c0050": subst, "c0060": reason,
            "c0080": YES if k is not None else NO, "c0090": reint,
            "c0100": IMPACT[str(row["criticality"])], "c0110": YES if k is not None else NO,
            "c0120": rec.options[k].label if k is not None else "",
        })
    return pd.DataFrame(rows, columns=["deployment_id", "c0050", "c0060", "c0080", "c0090", "c0100", "c0110", "c0120"])


def combine(rows: pd.DataFrame) -> dict[str, str]:
    """Several deployments under one contract and service type: the worst case of each value
    (a register row must not claim an exit option that only some of its deployments have)."""
    subst = max(rows["c0050"], key=SUBSTITUTABILITY_ORDER.index)
    reasons = set(rows.loc[rows["c0050"] == subst, "c0060"]) - {""}
    reason = "" if not reasons else (BOTH if len(reasons) > 1 or BOTH in reasons else reasons.pop())
    alts = [x for x in dict.fromkeys(rows["c0120"]) if x]
    return {
        "c0050": subst, "c0060": reason,
        "c0080": YES if (rows["c0080"] == YES).all() else NO,
        "c0090": max(rows["c0090"], key=REINTEGRATION_ORDER.index),
        "c0100": max(rows["c0100"], key=IMPACT_ORDER.index),
        "c0110": YES if (rows["c0110"] == YES).all() else NO,
        "c0120": "; ".join(alts)[:500],
    }
