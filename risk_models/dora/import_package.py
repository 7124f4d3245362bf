"""Read an EBA xBRL-CSV report package of the DORA register (one this tool wrote or one from a GRC
tool) back into providers and contracts files, so this tool can add its AI slice to a register it
did not write. Only what the package carries comes back: deployments, provider types and CTPP
designation are this tool's own data and stay blank (the notes column says so).

The package layout read (xBRL-CSV report package, EBA DORA taxonomy 4.0): ROOT/META-INF/reportPackage.json,
ROOT/reports/report.json (extending the DORA module), parameters.csv, FilingIndicators.csv and one
b_xx.xx.csv per filed template."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pandas as pd

from risk_models.providers.records import CONTRACT_COLUMNS, PROVIDER_COLUMNS

MAX_MEMBER_BYTES = 64 * 1024 * 1024
CLOUD_SERVICES = {"eba_TA:S17", "eba_TA:S18", "eba_TA:S19"}


class PackageError(ValueError):
    """The file is not a readable DORA register package; the message says what is wrong."""


def read_package(data: bytes, module: str) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """(tables by template id 'B_02.01', parameters) of a package; PackageError naming the problem."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise PackageError("not a zip file (an EBA report package is a .zip)") from None
    with z:
        names = [n for n in z.namelist() if not n.endswith("/")]
        roots = {n.split("/", 1)[0] for n in names}
        if len(roots) != 1:
            raise PackageError(f"expected one top folder in the zip, found {len(roots)}: {', '.join(sorted(roots))[:200]}")
        root = roots.pop()

        def member(path: str) -> bytes:
            info = z.getinfo(f"{root}/{path}")
            if info.file_size > MAX_MEMBER_BYTES:
                raise PackageError(f"{path}: {info.file_size:,} bytes, more than a register holds")
            return z.read(info)

        for needed in ("META-INF/reportPackage.json", "reports/report.json", "reports/parameters.csv",
                       "reports/FilingIndicators.csv"):
            if f"{root}/{needed}" not in names:
                raise PackageError(f"{needed} is missing: not an xBRL-CSV report package")
        try:
            report = json.loads(member("reports/report.json"))
        except json.JSONDecodeError as exc:
            raise PackageError(f"reports/report.json is not JSON ({exc.msg})") from None
        extends = report.get("documentInfo", {}).get("extends", []) if isinstance(report, dict) else []
        if module not in extends:
            raise PackageError(f"reports/report.json extends {extends or 'nothing'}, not the DORA module {module}")
        params = dict(_rows(member("reports/parameters.csv"))[1:])
        indicators = {k: v for k, v in _rows(member("reports/FilingIndicators.csv"))[1:]}
        tables = {}
        for template, reported in indicators.items():
            path = f"reports/{template.lower()}.csv"
            if reported == "true":
                if f"{root}/{path}" not in names:
                    raise PackageError(f"the filing indicator of {template} is true but {path} is missing")
                rows = _rows(member(path))
                tables[template] = pd.DataFrame(rows[1:], columns=rows[0]).fillna("")
    return tables, params


def _rows(data: bytes) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    except UnicodeDecodeError:
        raise PackageError("a CSV of the package is not UTF-8") from None


def _plain(v: str) -> str:
    """eba_GA:IE -> IE, eba_CU:EUR -> EUR; codes of lists stay codes."""
    for prefix in ("eba_GA:", "eba_CU:"):
        if v.startswith(prefix):
            return "" if v == "eba_GA:qx2007" else v[len(prefix):]
    return v


def book_frames(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Providers and contracts frames in the columns of the providers / contracts files."""
    def t(name: str) -> pd.DataFrame:
        return tables.get(name, pd.DataFrame()).astype(str)

    b0501, b0201, b0202, b0302, b0701 = t("B_05.01"), t("B_02.01"), t("B_02.02"), t("B_03.02"), t("B_07.01")
    if b0501.empty or b0201.empty:
        raise PackageError("the package files no B_05.01 (providers) or no B_02.01 (contracts)")
    ids = set(b0501["c0010"])
    services = b0202.groupby("c0030")["c0060"].agg(set).to_dict() if not b0202.empty else {}
    providers = []
    for r in b0501.to_dict("records"):
        lei = r["c0010"]
        # only the ultimate parent is filed (B_05.01 c0110): the direct parent stays unknown
        parent = r.get("c0110", "") if r.get("c0110", "") in ids and r.get("c0110") != lei else ""
        providers.append({
            "provider_id": lei, "name": r.get("c0050", ""), "lei": lei if r.get("c0020") == "eba_qCO:qx2000" else "",
            # a provider without an LEI keeps its other code; one with an LEI keeps its additional code
            **({"code": r.get("c0030", ""), "code_type": r.get("c0040", "")} if r.get("c0020") == "eba_qCO:qx2000"
               else {"code": lei, "code_type": r.get("c0020", "")}),
            "country": _plain(r.get("c0080", "")), "parent": parent,
            "type": "cloud" if services.get(lei, set()) & CLOUD_SERVICES else "reseller", "designated_critical": "",
            "vendor": "", "notes": "imported from an EBA register package: type from its ICT service types; "
                                   "vendor and CTPP designation not in the package"})
    first = b0202.drop_duplicates("c0010").set_index("c0010") if not b0202.empty else pd.DataFrame()
    signer = b0302.drop_duplicates("c0010").set_index("c0010")["c0020"].to_dict() if not b0302.empty else {}
    audit = b0701.drop_duplicates("c0010").set_index("c0010")["c0070"].to_dict() if not b0701.empty else {}
    contracts = []
    for r in b0201.to_dict("records"):
        ref = r["c0010"]
        s = first.loc[ref].to_dict() if ref in first.index else {}
        end = s.get("c0080", "")
        contracts.append({
            "contract_ref": ref, "provider_id": signer.get(ref, s.get("c0030", "")), "start": s.get("c0070", ""),
            "end": "" if end == "9999-12-31" else end, "notice_period_days": s.get("c0100", ""),
            "provider_notice_period_days": s.get("c0110", ""), "annual_spend": r.get("c0050", ""),
            "committed_spend": "", "currency": _plain(r.get("c0040", "")), "governing_law": _plain(s.get("c0120", "")),
            "termination_rights": "", "exit_assistance": "", "ict_service_type": s.get("c0060", ""),
            "last_audit": audit.get(ref, ""), "deployments": "", "termination_reason": s.get("c0090", ""),
            "overarching_contract": r.get("c0030", "") if r.get("c0020") == "eba_CO:x3" else ""})
    return (pd.DataFrame(providers, columns=list(PROVIDER_COLUMNS)),
            pd.DataFrame(contracts, columns=list(CONTRACT_COLUMNS)))


def diff(old: pd.DataFrame, new: pd.DataFrame, key: str) -> dict[str, list[str]]:
    """Rows added, removed and changed (by key) from `old` to `new` (both as text)."""
    o = old.fillna("").astype(str).drop_duplicates(key).set_index(key)
    n = new.fillna("").astype(str).drop_duplicates(key).set_index(key)
    common = [c for c in n.columns if c in o.columns]
    changed = [k for k in n.index.intersection(o.index) if not o.loc[k, common].equals(n.loc[k, common])]
    return {"added": sorted(set(n.index) - set(o.index)), "removed": sorted(set(o.index) - set(n.index)),
            "changed": sorted(changed)}
