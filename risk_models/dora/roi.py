"""The DORA register of information from one assessment plus its providers and contracts:
templates B_01.01, B_02.01, B_02.02, B_03.01, B_03.02, B_05.01, B_05.02, B_06.01 and B_07.01 as
frames of EBA codes (columns c0010 ...), a validation report (missing mandatory fields, broken
references between templates, per row), and two writers: the EBA xBRL-CSV report package (zip)
and an XLSX in the template layout for people."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass, field

import openpyxl
import pandas as pd
from openpyxl.styles import Font, PatternFill
from pydantic import BaseModel

from risk_models.config.loader import norm_key
from risk_models.config.profile import RegisterEntity
from risk_models.dora.ict_assessment import combine, ict_assessment
from risk_models.dora.spec import RoiSpec
from risk_models.engine.assessment import Assessment
from risk_models.inventory.read import escape_text
from risk_models.providers.lei import lei_problem
from risk_models.providers.records import NOT_A_PROVIDER, OPEN_WEIGHT_VENDORS, ProviderBook, country_problem

LEI_CODE = "eba_qCO:qx2000"
STANDALONE = "eba_CO:x1"
YES, NO, NOT_ASSESSED = "eba_BT:x28", "eba_BT:x29", "eba_BT:x21"
LEGAL_PERSON = "eba_CT:x212"
OPEN_END = "9999-12-31"  # an open-ended contract (no end date)
SENSITIVENESS = {"public": "eba_ZZ:x791", "internal": "eba_ZZ:x792", "confidential": "eba_ZZ:x793",
                 "regulated": "eba_ZZ:x793"}
SENS_ORDER = ["eba_ZZ:x791", "eba_ZZ:x792", "eba_ZZ:x793"]
RELIANCE_ORDER = ["eba_ZZ:x794", "eba_ZZ:x795", "eba_ZZ:x796", "eba_ZZ:x797"]
CRIT_ORDER = ["low", "medium", "high", "critical"]
TEMPLATES = ("B_01.01", "B_02.01", "B_02.02", "B_03.01", "B_03.02", "B_05.01", "B_05.02", "B_06.01", "B_07.01")


class Finding(BaseModel):
    """One problem of the register: a missing mandatory field or a broken reference, with its row."""

    template: str
    row: int | None  # 1-based data row of the template (None = the template as a whole)
    key: str = ""  # contract reference, provider or function of that row
    column: str = ""  # c0010 ...
    label: str = ""
    kind: str  # "missing" | "broken reference" | "invalid"
    message: str

    def text(self) -> str:
        where = f"{self.template} row {self.row}" if self.row else self.template
        who = f" ({self.key})" if self.key else ""
        col = f" {self.column} {self.label}" if self.column else ""
        return f"{where}{who}{col} — {self.kind}: {self.message}"


@dataclass
class Register:
    templates: dict[str, pd.DataFrame]
    findings: list[Finding]
    critical_rows: dict[str, set[int]]  # template -> 0-based rows supporting a critical or important function
    reference_date: dt.date
    entity_lei: str
    base_currency: str
    unlinked: list[str] = field(default_factory=list)  # deployments without a contract (not in the register)
    unknown_links: list[str] = field(default_factory=list)  # contract deployments absent from the inventory
    supply_chain: pd.DataFrame | None = None


def _region_countries(a: Assessment) -> pd.Series:
    table: dict[str, str] = {}
    if a.lib.regions:
        for regions in a.lib.regions.clouds.values():
            table.update({code.casefold(): r.country for code, r in regions.items()})
    return a.frame["region"].astype(str).str.strip().str.casefold().map(table)


def _code(labels: dict[str, str], text: str) -> str:
    """An EBA code given as the code itself or as its label ('' when neither)."""
    if text in labels:
        return text
    return {norm_key(v): k for k, v in labels.items()}.get(norm_key(text), "")


def _days(v: object) -> int | str:
    return "" if v is None or pd.isna(v) else int(v)


def _reliance(criticality: str, fallback: str) -> str:
    if fallback == "active":
        return "eba_ZZ:x795"
    if criticality in ("critical", "high"):
        return "eba_ZZ:x797" if fallback == "none" else "eba_ZZ:x796"
    return "eba_ZZ:x796" if criticality == "medium" else "eba_ZZ:x795"


def supply_chain(a: Assessment, book: ProviderBook) -> pd.DataFrame:
    """Per linked deployment: its contract's provider (rank 1) and the model vendor and hosting cloud
    behind it (rank 2, fourth parties), from the channel -> cloud provider and model -> vendor rules.
    Open-weight model makers and 'other'/'self' are no fourth parties (they run no service)."""
    frame = a.frame.merge(book.links, on="deployment_id", how="inner")
    providers = book.provider_by_id
    contracts = book.contract_by_ref
    by_vendor = {v: p for p in book.providers.to_dict("records") for v in str(p["vendor"]).split(";") if v}
    clouds = {c: ch.cloud_provider for c, ch in a.lib.channels.channels.items()}
    rows = []
    for r in frame.to_dict("records"):
        c = contracts[r["contract_ref"]]
        first = providers[c["provider_id"]]
        rows.append({"deployment_id": r["deployment_id"], "contract_ref": c["contract_ref"], "rank": 1,
                     "provider_id": first["provider_id"], "vendor": "", "role": "contracted provider",
                     "recipient_id": ""})
        own = set(str(first["vendor"]).split(";"))
        behind = [(clouds.get(r["channel"], "other"), "hosting cloud"), (r["model_vendor"], "model vendor")]
        for vendor, role in behind:
            if vendor in own or vendor in NOT_A_PROVIDER or vendor in OPEN_WEIGHT_VENDORS:
                continue
            p = by_vendor.get(vendor)
            rows.append({"deployment_id": r["deployment_id"], "contract_ref": c["contract_ref"], "rank": 2,
                         "provider_id": p["provider_id"] if p else "", "vendor": vendor, "role": role,
                         "recipient_id": first["provider_id"]})
    cols = ["deployment_id", "contract_ref", "rank", "provider_id", "vendor", "role", "recipient_id"]
    return pd.DataFrame(rows, columns=cols).drop_duplicates(["deployment_id", "rank", "provider_id", "vendor"])


def _ultimate_parent(pid: str, providers: dict[str, dict]) -> str:
    seen = {pid}
    while (parent := providers[pid]["parent"]) and parent in providers and parent not in seen:
        seen.add(parent)
        pid = parent
    return pid


def build_register(a: Assessment, book: ProviderBook, spec: RoiSpec, reference_date: dt.date,
                   ict: pd.DataFrame | None = None) -> Register:
    """`ict`: the B_07.01 values per deployment when the caller already has them (ict_assessment)."""
    entity = a.lib.profile.dora or RegisterEntity()
    findings: list[Finding] = []
    lei = entity.lei
    if lei and (p := lei_problem(lei)):
        findings.append(Finding(template="B_01.01", row=1, column="c0010", label="LEI of the entity", kind="invalid",
                                message=f"{lei!r}: {p}"))
    providers = book.provider_by_id
    contracts = book.contract_by_ref
    frame = a.frame.reset_index(drop=True)
    inventory_ids = set(frame["deployment_id"])
    linked_ids = set(book.links["deployment_id"])
    unlinked = [d for d in frame["deployment_id"] if d not in linked_ids]
    unknown_links = sorted(linked_ids - inventory_ids)
    t = a.residual.table
    dep = frame.assign(country=_region_countries(a).fillna(""), rating=t["rating"].astype(str).to_numpy())
    dep = dep.merge(book.links, on="deployment_id", how="inner")
    ict = ict if ict is not None else ict_assessment(a, spec)
    dep = dep.merge(ict, on="deployment_id", how="left")
    na_country = spec.package.not_applicable_country

    # functions: one per business unit with linked deployments (F1.. in name order: stable between runs)
    units = sorted(dep["business_unit"].astype(str).unique())
    fid = {u: f"F{i + 1}" for i, u in enumerate(units)}
    dep["function"] = dep["business_unit"].astype(str).map(fid)
    critical_units = {u for u, g in dep.groupby("business_unit") if g["criticality"].isin(["critical", "high"]).any()}
    activity = {f.business_unit: f.licensed_activity for f in entity.functions}
    answers = a.answers_in_effect  # the exit plan of a tested fallback is a fact of the inventory

    def answer(d: str, q: str):
        return answers.get(d, {}).get(q, a.lib.questions[q].default)

    b0101 = pd.DataFrame([{
        "c0010": lei, "c0020": a.lib.profile.name, "c0030": entity.country.upper(),
        "c0040": _code(spec.lists["entity_type"], entity.entity_type), "c0050": entity.competent_authority,
        "c0060": reference_date.isoformat()}])

    crows = list(contracts.values())
    b0201 = pd.DataFrame([{"c0010": c["contract_ref"], "c0020": STANDALONE, "c0030": "", "c0040": c["currency"],
                           "c0050": c["annual_spend"]} for c in crows], columns=["c0010", "c0020", "c0030", "c0040",
                                                                                 "c0050"])
    b0202_rows, b0202_crit = [], set()
    keys = ["contract_ref", "function", "country"]
    for (ref, fn, country), g in dep.groupby(keys, sort=True):
        c = contracts[ref]
        p = providers[c["provider_id"]]
        unit = g["business_unit"].iat[0]
        if unit in critical_units:
            b0202_crit.add(len(b0202_rows))
        b0202_rows.append({
            "c0010": ref, "c0020": lei, "c0030": p["lei"], "c0040": LEI_CODE, "c0050": fn,
            "c0060": c["ict_service_type"], "c0070": c["start"].isoformat(),
            "c0080": c["end"].isoformat() if c["end"] else OPEN_END, "c0090": "",
            "c0100": _days(c["notice_period_days"]), "c0110": _days(c["provider_notice_period_days"]),
            "c0120": c["governing_law"], "c0130": p["country"], "c0140": YES,
            "c0150": country or na_country, "c0160": country or na_country,
            "c0170": max(g["data_sensitivity"].map(SENSITIVENESS), key=SENS_ORDER.index),
            "c0180": max((_reliance(cr, fb) for cr, fb in zip(g["criticality"], g["fallback_status"], strict=True)),
                         key=RELIANCE_ORDER.index),
        })
    b0202 = pd.DataFrame(b0202_rows, columns=list(spec.templates["B_02.02"].columns))
    b0301 = pd.DataFrame([{"c0010": c["contract_ref"], "c0020": lei} for c in crows], columns=["c0010", "c0020"])
    b0302 = pd.DataFrame([{"c0010": c["contract_ref"], "c0020": providers[c["provider_id"]]["lei"], "c0030": LEI_CODE}
                          for c in crows], columns=["c0010", "c0020", "c0030"])

    chain = supply_chain(a, book)
    b0502_rows = []
    for (ref, rank, pid, vendor), g in chain.groupby(["contract_ref", "rank", "provider_id", "vendor"], sort=True):
        c = contracts[ref]
        if rank == 2 and not pid:
            findings.append(Finding(
                template="B_05.02", row=None, key=ref, column="c0030", label="Identification code of the provider",
                kind="broken reference",
                message=f"the {g['role'].iat[0]} {a.lib.vendor_label(vendor)} behind contract {ref} "
                        f"(deployments {', '.join(g['deployment_id'].astype(str).head(5))}) has no row in the providers "
                        "file, so B_05.01 cannot list it; add the provider with its LEI and vendor"))
        recipient = providers[g["recipient_id"].iat[0]]["lei"] if rank == 2 else ""
        b0502_rows.append({"c0010": ref, "c0020": c["ict_service_type"],
                           "c0030": providers[pid]["lei"] if pid else "", "c0040": LEI_CODE, "c0050": int(rank),
                           "c0060": recipient, "c0070": LEI_CODE if recipient else ""})
    b0502 = pd.DataFrame(b0502_rows, columns=list(spec.templates["B_05.02"].columns))

    in_register = list(dict.fromkeys([c["provider_id"] for c in crows]
                                     + [p for p in chain.loc[chain["rank"] == 2, "provider_id"] if p]))
    b0501_rows = []
    for pid in in_register:
        p = providers[pid]
        own = [c for c in crows if c["provider_id"] == pid]
        currencies = {c["currency"] for c in own}
        if len(currencies) > 1:
            findings.append(Finding(template="B_05.01", row=len(b0501_rows) + 1, key=pid, column="c0100",
                                    label="Total annual expense", kind="invalid",
                                    message=f"the provider's contracts are in several currencies "
                                            f"({', '.join(sorted(currencies))}); B_05.01 takes one amount in one "
                                            "currency: convert and report the total"))
        top = _ultimate_parent(pid, providers)
        b0501_rows.append({
            "c0010": p["lei"], "c0020": LEI_CODE, "c0030": "", "c0040": "", "c0050": p["name"], "c0060": "",
            "c0070": LEGAL_PERSON, "c0080": p["country"],
            "c0090": currencies.pop() if len(currencies) == 1 else "",
            "c0100": round(sum(c["annual_spend"] for c in own), 2) if own and len({c["currency"] for c in own}) == 1
            else "",
            "c0110": providers[top]["lei"] if top != pid else "", "c0120": LEI_CODE if top != pid else ""})
    b0501 = pd.DataFrame(b0501_rows, columns=list(spec.templates["B_05.01"].columns))

    b0601_rows = []
    for unit in units:
        g = dep[dep["business_unit"] == unit]
        crit = g["criticality"].map(CRIT_ORDER.index).max()
        rto = min(float(answer(d, "rto_hours")) for d in g["deployment_id"])
        rpo = min(float(answer(d, "rpo_hours")) for d in g["deployment_id"]) if "rpo_hours" in a.lib.questions else ""
        b0601_rows.append({
            "c0010": fid[unit], "c0020": _code(spec.lists["licensed_activity"], activity.get(unit, "")),
            "c0030": unit, "c0040": lei, "c0050": YES if unit in critical_units else NO,
            "c0060": (f"supported by {int((g['criticality'].isin(['critical', 'high'])).sum())} AI deployment(s) rated "
                      "critical or high criticality") if unit in critical_units else "",
            "c0070": reference_date.isoformat(), "c0080": int(round(rto)), "c0090": int(round(rpo)) if rpo != "" else "",
            "c0100": ["eba_ZZ:x791", "eba_ZZ:x792", "eba_ZZ:x793", "eba_ZZ:x793"][int(crit)]})
    b0601 = pd.DataFrame(b0601_rows, columns=list(spec.templates["B_06.01"].columns))

    b0701_rows = []
    for (ref, service), g in dep.groupby(["contract_ref", dep["contract_ref"].map(
            lambda r: contracts[r]["ict_service_type"])], sort=True):
        c = contracts[ref]
        audit = c["last_audit"] if isinstance(c["last_audit"], dt.date) else None
        b0701_rows.append({"c0010": ref, "c0020": providers[c["provider_id"]]["lei"], "c0030": LEI_CODE,
                           "c0040": service, **combine(g), "c0070": audit.isoformat() if audit else ""})
    b0701 = pd.DataFrame(b0701_rows, columns=list(spec.templates["B_07.01"].columns))

    templates = {"B_01.01": b0101, "B_02.01": b0201, "B_02.02": b0202, "B_03.01": b0301, "B_03.02": b0302,
                 "B_05.01": b0501, "B_05.02": b0502, "B_06.01": b0601, "B_07.01": b0701}
    templates = {k: v[list(spec.templates[k].columns)] for k, v in templates.items()}
    crit_rows = {"B_02.02": b0202_crit}
    reg = Register(templates, findings, crit_rows, reference_date, lei, entity.currency.upper(), unlinked,
                   unknown_links, chain)
    reg.findings += validate_register(reg, spec)
    return reg


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v)) or (isinstance(v, str) and not v.strip())


def validate_register(reg: Register, spec: RoiSpec) -> list[Finding]:
    """Every missing mandatory field and every broken reference between templates, per row."""
    out: list[Finding] = []
    t = reg.templates
    key_col = {"B_05.01": "c0010", "B_06.01": "c0010"}
    for name, df in t.items():
        cols = spec.templates[name].columns
        crit = reg.critical_rows.get(name, set())
        for i, rec in enumerate(df.to_dict("records")):
            key = str(rec.get(key_col.get(name, "c0010"), ""))
            for code, col in cols.items():
                v = rec.get(code)
                need = col.mandatory == "always" or (col.mandatory == "critical" and i in crit)
                if need and _blank(v):
                    out.append(Finding(template=name, row=i + 1, key=key, column=code, label=col.label, kind="missing",
                                       message="mandatory field is empty" + (
                                           " (the ICT service supports a critical or important function)"
                                           if col.mandatory == "critical" else "")))
                elif not _blank(v) and col.list and str(v) not in spec.lists[col.list]:
                    out.append(Finding(template=name, row=i + 1, key=key, column=code, label=col.label, kind="invalid",
                                       message=f"{v!r} is not in the EBA list {col.list}"))
                elif not _blank(v) and col.kind == "country" and v != spec.package.not_applicable_country \
                        and country_problem(str(v)):
                    out.append(Finding(template=name, row=i + 1, key=key, column=code, label=col.label, kind="invalid",
                                       message=f"{v!r}: {country_problem(str(v))}"))
    contracts = set(t["B_02.01"]["c0010"])
    providers = set(t["B_05.01"]["c0010"])
    functions = set(t["B_06.01"]["c0010"])
    refs = [("B_02.02", "c0010", contracts, "B_02.01", "contract"), ("B_03.01", "c0010", contracts, "B_02.01", "contract"),
            ("B_03.02", "c0010", contracts, "B_02.01", "contract"), ("B_05.02", "c0010", contracts, "B_02.01", "contract"),
            ("B_07.01", "c0010", contracts, "B_02.01", "contract"),
            ("B_02.02", "c0030", providers, "B_05.01", "provider"), ("B_03.02", "c0020", providers, "B_05.01", "provider"),
            ("B_05.02", "c0030", providers, "B_05.01", "provider"), ("B_07.01", "c0020", providers, "B_05.01", "provider"),
            ("B_02.02", "c0050", functions, "B_06.01", "function")]
    for name, col, parent, parent_name, what in refs:
        for i, v in enumerate(t[name][col]):
            if not _blank(v) and v not in parent:
                out.append(Finding(template=name, row=i + 1, key=str(t[name]["c0010"].iat[i]), column=col,
                                   label=spec.templates[name].columns[col].label, kind="broken reference",
                                   message=f"{what} {v!r} is not in {parent_name}"))
    return out


# --- writers ---------------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _csv_value(v: object) -> str:
    if _blank(v):
        return ""
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return _CONTROL.sub(" ", str(v))  # a machine format: values verbatim, but one record per line


def _country(v: object, na: str) -> str:
    s = str(v)
    return s if not s or s.startswith("eba_") else f"eba_GA:{s}"


def eba_codes(reg: Register, spec: RoiSpec) -> dict[str, pd.DataFrame]:
    """Frames as the taxonomy wants them: countries eba_GA:XX, currencies eba_CU:XXX."""
    out = {}
    for name, df in reg.templates.items():
        df = df.copy()
        for code, col in spec.templates[name].columns.items():
            if col.kind == "country":
                df[code] = df[code].map(lambda v: "" if _blank(v) else _country(v, spec.package.not_applicable_country))
            elif col.kind == "currency":
                df[code] = df[code].map(lambda v: "" if _blank(v) else f"eba_CU:{v}")
        out[name] = df
    return out


def package_name(reg: Register) -> str:
    """<LEI>.<basis>_DORA_<reference date>: the package folder (and default file) name."""
    lei = reg.entity_lei or "NO-LEI"
    return f"{lei}.CON_DORA_{reg.reference_date:%Y-%m-%d}"


def write_eba_csv(reg: Register, spec: RoiSpec, root: str | None = None) -> bytes:
    """The xBRL-CSV report package: ROOT/META-INF/reportPackage.json, ROOT/reports/report.json,
    parameters.csv, FilingIndicators.csv and one b_xx.xx.csv per template."""
    root = re.sub(r"[^A-Za-z0-9._-]", "_", root or package_name(reg))
    pkg = spec.package
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{root}/META-INF/reportPackage.json",
                   json.dumps({"documentInfo": {"documentType": pkg.report_package_document_type}}, indent=2))
        z.writestr(f"{root}/reports/report.json", json.dumps(
            {"documentInfo": {"documentType": pkg.report_document_type, "extends": [spec.taxonomy.module]}}, indent=2))
        params = [("entityID", f"{pkg.entity_id_scheme}:{reg.entity_lei}.{pkg.entity_id_suffix}"),
                  ("refPeriod", reg.reference_date.isoformat()), ("baseCurrency", f"iso4217:{reg.base_currency}"),
                  ("decimalsInteger", str(pkg.decimals_integer)), ("decimalsMonetary", str(pkg.decimals_monetary))]
        z.writestr(f"{root}/reports/parameters.csv", _csv([["name", "value"], *map(list, params)]))
        frames = eba_codes(reg, spec)
        z.writestr(f"{root}/reports/FilingIndicators.csv", _csv(
            [["templateID", "reported"]] + [[k, "true" if len(v) else "false"] for k, v in frames.items()]))
        for name, df in frames.items():
            rows = [list(df.columns)] + [[_csv_value(v) for v in r] for r in df.itertuples(index=False)]
            z.writestr(f"{root}/reports/{name.lower()}.csv", _csv(rows))
    return buf.getvalue()


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def human_frame(name: str, df: pd.DataFrame, spec: RoiSpec) -> pd.DataFrame:
    """Codes replaced by their EBA labels and columns titled for people."""
    cols = spec.templates[name].columns
    out = pd.DataFrame(index=df.index)
    for code, col in cols.items():
        s = df[code]
        if col.list:
            s = s.map(lambda v, lst=col.list: "" if _blank(v) else spec.label(lst, str(v)))
        elif col.kind == "country":
            s = s.map(lambda v: "Not applicable" if v == spec.package.not_applicable_country else v)
        out[f"{code} {col.label}"] = s
    return out


def write_xlsx(reg: Register, spec: RoiSpec) -> bytes:
    """One sheet per template in the EBA layout (row 1 titles, row 2 codes, values as labels), a
    cover sheet citing the ITS and taxonomy, and the validation report."""
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Cover"
    cover.append(["DORA register of information"])
    cover.append(["Legal basis", spec.regulation])
    cover.append(["EBA taxonomy", f"DORA {spec.taxonomy.version} ({spec.taxonomy.module})"])
    cover.append(["Reference date", reg.reference_date.isoformat()])
    cover.append(["Entity LEI", reg.entity_lei])
    cover.append(["Findings", f"{len(reg.findings)} (see the Validation sheet)"])
    cover["A1"].font = Font(bold=True, size=14)
    head = PatternFill("solid", fgColor="DDDDDD")
    for name, df in reg.templates.items():
        ws = wb.create_sheet(name)
        cols = spec.templates[name].columns
        ws.append([c.label for c in cols.values()])
        ws.append(list(cols))
        for cell in ws[1]:
            cell.font, cell.fill = Font(bold=True), head
        human = human_frame(name, df, spec)
        for r in human.itertuples(index=False):
            ws.append([_xlsx_value(v) for v in r])
        ws.freeze_panes = "A3"
    ws = wb.create_sheet("Validation")
    ws.append(["Template", "Row", "Key", "Column", "Field", "Kind", "Message"])
    for f in reg.findings:
        ws.append([_xlsx_value(v) for v in (f.template, f.row or "", f.key, f.column, f.label, f.kind, f.message)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_value(v: object) -> object:
    if _blank(v):
        return ""
    if isinstance(v, int | float):
        return v
    s = _CONTROL.sub(" ", str(v))
    return escape_text(pd.Series([s])).iat[0]  # hostile text stays text, never a formula
