"""Region text -> jurisdiction group (data residency): exact cloud region codes from
config/regions.yaml, then its generic tokens, then the patterns of config/channels.yaml
(on-premises sites and free text), else `other`."""

from __future__ import annotations

import pandas as pd

from risk_models.config.loader import Library


def region_table(lib: Library) -> dict[str, str]:
    """Lower-case region code or generic token -> group."""
    out: dict[str, str] = {}
    if lib.regions:
        out.update({k.casefold(): g for k, g in lib.regions.generic.items()})
        for regions in lib.regions.clouds.values():
            out.update({code.casefold(): r.group for code, r in regions.items()})
    return out


def lookup(regions: pd.Series, lib: Library) -> pd.Series:
    """Group per region where the code or token is known exactly; NaN elsewhere."""
    return regions.str.strip().str.casefold().map(region_table(lib))
