"""CycloneDX 1.5/1.6 ML-BOMs -> model (and vendor) for the deployments they name, or new drafts.

The BOM is checked against the CycloneDX JSON schema and read with cyclonedx-python-lib (the
'discovery' extra, imported only here: the rest of discovery and the app do without it); the model
card (not modelled by the library) is read from the same JSON by bom-ref.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pandas as pd

from risk_models.config.domain import INVENTORY_COLUMNS
from risk_models.config.loader import Library
from risk_models.discovery.draft import NOTE
from risk_models.discovery.rules import DiscoveryFile
from risk_models.inventory.read import model_vendor
from risk_models.io.extras import missing_extra_message
from risk_models.io.safe_yaml import load_user_json

VERSIONS = {"1.5": "V1_5", "1.6": "V1_6"}  # CycloneDX spec version -> cyclonedx.schema.SchemaVersion member


class MlbomError(ValueError):
    """The file is not a CycloneDX 1.5/1.6 JSON BOM we can read."""


@dataclass(frozen=True)
class ModelComponent:
    bom_ref: str
    name: str
    version: str
    supplier: str
    deployment: str  # from the deployment property; '' when absent
    task: str
    use_cases: str


def _cards(components: list, out: dict[str, dict]) -> None:
    for c in components or []:
        if isinstance(c, dict):
            if c.get("bom-ref") and isinstance(c.get("modelCard"), dict):
                out[str(c["bom-ref"])] = c["modelCard"]
            _cards(c.get("components"), out)


def read_mlbom(data: bytes, filename: str, disc: DiscoveryFile) -> list[ModelComponent]:
    try:
        import jsonschema  # noqa: F401 - JsonStrictValidator needs it
        from cyclonedx.model.bom import Bom
        from cyclonedx.model.component import ComponentType
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator
    except ImportError as exc:
        raise MlbomError(missing_extra_message("discovery", "discover mlbom", (exc.name or "cyclonedx").split(".")[0])) from None
    try:
        doc = load_user_json(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MlbomError(f"{filename}: not valid JSON ({exc}); a CycloneDX BOM in JSON is expected") from None
    if not isinstance(doc, dict) or doc.get("bomFormat") != "CycloneDX":
        raise MlbomError(f"{filename}: not a CycloneDX BOM (no \"bomFormat\": \"CycloneDX\")")
    spec = str(doc.get("specVersion", ""))
    if spec not in VERSIONS:
        raise MlbomError(f"{filename}: CycloneDX specVersion {spec or '(none)'}; 1.5 and 1.6 are supported "
                         "(machine-learning-model components and model cards came with 1.5)")
    err = JsonStrictValidator(SchemaVersion[VERSIONS[spec]]).validate_str(json.dumps(doc))
    if err is not None:
        raise MlbomError(f"{filename}: does not follow the CycloneDX {spec} schema: {str(err)[:400]}")
    try:
        bom = Bom.from_json(doc)
    except Exception as exc:  # the library raises several types on content it cannot map
        raise MlbomError(f"{filename}: cannot read the BOM ({type(exc).__name__}: {exc})") from None
    cards: dict[str, dict] = {}
    _cards(doc.get("components"), cards)
    prop = disc.mlbom.deployment_property
    out = []
    comps = list(bom.components)
    for c in list(comps):
        comps.extend(c.get_all_nested_components(include_self=False))
    for c in comps:
        if c.type != ComponentType.MACHINE_LEARNING_MODEL:
            continue
        ref = str(c.bom_ref.value or "") if c.bom_ref else ""
        supplier = (c.supplier.name if c.supplier and c.supplier.name else "") or (c.publisher or "") or (c.group or "")
        dep = next((p.value for p in c.properties if p.name == prop), "") or ""
        card = cards.get(ref, {})
        params = card.get("modelParameters") if isinstance(card.get("modelParameters"), dict) else {}
        cons = card.get("considerations") if isinstance(card.get("considerations"), dict) else {}
        uses = cons.get("useCases") if isinstance(cons.get("useCases"), list) else []
        out.append(ModelComponent(bom_ref=ref, name=c.name, version=c.version or "", supplier=supplier,
                                  deployment=str(dep).strip(), task=str(params.get("task", "") or ""),
                                  use_cases="; ".join(map(str, uses))))
    return out


def mlbom_draft(models: list[ModelComponent], current: pd.DataFrame, disc: DiscoveryFile,
                lib: Library) -> pd.DataFrame:
    """Draft rows: the model for deployments the BOM names (by property or bom-ref), new draft
    deployments for the others (spend 0: a BOM carries no spend — shown in the note)."""
    ids = set(current["deployment_id"].astype(str))
    rows = []
    for m in models:
        dep = m.deployment or (m.bom_ref if m.bom_ref in ids else "") or m.bom_ref or m.name
        vendor = model_vendor(pd.Series([m.name]), lib).iloc[0]
        note = f"ML-BOM model {m.name}" + (f" version {m.version}" if m.version else "")
        note += f"; vendor {lib.vendor_label(vendor)}" + (f" (supplier in the BOM: {m.supplier})" if m.supplier else "")
        if m.task:
            note += f"; task {m.task}"
        channel = next((r.channel for r in disc.mlbom.supplier_channels
                        if re.search(r.pattern, m.supplier, flags=re.IGNORECASE)), disc.mlbom.default_channel)
        row = {c: "" for c in INVENTORY_COLUMNS}
        row.update(deployment_id=dep, name=m.name, use_case=m.use_cases or m.task, channel=channel, model=m.name,
                   annual_spend_usd=0.0, criticality=disc.defaults.criticality.value,
                   data_sensitivity=disc.defaults.data_sensitivity.value, fallback_status="none",
                   abstraction_layer="no")
        row[NOTE] = note + ("" if dep in ids else "; new deployment: spend not in the BOM — enter it or run discover focus")
        rows.append(row)
    return pd.DataFrame(rows, columns=[*INVENTORY_COLUMNS, NOTE]).drop_duplicates("deployment_id")
