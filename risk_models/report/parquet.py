"""`assess --parquet DIR`: the report as four tables for BI tools (Power BI, Tableau, DuckDB): one row per
deployment, per driver, per fallback option and per exit-plan step, joined on `deployment_id`. Labels sit
beside the ids, so a dashboard needs no lookup of its own."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from risk_models.io.atomic import atomic_file
from risk_models.report.options import with_option_details
from risk_models.report.tabular import deployments_table

TABLES = ("deployments", "drivers", "fallbacks", "exit_plan_steps")


def parquet_tables(rep: dict) -> dict[str, pd.DataFrame]:
    rep = with_option_details(rep)
    deps = rep["deployments"]
    drivers = [{"deployment_id": d["deployment_id"], "rank": n, "kind": x["kind"], "driver_id": x["id"],
                "label": x["label"], "value": x["value"]}
               for d in deps for n, x in enumerate(d["drivers"], start=1)]
    fallbacks = [{"deployment_id": d["deployment_id"], "rank": n, "option_id": f["option_id"], "option": f["label"],
                  "kind": f["kind"], "feasible": f["feasible"], "reasons": "; ".join(f["reasons"]),
                  "effort_weeks_low": f["effort_weeks"][0], "effort_weeks_high": f["effort_weeks"][1],
                  "target_model": f["target_model"], "capability_gap": f["capability_gap"],
                  "retraining_weeks_low": f["retraining_weeks"][0], "retraining_weeks_high": f["retraining_weeks"][1],
                  **{k: f[k] for k in FALLBACK_FIGURES}}
                 for d in deps for n, f in enumerate(d["fallbacks"], start=1)]
    steps = [{"deployment_id": d["deployment_id"], "step": n, "text": s}
             for d in deps if "exit_plan" in d for n, s in enumerate(d["exit_plan"]["steps"], start=1)]
    channels = rep["labels"].get("channel", {})
    table = deployments_table(rep)
    if not table.empty:
        table.insert(table.columns.get_loc("channel") + 1, "channel_label",
                     table["channel"].map(lambda c: channels.get(c, c)))
    return {"deployments": table, "drivers": pd.DataFrame(drivers, columns=list(DRIVER_COLUMNS)),
            "fallbacks": pd.DataFrame(fallbacks, columns=list(FALLBACK_COLUMNS)),
            "exit_plan_steps": pd.DataFrame(steps, columns=["deployment_id", "step", "text"])}


DRIVER_COLUMNS = ("deployment_id", "rank", "kind", "driver_id", "label", "value")
FALLBACK_FIGURES = ("risk_reduction", "residual_score", "residual_expected_loss_usd", "expected_loss_reduction_usd",
                    "one_off_cost_usd", "stranded_commitment_usd", "run_cost_delta_usd", "loss_avoided_per_usd",
                    "repays_one_off", "required", "costs_more_than_it_saves", "raises_expected_loss")
FALLBACK_COLUMNS = ("deployment_id", "rank", "option_id", "option", "kind", "feasible", "reasons", "effort_weeks_low",
                    "effort_weeks_high", "target_model", "capability_gap", "retraining_weeks_low",
                    "retraining_weeks_high", *FALLBACK_FIGURES)


def write_parquet(rep: dict, directory: Path) -> list[Path]:
    """The four tables as DIR/<table>.parquet (DIR is created); returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in parquet_tables(rep).items():
        path = directory / f"{name}.parquet"
        with atomic_file(path) as fh:  # each table whole or not at all
            frame.to_parquet(fh, index=False)
        written.append(path)
    return written
