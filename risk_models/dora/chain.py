"""The supply chain behind each deployment's contract (B_05.02): model vendor -> channel -> hosting cloud
-> region, ranked from the contracted provider, each link with its country and CTPP status."""

from __future__ import annotations

import pandas as pd

from risk_models.engine.assessment import Assessment
from risk_models.providers.ctpp import CtppList, ctpp_status, load_ctpp
from risk_models.providers.records import (
    NOT_A_PROVIDER,
    OPEN_WEIGHT_VENDORS,
    ProviderBook,
)


def region_countries(a: Assessment) -> pd.Series:
    table: dict[str, str] = {}
    if a.lib.regions:
        for regions in a.lib.regions.clouds.values():
            table.update({code.casefold(): r.country for code, r in regions.items()})
    if a.lib.profile.dora:
        table.update({code.strip().casefold(): c.upper() for code, c in a.lib.profile.dora.locations.items()})
    return a.frame["region"].astype(str).str.strip().str.casefold().map(table)


CHAIN_COLUMNS = ["deployment_id", "contract_ref", "rank", "provider_id", "vendor", "role", "recipient_id", "region",
                 "country", "ctpp"]


def supply_chain(a: Assessment, book: ProviderBook, ctpp: CtppList | None = None) -> pd.DataFrame:
    """Per linked deployment, its chain: model vendor -> channel -> hosting cloud -> region. The contract's
    provider is rank 1; the channel's operator, when the contract is with someone else (a reseller), is
    rank 2; the cloud the channel runs on (channels.yaml hosted_on: the OpenAI API on Microsoft's cloud)
    and the model vendor behind the channel (OpenAI behind Azure OpenAI) rank one below the channel's
    operator, which receives their service. Open-weight model makers and 'other'/'self' run no service
    and are no link. Every link carries the deployment's region and country and the provider's CTPP
    status against the ESAs' list (`ctpp`, default config/ctpp.yaml: designated | group | '')."""
    frame = a.frame.merge(book.links, on="deployment_id", how="inner")
    country = dict(zip(a.frame["deployment_id"], region_countries(a).fillna(""), strict=True))
    providers = book.provider_by_id
    contracts = book.contract_by_ref
    status = ctpp_status(book.providers, ctpp or load_ctpp())
    by_vendor = {v: p for p in book.providers.to_dict("records") for v in str(p["vendor"]).split(";") if v}
    channels = a.lib.channels.channels
    rows = []

    def none(v: str) -> bool:
        return not v or v in NOT_A_PROVIDER or v in OPEN_WEIGHT_VENDORS

    for r in frame.to_dict("records"):
        c = contracts[r["contract_ref"]]
        first = providers[c["provider_id"]]
        base = {"deployment_id": r["deployment_id"], "contract_ref": c["contract_ref"], "region": r["region"],
                "country": country.get(r["deployment_id"], "")}

        def link(rank: int, pid: str, vendor: str, role: str, recipient: str, base: dict = base) -> None:
            rows.append({**base, "rank": rank, "provider_id": pid, "vendor": vendor, "role": role,
                         "recipient_id": recipient, "ctpp": status.get(pid, "")})

        link(1, first["provider_id"], "", "contracted provider", "")
        seen = set(str(first["vendor"]).split(";"))
        ch = channels.get(r["channel"])
        operator, op_rank = first["provider_id"], 1
        if ch and not none(ch.cloud_provider) and ch.cloud_provider not in seen:
            p = by_vendor.get(ch.cloud_provider)
            operator, op_rank = (p["provider_id"] if p else ""), 2
            link(2, operator, ch.cloud_provider, "channel provider", first["provider_id"])
            seen.add(ch.cloud_provider)
        for vendor, role in ((ch.hosting_cloud if ch else "", "hosting cloud"), (r["model_vendor"], "model vendor")):
            if none(vendor) or vendor in seen:
                continue
            seen.add(vendor)
            p = by_vendor.get(vendor)
            link(op_rank + 1, p["provider_id"] if p else "", vendor, role, operator)
    return pd.DataFrame(rows, columns=CHAIN_COLUMNS).drop_duplicates(["deployment_id", "rank", "provider_id", "vendor"])
