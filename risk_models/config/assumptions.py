"""Loss assumptions as an editable table (one row per value, levels of per-criticality and
per-sensitivity parameters on their own rows) and back, with errors that name the row."""

from __future__ import annotations

import pandas as pd
from pydantic import ValidationError

from risk_models.config.schema import AssumptionsFile

COLUMNS = ["Parameter", "Level", "Value", "Basis", "Note"]


PARAMETER_LABELS = {
    "person_week_usd": "Cost of a person-week (USD)", "base_switching_weeks": "Switching effort (person-weeks)",
    "weeks_per_feature_share": "Extra effort per proprietary feature (share)",
    "downtime_usd_per_hour": "Downtime cost per hour (USD), by criticality",
    "compliance_usd": "Compliance cost of a finding (USD), by data sensitivity",
    "pert_low": "Lowest loss (× estimate)", "pert_high": "Highest loss (× estimate)",
    "common_factor": "Common factor of losses hit by the same outcome", "payback_years": "Payback period (years)",
    "probability_spread": "Probability range (× / ÷), by the outcome's confidence",
    "severity_spread": "Severity range (× / ÷), by the outcome's confidence",
}

def assumptions_frame(af: AssumptionsFile) -> pd.DataFrame:
    rows = []
    for r in af.table():
        label = PARAMETER_LABELS.get(r["parameter"], r["parameter"])
        basis = "Organisation assumption" if r["basis"] == "assumption" else f"Sourced: {r['source']['title']}"
        values = r["value"].items() if isinstance(r["value"], dict) else [("", r["value"])]
        rows += [{"Parameter": label, "Level": str(level), "Value": float(v), "Basis": basis, "Note": r["note"],
                  "_key": (r["parameter"], str(level))} for level, v in values]
    return pd.DataFrame(rows)


class AssumptionsError(ValueError):
    """An edited value is not allowed."""


def assumptions_from_frame(base: AssumptionsFile, edited: pd.DataFrame) -> AssumptionsFile:
    """`base` with the values of the edited table (same rows as assumptions_frame(base))."""
    data = base.model_dump(mode="json")
    for i, row in enumerate(edited.to_dict("records"), start=1):
        name, level = row["_key"]
        value = row["Value"]
        if value is None or pd.isna(value):
            raise AssumptionsError(f"row {i} ({row['Parameter']} {row['Level']}): a value is required")
        if level:
            data[name]["value"][level] = float(value)
        else:
            data[name]["value"] = float(value)
    try:
        return AssumptionsFile.model_validate(data)
    except ValidationError as exc:
        msgs = "; ".join(f"{PARAMETER_LABELS.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'assumptions'}: "
                         f"{e['msg']}" for e in exc.errors())
        raise AssumptionsError(msgs) from None
