"""Per provider: its contracts, deployments (direct and as a fourth party), AI spend and share,
worst exposure, questionnaire coverage, and contracts ending or past their notice date; per
contract: its notice date and status against the reference date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from risk_models.engine.assessment import Assessment
from risk_models.providers.records import PROVIDER_TYPE_LABELS, ProviderBook, country_name

ENDING_SOON_DAYS = 180  # a contract ending within six months needs its renew-or-exit decision now
RATING_ORDER = ["low", "medium", "high", "critical"]
CONTRACT_STATUS = {"ended": "Ended", "past_notice": "Past notice date", "ending_soon": "Ending within 6 months",
                   "active": "Active", "open": "No end date"}


def contract_status(book: ProviderBook, ref: dt.date) -> pd.DataFrame:
    rows = []
    for c in book.contracts.to_dict("records"):
        end = c["end"] if isinstance(c["end"], dt.date) else None
        notice = c["notice_period_days"]
        notice = None if notice is None or pd.isna(notice) else int(notice)
        notice_by = end - dt.timedelta(days=notice) if end and notice is not None else None
        if end is None:
            status = "open"
        elif end < ref:
            status = "ended"
        elif notice_by is not None and notice_by < ref:
            status = "past_notice"
        elif (end - ref).days <= ENDING_SOON_DAYS:
            status = "ending_soon"
        else:
            status = "active"
        rows.append({"contract_ref": c["contract_ref"], "provider_id": c["provider_id"], "start": c["start"],
                     "end": end, "notice_by": notice_by, "status": status, "annual_spend": c["annual_spend"],
                     "currency": c["currency"], "deployments": len([d for d in str(c["deployments"]).split(";") if d])})
    return pd.DataFrame(rows, columns=["contract_ref", "provider_id", "start", "end", "notice_by", "status",
                                       "annual_spend", "currency", "deployments"])


def provider_summary(a: Assessment, book: ProviderBook, chain: pd.DataFrame, ref: dt.date) -> pd.DataFrame:
    """One row per provider with a contract or a fourth-party role. `chain`: roi.supply_chain(a, book)."""
    frame = a.frame
    t = a.residual.table
    dep = pd.DataFrame({"deployment_id": frame["deployment_id"].to_numpy(),
                        "spend": frame["annual_spend_usd"].to_numpy(float),
                        "rating": t["rating"].astype(str).to_numpy(), "score": t["score"].to_numpy(float),
                        "answered": [bool(a.answers.get(d)) for d in frame["deployment_id"]]})
    total = float(dep["spend"].sum()) or 1.0
    status = contract_status(book, ref)
    direct = chain[chain["rank"] == 1].merge(dep, on="deployment_id")
    fourth = chain[(chain["rank"] == 2) & (chain["provider_id"] != "")]
    rows = []
    for p in book.providers.to_dict("records"):
        pid = p["provider_id"]
        mine = status[status["provider_id"] == pid]
        d = direct[direct["provider_id"] == pid]
        f = fourth[fourth["provider_id"] == pid]
        if mine.empty and f.empty:
            continue  # a parent undertaking only
        worst = max(d["rating"], key=RATING_ORDER.index) if len(d) else ""
        flagged = mine[mine["status"].isin(["ended", "past_notice", "ending_soon"])]
        rows.append({
            "provider_id": pid, "provider": p["name"], "type": PROVIDER_TYPE_LABELS[p["type"]],
            "designated_critical": bool(p["designated_critical"]), "country": country_name(p["country"]),
            "contracts": len(mine), "deployments": len(d),
            "fourth_party_deployments": int(f["deployment_id"].nunique()),
            "ai_spend_usd": float(d["spend"].sum()), "share_of_ai_spend": float(d["spend"].sum()) / total,
            "worst_rating": worst, "max_score": float(d["score"].max()) if len(d) else np.nan,
            "questionnaire_coverage": float(d["answered"].mean()) if len(d) else np.nan,
            "contracts_to_act_on": ", ".join(f"{r.contract_ref} ({CONTRACT_STATUS[r.status].lower()})"
                                             for r in flagged.itertuples(index=False)),
        })
    out = pd.DataFrame(rows)
    return out.sort_values(["ai_spend_usd", "provider"], ascending=[False, True], kind="stable").reset_index(drop=True) \
        if len(out) else out
