"""The register's two writers: the EBA xBRL-CSV report package (zip, the filing-rules name) and an XLSX in
the template layout for people."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile

import openpyxl
import pandas as pd
from openpyxl.styles import Font, PatternFill

from risk_models.dora.model import MODULE_TEMPLATES, Register
from risk_models.dora.rules import blank
from risk_models.dora.spec import RoiSpec
from risk_models.inventory.read import escape_text

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _csv_value(v: object) -> str:
    if blank(v):
        return ""
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return _CONTROL.sub(" ", str(v))  # a machine format: values verbatim, but one record per line


def _country(v: object) -> str:
    s = str(v)
    return s if not s or s.startswith("eba_") else f"eba_GA:{s}"


def eba_codes(reg: Register, spec: RoiSpec) -> dict[str, pd.DataFrame]:
    """Frames as the taxonomy wants them: countries eba_GA:XX, currencies eba_CU:XXX."""
    out = {}
    for name, df in reg.templates.items():
        df = df.copy()
        na_keys = spec.package.not_applicable_keys.get(name, [])
        for code, col in spec.templates[name].columns.items():
            if col.kind == "country":
                na = spec.package.not_applicable_country if code in na_keys else ""
                df[code] = df[code].map(lambda v, na=na: na if blank(v) else _country(v))
            elif code in na_keys:
                df[code] = df[code].map(lambda v: spec.package.not_applicable_text if blank(v) else v)
            elif col.kind == "currency":
                df[code] = df[code].map(lambda v: "" if blank(v) else f"eba_CU:{v}")
        out[name] = df
    return out


NAMINGS = {"eba": "EBA filing rules", "nbb": "NBB OneGate (Belgium)"}


def package_name(reg: Register, spec: RoiSpec, created: dt.datetime | None = None, naming: str = "eba") -> str:
    """The filing name of the package, for the file and its top folder. EBA Filing Rules v5.5:
    <LEI>.<IND|CON>_<country>_<framework code>_<module>_<reference date>_<creation timestamp, ms>;
    the NBB's OneGate: LEI_<LEI>.<IND|CON>_NBB_DOR_DORA_ROI (see config/dora_roi.yaml, package.nbb)."""
    if naming not in NAMINGS:
        raise ValueError(f"file naming {naming!r}: one of {', '.join(NAMINGS)}")
    lei = reg.entity_lei or "NO-LEI"
    if naming == "nbb":
        nbb = spec.package.nbb
        return f"LEI_{lei}.{_suffix(reg)}_{nbb.authority}_{nbb.domain}_{nbb.report}"
    ts = (created or dt.datetime.now(dt.UTC)).strftime("%Y%m%d%H%M%S%f")[:17]
    return (f"{lei}.{_suffix(reg)}_{reg.country or 'XX'}_{spec.package.framework_code}_{spec.package.module_code}_"
            f"{reg.reference_date:%Y-%m-%d}_{ts}")


def _suffix(reg: Register) -> str:
    return "CON" if reg.basis == "consolidated" else "IND"


def write_eba_csv(reg: Register, spec: RoiSpec, root: str | None = None) -> bytes:
    """The xBRL-CSV report package: ROOT/META-INF/reportPackage.json, ROOT/reports/report.json,
    parameters.csv, FilingIndicators.csv and one b_xx.xx.csv per template."""
    root = re.sub(r"[^A-Za-z0-9._-]", "_", root or package_name(reg, spec))
    pkg = spec.package
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{root}/META-INF/reportPackage.json",
                   json.dumps({"documentInfo": {"documentType": pkg.report_package_document_type}}, indent=2))
        z.writestr(f"{root}/reports/report.json", json.dumps(
            {"documentInfo": {"documentType": pkg.report_document_type, "extends": [spec.taxonomy.module]}}, indent=2))
        params = [("entityID", f"{pkg.entity_id_scheme}:{reg.entity_lei}.{_suffix(reg)}"),
                  ("refPeriod", reg.reference_date.isoformat()), ("baseCurrency", f"iso4217:{reg.base_currency}"),
                  ("decimalsInteger", str(pkg.decimals_integer)), ("decimalsMonetary", str(pkg.decimals_monetary))]
        z.writestr(f"{root}/reports/parameters.csv", _csv([["name", "value"], *map(list, params)]))
        frames = eba_codes(reg, spec)
        # rule 808: a table is filed exactly when its indicator is true
        z.writestr(f"{root}/reports/FilingIndicators.csv", _csv(
            [["templateID", "reported"]] + [[k, "true" if k in frames and len(frames[k]) else "false"]
                                            for k in MODULE_TEMPLATES]))
        for name, df in frames.items():
            if not len(df):
                continue
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
            s = s.map(lambda v, lst=col.list: "" if blank(v) else spec.label(lst, str(v)))
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
    cover.append(["Reporting basis", f"{reg.basis} ({_suffix(reg)})"])
    cover.append(["Amounts", f"in {reg.base_currency}" + (
        "; converted at the reference rates " + "; ".join(reg.rates_used) if reg.rates_used else "")])
    cover.append(["Findings", f"{len(reg.findings)} (see the Validation sheet)"])
    cover.append(["Suggested columns", "grey columns headed 'Suggested' hold the tool's own fallback analysis; "
                  "they are never filed: only the firm's answers are"])
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
        sug = reg.suggested.get(name)
        if sug is not None and len(sug) == len(df):
            extra = human_frame(name, sug.reindex(columns=list(cols), fill_value=""), spec)[
                [f"{c} {cols[c].label}" for c in sug.columns]]
            human = pd.concat([human.reset_index(drop=True), extra.reset_index(drop=True).add_prefix("sug ")], axis=1)
            first = len(cols) + 1
            for j, code in enumerate(sug.columns):
                ws.cell(1, first + j, f"Suggested (not filed): {cols[code].label}").font = Font(italic=True)
                ws.cell(2, first + j, f"{code} (suggested)")
                ws.cell(1, first + j).fill = PatternFill("solid", fgColor="EEEEEE")
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
    if blank(v):
        return ""
    if isinstance(v, int | float):
        return v
    s = _CONTROL.sub(" ", str(v))
    return escape_text(pd.Series([s])).iat[0]  # hostile text stays text, never a formula
