"""The ESAs' list of designated critical ICT third-party providers (config/ctpp.yaml, dated and
sourced, replaceable) and each provider's status against it: designated itself, or the group parent
of a designated provider of the providers file, or neither."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from pydantic import Field

from risk_models.config.loader import config_dir, norm_key, parse_model
from risk_models.config.schema import Source, Strict

CTPP_LABELS = {"designated": "Designated CTPP", "group": "Group of a designated CTPP", "": "Not designated"}


class CtppList(Strict):
    as_of: dt.date
    sources: list[Source] = Field(min_length=1)
    designated: list[str] = Field(min_length=1)

    def listed(self, name: str) -> bool:
        return norm_key(name) in {norm_key(n) for n in self.designated}


def load_ctpp(path: str | Path | None = None) -> CtppList:
    return parse_model(Path(path) if path else Path(config_dir()) / "ctpp.yaml", CtppList)


def ctpp_status(providers: pd.DataFrame, ctpp: CtppList) -> dict[str, str]:
    """provider_id -> "designated" | "group" (a provider of the file whose parent chain reaches it is
    designated) | "" (neither)."""
    parent = dict(zip(providers["provider_id"], providers["parent"], strict=True))
    out = {pid: "designated" if ctpp.listed(name) else "" for pid, name in zip(providers["provider_id"],
                                                                                 providers["name"], strict=True)}
    for pid, status in list(out.items()):
        if status != "designated":
            continue
        seen, up = {pid}, parent.get(pid, "")
        while up and up in out and up not in seen:
            if not out[up]:
                out[up] = "group"
            seen.add(up)
            up = parent.get(up, "")
    return out
