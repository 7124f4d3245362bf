"""Per provider: its contracts, deployments (direct and as a fourth party), AI spend and share,
worst exposure, questionnaire coverage, and contracts ending or past their notice date; per
contract: its notice date and status against the reference date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from risk_models.engine.assessment import Assessment
from risk_models.providers.ctpp import CTPP_LABELS, CtppList, ctpp_status, load_ctpp
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


def provider_summary(a: Assessment, book: ProviderBook, chain: pd.DataFrame, ref: dt.date,
                     ctpp: CtppList | None = None) -> pd.DataFrame:
    """One row per provider with a contract or a fourth-party role. `chain`: roi.supply_chain(a, book);
    `ctpp`: the ESAs' list (default config/ctpp.yaml) for the CTPP status column."""
    status_of = ctpp_status(book.providers, ctpp or load_ctpp())
    frame = a.frame
    t = a.residual.table
    dep = pd.DataFrame({"deployment_id": frame["deployment_id"].to_numpy(),
                        "spend": frame["annual_spend_usd"].to_numpy(float),
                        "rating": t["rating"].astype(str).to_numpy(), "score": t["score"].to_numpy(float),
                        "answered": [bool(a.answers.get(d)) for d in frame["deployment_id"]],
                        "critical": frame["criticality"].astype(str).isin(["critical", "high"]).to_numpy()})
    total = float(dep["spend"].sum()) or 1.0
    status = contract_status(book, ref)
    direct = chain[chain["rank"] == 1].merge(dep, on="deployment_id")
    fourth = chain[(chain["rank"] > 1) & (chain["provider_id"] != "")]
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
            "designated_critical": bool(p["designated_critical"]), "ctpp": CTPP_LABELS[status_of.get(pid, "")],
            "country": country_name(p["country"]),
            "contracts": len(mine), "deployments": len(d),
            "fourth_party_deployments": int(f["deployment_id"].nunique()),
            "ai_spend_usd": float(d["spend"].sum()), "share_of_ai_spend": float(d["spend"].sum()) / total,
            "critical_deployments": int(d["critical"].sum()) if len(d) else 0,
            "worst_rating": worst, "max_score": float(d["score"].max()) if len(d) else np.nan,
            "questionnaire_coverage": float(d["answered"].mean()) if len(d) else np.nan,
            "contracts_to_act_on": ", ".join(f"{r.contract_ref} ({CONTRACT_STATUS[r.status].lower()})"
                                             for r in flagged.itertuples(index=False)),
        })
    out = pd.DataFrame(rows)
    return out.sort_values(["ai_spend_usd", "provider"], ascending=[False, True], kind="stable").reset_index(drop=True) \
        if len(out) else out


def ctpp_share(summary: pd.DataFrame) -> dict[str, float | int]:
    """What the designated CTPPs (and their groups) carry directly: share of AI spend and of the
    deployments of critical or high criticality."""
    if summary.empty:
        return {"spend_share": 0.0, "critical": 0, "critical_total": 0}
    ct = summary["ctpp"] != CTPP_LABELS[""]
    return {"spend_share": float(summary.loc[ct, "share_of_ai_spend"].sum()),
            "critical": int(summary.loc[ct, "critical_deployments"].sum()),
            "critical_total": int(summary["critical_deployments"].sum())}


def ctpp_block(a: Assessment, book: ProviderBook, chain: pd.DataFrame, ref: dt.date,
               ctpp: CtppList | None = None) -> dict:
    """What the committee PDF says about the critical ICT third-party providers: per designated provider
    (or group of one) with a role in the AI estate, its share of the AI spend and of the critical or
    high deployments it serves directly (provider_summary, as the Providers page shows), the deployments
    it reaches through the supply chain (as channel operator, hosting cloud or model vendor), and the
    critical or important functions it supports. A function counts as critical or important as the
    profile's DORA function table says; a business unit the table does not classify counts when one of
    its deployments is of critical or high criticality (`functions_basis` says which applied)."""
    ctpp = ctpp or load_ctpp()
    summary = provider_summary(a, book, chain, ref, ctpp)
    share = ctpp_share(summary)
    frame = a.frame[["deployment_id", "business_unit", "criticality"]]
    units = frame.groupby("business_unit")["criticality"].agg(lambda s: bool(s.isin(["critical", "high"]).any()))
    dora = a.lib.profile.dora
    said = {f.business_unit: f.critical_or_important for f in (dora.functions if dora else ())
            if f.critical_or_important is not None}
    critical_units = {u for u, high in units.items() if said.get(u, high)}
    links = chain[chain["provider_id"] != ""].merge(frame, on="deployment_id")
    rows = []
    for r in summary[summary["ctpp"] != CTPP_LABELS[""]].to_dict("records") if len(summary) else []:
        mine = links[links["provider_id"] == r["provider_id"]]
        supported = sorted(set(mine["business_unit"]) & critical_units)
        rows.append({"provider": r["provider"], "status": r["ctpp"], "share_of_ai_spend": r["share_of_ai_spend"],
                     "critical_deployments": r["critical_deployments"], "deployments": r["deployments"],
                     "chain_deployments": int(mine["deployment_id"].nunique()),
                     "critical_functions": supported})
    reached = {u for row in rows for u in row["critical_functions"]}
    return {"list_date": ctpp.as_of.isoformat(), "source": ctpp.sources[0].title, "as_of": ref.isoformat(),
            "spend_share": share["spend_share"], "critical": share["critical"],
            "critical_total": share["critical_total"], "critical_functions": sorted(critical_units),
            "critical_functions_on_ctpp": sorted(reached),
            "functions_basis": "profile" if set(units.index) <= set(said) else "deployment criticality" if not said
            else "mixed", "providers": rows}
