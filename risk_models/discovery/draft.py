"""Draft inventory from discovered spend, and its merge into the current register.

The merge only adds deployments and updates the spend (and, from an ML-BOM, the model) of existing
ones: a deployment the billing export does not mention stays as it is — nothing is removed without
the user's own edit. The result goes through the register's usual diff-and-confirm step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk_models.config.domain import INVENTORY_COLUMNS
from risk_models.config.loader import Library
from risk_models.discovery.focus import FocusImport, annualise
from risk_models.discovery.rules import DiscoveryFile

NOTE = "discovery_note"  # explanation per draft row (not an inventory column; ignored on import)


def draft_frame(imp: FocusImport, disc: DiscoveryFile, lib: Library) -> pd.DataFrame:
    """One draft deployment per key and channel: annualised spend, the model and region with the most
    spend, the defaults of config/discovery.yaml where billing says nothing."""
    g = imp.groups
    if g.empty:
        return pd.DataFrame(columns=[*INVENTORY_COLUMNS, NOTE])
    by = ["key", "channel"]
    total = g.groupby(by, sort=False).agg(cost=("cost", "sum"), rows=("rows", "sum")).reset_index()

    def top(col: str) -> pd.DataFrame:
        x = g[g[col] != ""].groupby([*by, col], sort=False)["cost"].sum().reset_index()
        x = x.sort_values("cost", ascending=False, kind="stable").drop_duplicates(by)
        n = g[g[col] != ""].groupby(by)[col].nunique().rename(f"n_{col}").reset_index()
        return x[[*by, col]].merge(n, on=by, how="left")

    d = total.merge(top("model"), on=by, how="left").merge(top("region"), on=by, how="left")
    d = d.merge(top("name"), on=by, how="left")
    d[["model", "region", "name"]] = d[["model", "region", "name"]].fillna("")
    many = d.groupby("key")["channel"].transform("nunique") > 1
    label = d["channel"].map(lib.channel_label)
    d["deployment_id"] = d["key"].where(~many, d["key"] + " (" + label + ")")
    spend = annualise(d["cost"].to_numpy(), imp.days_covered)
    months = imp.days_covered / (365.25 / 12)
    notes = (f"{months:.1f} month(s) of billing annualised; " + d["rows"].map("{:,} billing rows".format))
    notes = notes.where(d["model"] != "", notes + "; no model named in SKU or description — set it")
    notes = notes.where(d["n_model"].fillna(0) <= 1, notes + "; several models: " + d["model"] + " has the most spend")
    out = pd.DataFrame({c: "" for c in INVENTORY_COLUMNS}, index=d.index)
    out["deployment_id"] = d["deployment_id"]
    out["name"] = d["name"].where(d["name"] != "", d["key"])
    out["channel"] = d["channel"]
    out["model"] = d["model"].where(d["model"] != "", "unknown")
    out["region"] = d["region"]
    out["annual_spend_usd"] = np.round(spend, 2)
    out["criticality"] = disc.defaults.criticality.value
    out["data_sensitivity"] = disc.defaults.data_sensitivity.value
    out["fallback_status"] = "none"
    out["abstraction_layer"] = "no"
    out[NOTE] = notes
    return out.sort_values("annual_spend_usd", ascending=False, kind="stable").reset_index(drop=True)


def draft_text(draft: pd.DataFrame) -> pd.DataFrame:
    """The draft as inventory text cells (what a CSV of it holds)."""
    t = draft.copy()
    t["annual_spend_usd"] = t["annual_spend_usd"].map(lambda x: f"{float(x):.2f}")
    return t.fillna("").astype(str)


def merge_into_raw(raw: pd.DataFrame, draft: pd.DataFrame, line_col: str,
                   update: tuple[str, ...] = ("annual_spend_usd",)) -> tuple[pd.DataFrame, dict]:
    """The current register's raw text table with the draft merged in: draft ids already present get
    the `update` columns from the draft (other cells untouched); new ids are appended after the last
    line. Nothing is removed. Returns the new raw table and {added, updated, unchanged} ids."""
    text = draft_text(draft)
    cur = raw.copy()
    for c in INVENTORY_COLUMNS:
        if c not in cur.columns:
            cur[c] = ""
    ids = cur["deployment_id"].astype(str).str.strip()
    present = text["deployment_id"].isin(set(ids))
    pos = pd.Series(np.arange(len(cur)), index=ids.to_numpy())
    pos = pos[~pos.index.duplicated(keep="first")]  # the first occurrence is the register's row
    updated, unchanged = [], []
    for _, row in text[present].iterrows():  # a few hundred deployments at most: clarity over speed
        i = int(pos[row["deployment_id"]])
        changed = False
        for c in update:
            if row[c] != "" and _differs(cur.iat[i, cur.columns.get_loc(c)], row[c], c):
                cur.iat[i, cur.columns.get_loc(c)] = row[c]
                changed = True
        (updated if changed else unchanged).append(row["deployment_id"])
    new = text[~present].reindex(columns=list(INVENTORY_COLUMNS), fill_value="")
    last = int(pd.to_numeric(cur[line_col], errors="coerce").max()) if len(cur) else 1
    new[line_col] = np.arange(last + 1, last + 1 + len(new))
    merged = pd.concat([cur, new], ignore_index=True)
    keep = [c for c in merged.columns if c != line_col] + [line_col]
    merged = merged[keep]
    merged[keep[:-1]] = merged[keep[:-1]].fillna("").astype(str)
    return merged, {"added": new["deployment_id"].tolist(), "updated": updated, "unchanged": unchanged}


def _differs(before: object, after: str, column: str) -> bool:
    if column in ("annual_spend_usd", "committed_spend_usd"):
        a = pd.to_numeric(pd.Series([str(before).replace(",", "").replace("$", "")]), errors="coerce").iloc[0]
        return pd.isna(a) or abs(float(a) - float(after)) >= 0.005
    return str(before).strip() != after
