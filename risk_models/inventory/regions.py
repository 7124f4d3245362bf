"""Region text -> jurisdiction group (data residency): exact cloud region codes from
config/regions.yaml, then its generic tokens, then the patterns of config/channels.yaml
(on-premises sites and free text), else `other`. Also: which cloud a region code belongs to, and
the region of another cloud a workload moves to (same country, else same jurisdiction group)."""

from __future__ import annotations

import pandas as pd

from risk_models.config.loader import Library

CLOUD_LABELS = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud", "oci": "Oracle Cloud"}


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


def cloud_of(lib: Library, region: str) -> str | None:
    """The cloud whose region code this is (codes are unique across clouds), None for anything else."""
    key = region.strip().casefold()
    for cloud, regions in (lib.regions.clouds.items() if lib.regions else ()):
        if any(code.casefold() == key for code in regions):
            return cloud
    return None


def foreign_region_message(lib: Library, channel: str, region: str) -> str | None:
    """A region code of another cloud than the channel's (westeurope on Bedrock): probably a mistake."""
    ch = lib.channels.channels.get(channel)
    own = ch.region_codes if ch else None
    cloud = cloud_of(lib, region) if own else None
    if cloud is None or cloud == own:
        return None
    return (f"{region.strip()} is a region code of {CLOUD_LABELS[cloud]}, not of {lib.channel_label(channel)} "
            f"(which uses {CLOUD_LABELS[own]} regions; config/regions.yaml): check the channel or the region")


def region_on(lib: Library, region: str, channel: str) -> str | None:
    """Where a workload in `region` runs on `channel`: the region itself unless it is a code of another
    cloud; then the channel's cloud region in the same country, else the first one in the same
    jurisdiction group (config/regions.yaml order); None when that cloud has no region there."""
    ch = lib.channels.channels.get(channel)
    cloud = cloud_of(lib, region)
    if not ch or not ch.region_codes or cloud is None or cloud == ch.region_codes:
        return region
    here = lib.regions.clouds[cloud][next(c for c in lib.regions.clouds[cloud] if c.casefold() ==
                                          region.strip().casefold())]
    there = lib.regions.clouds.get(ch.region_codes, {})
    same_country = [c for c, r in there.items() if r.country == here.country]
    same_group = [c for c, r in there.items() if r.group == here.group]
    return (same_country or same_group or [None])[0]
