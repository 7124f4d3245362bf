"""CycloneDX 1.5/1.6 ML-BOMs -> model (and vendor) for the deployments they name, or new drafts.

The BOM is checked against the CycloneDX JSON schema and read with cyclonedx-python-lib (the
'discovery' extra, imported only here: the rest of discovery and the app do without it); the model
card (not modelled by the library) is read from the same JSON by bom-ref.
"""

from __future__ import annotations

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


MAX_COMPONENTS = 5_000  # ~3 s to validate and read; a real ML-BOM lists tens to hundreds of models


def _all_components(doc: dict):
    """Every component dict, nested ones included, without recursion (depth is bounded by the JSON reader)."""
    stack = [doc.get("components")]
    while stack:
        items = stack.pop()
        for c in items if isinstance(items, list) else []:
            if isinstance(c, dict):
                yield c
                stack.append(c.get("components"))


def _cards(components: list, out: dict[str, dict]) -> None:
    for c in components or []:
        if isinstance(c, dict):
            if c.get("bom-ref") and isinstance(c.get("modelCard"), dict):
                out[str(c["bom-ref"])] = c["modelCard"]
            _cards(c.get("components"), out)


def _canon(x: object) -> object:
    """A hashable form of a JSON value under the schema's equality (1 == 1.0; true != 1; key order ignored)."""
    if isinstance(x, dict):
        return ("o", frozenset((k, _canon(v)) for k, v in x.items()))
    if isinstance(x, list):
        return ("a", tuple(_canon(v) for v in x))
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int | float):
        return ("n", x)  # int and float compare (and hash) equal when equal in value
    return ("?", repr(x))


def _unique_items(validator, unique, instance, schema):
    """uniqueItems in linear time (jsonschema compares every pair: 8,000 components took ~55 s)."""
    from jsonschema.exceptions import ValidationError
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set = set()
    for i, item in enumerate(instance):
        key = _canon(item)
        if key in seen:
            yield ValidationError(f"item {i} repeats an earlier item; items must be unique")
            return
        seen.add(key)


def _linear_validator(strict):
    """cyclonedx-python-lib's strict validator (its schema, registry and format checks) with a linear
    uniqueItems."""
    from jsonschema import validators
    base = strict._validator
    linear = validators.extend(type(base), {"uniqueItems": _unique_items})
    return linear(base.schema, registry=base._registry, format_checker=base.format_checker)


def read_mlbom(data: bytes, filename: str, disc: DiscoveryFile) -> list[ModelComponent]:
    try:
        import jsonschema  # noqa: F401 - JsonStrictValidator needs it
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
    count = sum(1 for _ in _all_components(doc))
    if count > MAX_COMPONENTS:  # schema validation costs ~2 ms a component: bounded before it starts
        raise MlbomError(f"{filename}: the BOM holds {count:,} components; at most {MAX_COMPONENTS:,} are read "
                         "(split it, e.g. one BOM per system)")
    spec = str(doc.get("specVersion", ""))
    if spec not in VERSIONS:
        raise MlbomError(f"{filename}: CycloneDX specVersion {spec or '(none)'}; 1.5 and 1.6 are supported "
                         "(machine-learning-model components and model cards came with 1.5)")
    err = next(_linear_validator(JsonStrictValidator(SchemaVersion[VERSIONS[spec]])).iter_errors(doc), None)
    if err is not None:
        raise MlbomError(f"{filename}: does not follow the CycloneDX {spec} schema: {str(err.message)[:400]}")
    # the schema has been checked: the components are read from the JSON directly (the library's Bom
    # sorts every component with a comparison of ~30 fields: 8,000 components took minutes)
    cards: dict[str, dict] = {}
    _cards(doc.get("components"), cards)
    prop = disc.mlbom.deployment_property
    out = []
    for c in _all_components(doc):
        if c.get("type") != "machine-learning-model":
            continue
        ref = str(c.get("bom-ref") or "")
        supplier = c.get("supplier") if isinstance(c.get("supplier"), dict) else {}
        supplier_name = str(supplier.get("name") or "") or str(c.get("publisher") or "") or str(c.get("group") or "")
        props = c.get("properties") if isinstance(c.get("properties"), list) else []
        dep = next((p.get("value") for p in props if isinstance(p, dict) and p.get("name") == prop), "") or ""
        card = cards.get(ref, {})
        params = card.get("modelParameters") if isinstance(card.get("modelParameters"), dict) else {}
        cons = card.get("considerations") if isinstance(card.get("considerations"), dict) else {}
        uses = cons.get("useCases") if isinstance(cons.get("useCases"), list) else []
        out.append(ModelComponent(bom_ref=ref, name=str(c.get("name") or ""), version=str(c.get("version") or ""),
                                  supplier=supplier_name, deployment=str(dep).strip(),
                                  task=str(params.get("task", "") or ""), use_cases="; ".join(map(str, uses))))
    out.sort(key=lambda m: (m.name, m.version, m.bom_ref))  # the order the library gave (it sorts by name)
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
