"""ICT third-party providers and contracts as files (CSV, XLSX or JSON, like the inventory),
validated into frames plus row errors {file, line, key, column, value, message}.

A provider or contract row with any bad cell is rejected and listed; nothing is dropped silently.
Deployments link to contracts through the contract file's `deployments` column (`;`-separated
deployment ids), so inventories keep importing unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import pandas as pd
import pycountry
from pydantic import BaseModel

from risk_models.config.loader import Library, norm_key
from risk_models.inventory.read import (
    DEFAULT_MAX_BYTES,
    UNCALCULATED,
    InventoryFileError,
    normalise_header,
    read_file,
    read_table,
    uncalculated_cells,
    unescape_text,
)
from risk_models.io.numbers import read_money
from risk_models.providers.lei import lei_problem


class ProviderType(StrEnum):
    CLOUD = "cloud"
    MODEL_VENDOR = "model_vendor"
    RESELLER = "reseller"


PROVIDER_TYPE_LABELS = {"cloud": "Cloud", "model_vendor": "Model vendor", "reseller": "Reseller"}
TERMINATION_RIGHTS = {"for_convenience": "For convenience", "for_cause_only": "For cause only", "none": "None"}
PROVIDER_COLUMNS = ("provider_id", "name", "lei", "country", "parent", "type", "designated_critical", "vendor", "notes",
                    "code", "code_type")
CONTRACT_COLUMNS = ("contract_ref", "provider_id", "start", "end", "notice_period_days", "provider_notice_period_days",
                    "annual_spend", "committed_spend", "currency", "governing_law", "termination_rights",
                    "exit_assistance", "ict_service_type", "last_audit", "deployments", "termination_reason",
                    "overarching_contract")
PROVIDER_REQUIRED = ("provider_id", "name", "country", "type")
# The EBA's types of code other than the LEI (LISTIDTYPE of the list of possible values, 3 March 2025;
# config/dora_roi.yaml lists.code_type has all six): a provider without an LEI is identified by one of
# these, and one with an LEI may give one as its additional code (B_05.01 c0030/c0040).
CODE_TYPES = {"eba_qCO:qx2001": "National code", "eba_qCO:qx2002": "EUID", "eba_qCO:qx2003": "CRN",
              "eba_qCO:qx2004": "VAT", "eba_qCO:qx2005": "Passport number"}
CODE_TYPE_NAMES = {"national code": "eba_qCO:qx2001", "european unique identifier": "eba_qCO:qx2002",
                   "company registration number": "eba_qCO:qx2003",
                   "value added tax identification number": "eba_qCO:qx2004", "vat number": "eba_qCO:qx2004",
                   "passport": "eba_qCO:qx2005", "pnr": "eba_qCO:qx2005"}
LEI_TYPE = "eba_qCO:qx2000"
CONTRACT_REQUIRED = ("contract_ref", "provider_id", "start", "annual_spend", "currency", "ict_service_type")
_BOOL = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}
# Model makers whose weights are licensed, not operated: the host runs them, so they provide no ICT
# service of their own and are no fourth party (DORA Art. 3(21) "ICT services" are services provided).
OPEN_WEIGHT_VENDORS = frozenset({"openai_open_weights", "meta", "mistral", "alibaba"})
NOT_A_PROVIDER = frozenset({"other", "self"})


class RecordError(BaseModel):
    """A rejected cell of a provider or contract file."""

    file: str
    line: int | None
    key: str | None = None
    column: str | None = None
    value: str | None = None
    message: str

    def text(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        who = f" ({self.key})" if self.key else ""
        col = f" column {self.column}" if self.column else ""
        val = f": value {self.value!r}" if self.value is not None else ""
        return f"{self.file} {where}{who}{col}{val} — {self.message}"


@dataclass
class ProviderBook:
    """Valid providers and contracts, the deployment -> contract links, and every rejected cell."""

    providers: pd.DataFrame
    contracts: pd.DataFrame
    links: pd.DataFrame  # deployment_id, contract_ref
    errors: list[RecordError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def provider_by_id(self) -> dict[str, dict]:
        return {r["provider_id"]: r for r in self.providers.to_dict("records")}

    @property
    def contract_by_ref(self) -> dict[str, dict]:
        return {r["contract_ref"]: r for r in self.contracts.to_dict("records")}


def vendor_keys(lib: Library) -> dict[str, str]:
    """Normalised vendor names (ids and labels of model vendors and channel cloud providers) -> key."""
    out = {norm_key(k): k for k in lib.models.vendors}
    out |= {norm_key(label): k for k, label in lib.models.vendors.items()}
    for ch in lib.channels.channels.values():
        out.setdefault(norm_key(ch.cloud_provider), ch.cloud_provider)
    out |= {norm_key("Amazon Web Services"): "aws", norm_key("Microsoft Azure"): "microsoft",
            norm_key("Google Cloud"): "google"}
    for k in NOT_A_PROVIDER:
        out.pop(norm_key(k), None)
    return out


def country_problem(code: str) -> str | None:
    if pycountry.countries.get(alpha_2=code.upper()) is None or len(code) != 2:
        return "not an ISO 3166-1 alpha-2 country code (e.g. IE, DE, US)"
    return None


def currency_problem(code: str) -> str | None:
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code.upper()) is None:
        return "not an ISO 4217 currency code (e.g. EUR, USD, GBP)"
    return None


def country_name(code: str) -> str:
    c = pycountry.countries.get(alpha_2=code.upper()) if code else None
    return c.name if c else code


class _Rows:
    """Row-by-row validation helper: a few hundred providers or contracts, not 20,000 deployments."""

    def __init__(self, file: str, key_col: str) -> None:
        self.file, self.key_col = file, key_col
        self.errors: list[RecordError] = []

    def error(self, line: int, key: str, column: str | None, value: str | None, message: str) -> None:
        self.errors.append(RecordError(file=self.file, line=line, key=key or None, column=column, value=value,
                                       message=message))

    def uncalculated(self, line: int, key: str, uncalc: dict[int, dict[str, str]]) -> None:
        """Formula cells of this row saved without a calculated value: an error each (see `_table`)."""
        for column, formula in uncalc.get(line, {}).items():
            self.error(line, key, column, formula, UNCALCULATED)

    def key(self, line: int, key: str, seen: dict[str, int], missing: str) -> None:
        """The row's key is required and unique (the first occurrence wins)."""
        if not key:
            self.error(line, key, self.key_col, key, f"required: {missing}")
        elif key in seen:
            self.error(line, key, self.key_col, key,
                       f"duplicate {self.key_col}; the first occurrence (line {seen[key]}) wins")


def _table(raw: pd.DataFrame, lines, columns: tuple[str, ...], required: tuple[str, ...], file: str
           ) -> tuple[pd.DataFrame, list[int], list[RecordError], dict[int, dict[str, str]]]:
    """The rows to validate, comment lines, file errors, and {line: {column: formula}} of formula cells
    saved without a calculated value (each an error for its row: "" would read as "not given")."""
    uncalc = {int(lines[row]): {c: v for c, v in zip(normalise_header(list(cells)), cells.values(), strict=True)
                                if c in columns}
              for row, cells in uncalculated_cells(raw).items()}
    uncalc = {line: cells for line, cells in uncalc.items() if cells}
    df = raw.copy()
    df.columns = normalise_header(list(df.columns))
    missing = [c for c in required if c not in df.columns]
    if missing:
        return pd.DataFrame(columns=[*columns, "line"]), [], [
            RecordError(file=file, line=1, column=c, message=f"missing required column {c!r}; the header has: "
                        f"{', '.join(map(str, raw.columns))}") for c in missing], {}
    for c in columns:
        if c not in df.columns:
            df[c] = ""
    df = df[list(columns)].fillna("").astype(str)
    if raw.attrs.get("format") in ("csv", "xlsx"):
        df = df.apply(unescape_text)
    df = df.apply(lambda s: s.str.strip())
    df["line"] = list(lines)
    comment = df[columns[0]].str.startswith("#")
    blank = (df[list(columns)] == "").all(axis=1) & ~df["line"].isin(list(uncalc))
    return df[~comment & ~blank].reset_index(drop=True), [int(x) for x in df.loc[comment, "line"]], [], uncalc


def _date(text: str) -> dt.date | None:
    t = re.sub(r"[T ]00:00(:00)?$", "", text).replace("/", "-")
    try:
        return dt.date.fromisoformat(t) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t) else None
    except ValueError:
        return None


def code_type(text: str) -> str:
    """'VAT', 'eba_qCO:qx2004', 'qx2004' or a longer name -> 'eba_qCO:qx2004' ('' when none; LEI is no option)."""
    t = text.strip()
    if re.fullmatch(r"(?i)(eba_qCO:)?qx200[1-5]", t):
        return "eba_qCO:qx" + t.lower().split("qx")[-1]
    by_name = {norm_key(v): k for k, v in CODE_TYPES.items()} | {norm_key(k): v for k, v in CODE_TYPE_NAMES.items()}
    return by_name.get(norm_key(t), "")


def identifier(p: dict) -> tuple[str, str]:
    """The provider's identification code and its EBA type: the LEI when it has one, else its code."""
    return (p["lei"], LEI_TYPE) if p["lei"] else (p["code"], p["code_type"])


def validate_providers(raw: pd.DataFrame, lines, lib: Library, file: str = "providers") -> tuple[pd.DataFrame,
                                                                                                 list[RecordError], list[int]]:
    df, comments, errs, uncalc = _table(raw, lines, PROVIDER_COLUMNS, PROVIDER_REQUIRED, file)
    if errs:
        return df, errs, comments
    r = _Rows(file, "provider_id")
    vendors = vendor_keys(lib)
    ids = set(df["provider_id"])
    seen: dict[str, int] = {}
    rows = []
    for rec in df.to_dict("records"):
        line, pid = int(rec["line"]), rec["provider_id"]
        n = len(r.errors)
        r.uncalculated(line, pid, uncalc)
        r.key(line, pid, seen, "every provider needs a provider_id")
        if not rec["name"]:
            r.error(line, pid, "name", rec["name"], "required: the provider's legal name")
        problem = lei_problem(rec["lei"]) if rec["lei"] else None if rec["code"] else (
            "required: the provider's LEI (ISO 17442, 20 characters), or another identification code in the "
            "columns code and code_type")
        if problem:
            r.error(line, pid, "lei", rec["lei"], problem)
        ctype = code_type(rec["code_type"]) if rec["code_type"] else ""
        if rec["code_type"] and not ctype:
            r.error(line, pid, "code_type", rec["code_type"], "allowed: " + ", ".join(CODE_TYPES.values())
                    + " (the EBA's types of code other than the LEI, which goes in the lei column)")
        elif rec["code"] and not rec["code_type"]:
            r.error(line, pid, "code_type", "", "required with a code: " + ", ".join(CODE_TYPES.values()))
        elif rec["code_type"] and not rec["code"]:
            r.error(line, pid, "code", "", f"required: the {CODE_TYPES[ctype]} the code_type column names")
        if (p := country_problem(rec["country"])) is not None:
            r.error(line, pid, "country", rec["country"], p)
        ptype = {norm_key(t.value): t.value for t in ProviderType}.get(norm_key(rec["type"]), "")
        if not ptype:
            r.error(line, pid, "type", rec["type"], "allowed: cloud, model vendor, reseller")
        crit = _BOOL.get(rec["designated_critical"].casefold(), None if rec["designated_critical"] else False)
        if crit is None:
            r.error(line, pid, "designated_critical", rec["designated_critical"], "expected yes or no")
        if rec["parent"] and (rec["parent"] not in ids or rec["parent"] == pid):
            r.error(line, pid, "parent", rec["parent"], "not a provider_id of another row in this file")
        keys = []
        for v in filter(None, (x.strip() for x in rec["vendor"].split(";"))):
            k = vendors.get(norm_key(v))
            if k is None:
                r.error(line, pid, "vendor", v, "unknown vendor; allowed: " + ", ".join(sorted(
                    {lib.vendor_label(x) for x in set(vendors.values())})))
            else:
                keys.append(k)
        if pid and pid not in seen:
            seen[pid] = line
        if len(r.errors) == n:
            rows.append({**rec, "lei": rec["lei"], "code_type": ctype, "country": rec["country"].upper(), "type": ptype,
                         "designated_critical": bool(crit), "vendor": ";".join(dict.fromkeys(keys))})
    out = pd.DataFrame(rows, columns=[*PROVIDER_COLUMNS, "line"])
    return out, r.errors, comments


def service_type_code(text: str, labels: dict[str, str]) -> str | None:
    """'S18', 'eba_TA:S18' or the EBA label ('Cloud services: PaaS') -> 'eba_TA:S18'."""
    t = text.strip()
    m = re.fullmatch(r"(?i)(?:eba_TA:)?S(\d{2})(?:\s.*)?", t)  # "S18" or the drop-down's "S18 Cloud services: PaaS"
    if m and f"eba_TA:S{m.group(1)}" in labels:
        return f"eba_TA:S{m.group(1)}"
    by_label = {norm_key(v): k for k, v in labels.items()}
    return by_label.get(norm_key(t))


# B_02.02 c0090 (EBA list of termination reasons, DPM 4.0): mandatory once a contract has ended
TERMINATION_REASONS = {
    "eba_CO:x4": "Expired and not renewed", "eba_CO:x5": "Provider in breach of law, regulations or contract",
    "eba_CO:x6": "Impediments of the provider capable of altering the function",
    "eba_CO:x7": "Provider's weaknesses in managing and securing sensitive data",
    "eba_CO:x8": "Requested by the competent authority", "eba_CO:x9": "Other reasons"}


def termination_code(text: str) -> str:
    """'eba_CO:x4', 'x4' or the label -> 'eba_CO:x4' ('' when none of them)."""
    t = text.strip()
    if re.fullmatch(r"(?i)(eba_CO:)?x[4-9]", t):
        return "eba_CO:" + t.split(":")[-1].lower()
    return {norm_key(v): k for k, v in TERMINATION_REASONS.items()}.get(norm_key(t), "")


MONEY = ("annual_spend", "committed_spend")


def _amount(value: float) -> float | None:
    """An amount read by io.numbers, or None when it is not one (not a number, negative, absurd)."""
    return float(value) if 0 <= value < 1e12 else None  # NaN fails both comparisons


def validate_contracts(raw: pd.DataFrame, lines, providers: pd.DataFrame, service_types: dict[str, str],
                       file: str = "contracts") -> tuple[pd.DataFrame, pd.DataFrame, list[RecordError], list[int]]:
    df, comments, errs, uncalc = _table(raw, lines, CONTRACT_COLUMNS, CONTRACT_REQUIRED, file)
    if errs:
        return df, pd.DataFrame(columns=["deployment_id", "contract_ref"]), errs, comments
    r = _Rows(file, "contract_ref")
    known = set(providers["provider_id"])
    seen: dict[str, int] = {}
    linked: dict[str, tuple[str, int]] = {}
    rows, links = [], []
    amounts, amount_problems = read_money({c: df[c] for c in MONEY}, codes=("usd", "eur", "gbp"), signs="$€£")
    refs = set(df["contract_ref"])
    overarching_of = dict(zip(df["contract_ref"], df["overarching_contract"], strict=True))
    for i, rec in enumerate(df.to_dict("records")):
        line, ref = int(rec["line"]), rec["contract_ref"]
        n = len(r.errors)
        r.uncalculated(line, ref, uncalc)
        r.key(line, ref, seen, "every contract needs a reference number")
        if rec["provider_id"] not in known:
            r.error(line, ref, "provider_id", rec["provider_id"],
                    "not a provider_id of the providers file" + ("" if rec["provider_id"] else " (required)"))
        dates = {}
        for c in ("start", "end", "last_audit"):
            dates[c] = _date(rec[c]) if rec[c] else None
            if rec[c] and dates[c] is None:
                r.error(line, ref, c, rec[c], "not a valid date: use YYYY-MM-DD (e.g. 2027-03-22)")
        if not rec["start"]:
            r.error(line, ref, "start", "", "required: the date the contract started")
        if dates["start"] and dates["end"] and dates["end"] < dates["start"]:
            r.error(line, ref, "end", rec["end"], f"ends before it starts ({dates['start']:%Y-%m-%d})")
        ints = {}
        for c in ("notice_period_days", "provider_notice_period_days"):
            ints[c] = int(rec[c]) if re.fullmatch(r"\d{1,4}", rec[c]) else None
            if rec[c] and ints[c] is None:
                r.error(line, ref, c, rec[c], "expected a whole number of days from 0 to 9999")
        money = {}
        for c in MONEY:
            money[c] = _amount(amounts[c].iat[i]) if rec[c] else (None if c == "annual_spend" else 0.0)
            if rec[c] and amount_problems[c].iat[i] is not None:
                money[c] = None
                r.error(line, ref, c, rec[c], amount_problems[c].iat[i])
            elif money[c] is None:
                r.error(line, ref, c, rec[c], "expected an amount of 0 or more, e.g. 250000 or 250,000.00"
                        if rec[c] else "required: the annual expense in the contract's currency")
        if (p := currency_problem(rec["currency"])) is not None:
            r.error(line, ref, "currency", rec["currency"], p)
        if rec["governing_law"] and (p := country_problem(rec["governing_law"])) is not None:
            r.error(line, ref, "governing_law", rec["governing_law"], p)
        term = {norm_key(k): k for k in TERMINATION_RIGHTS}.get(norm_key(rec["termination_rights"]), "?") \
            if rec["termination_rights"] else ""
        if term == "?":
            r.error(line, ref, "termination_rights", rec["termination_rights"],
                    "allowed: for convenience, for cause only, none")
        assist = _BOOL.get(rec["exit_assistance"].casefold()) if rec["exit_assistance"] else False
        if assist is None:
            r.error(line, ref, "exit_assistance", rec["exit_assistance"], "expected yes or no")
        reason = ""
        if rec["termination_reason"]:
            reason = termination_code(rec["termination_reason"])
            if not reason:
                r.error(line, ref, "termination_reason", rec["termination_reason"],
                        "allowed: " + "; ".join(TERMINATION_REASONS.values()))
        service = service_type_code(rec["ict_service_type"], service_types)
        if service is None:
            r.error(line, ref, "ict_service_type", rec["ict_service_type"],
                    "not an EBA ICT service type: use S01 to S19 (e.g. S18 = Cloud services: PaaS) or its EBA label")
        deps = [d.strip() for d in rec["deployments"].split(";") if d.strip()]
        for d in deps:
            if d in linked and linked[d][0] != ref:
                r.error(line, ref, "deployments", d, f"already linked to contract {linked[d][0]} (line {linked[d][1]}); "
                        "a deployment links to one contract")
        parent = rec["overarching_contract"]
        if parent and (parent == ref or parent not in refs):
            r.error(line, ref, "overarching_contract", parent, "not the contract_ref of another contract in this file "
                    "(the framework agreement this contract is concluded under)")
        elif parent and overarching_of.get(parent):
            r.error(line, ref, "overarching_contract", parent, f"{parent} is itself concluded under "
                    f"{overarching_of[parent]}; name the framework agreement at the top (the EBA lists one level)")
        if ref and ref not in seen:
            seen[ref] = line
        if len(r.errors) == n:
            for d in dict.fromkeys(deps):
                linked[d] = (ref, line)
                links.append({"deployment_id": d, "contract_ref": ref})
            rows.append({**rec, **dates, **ints, **money, "currency": rec["currency"].upper(),
                         "governing_law": rec["governing_law"].upper(), "termination_rights": term,
                         "exit_assistance": bool(assist), "ict_service_type": service, "deployments": ";".join(deps),
                         "termination_reason": reason})
    out = pd.DataFrame(rows, columns=[*CONTRACT_COLUMNS, "line"])
    return out, pd.DataFrame(links, columns=["deployment_id", "contract_ref"]), r.errors, comments


def load_book(providers: tuple[bytes, str] | Path | str, contracts: tuple[bytes, str] | Path | str, lib: Library,
              service_types: dict[str, str], max_bytes: int = DEFAULT_MAX_BYTES) -> ProviderBook:
    """Read and validate both files (a path, or (bytes, filename) from an upload).
    InventoryFileError for a file that cannot be read at all."""
    def read(src):
        return read_table(src[0], src[1], max_bytes) if isinstance(src, tuple) else read_file(src, max_bytes)

    name_p = providers[1] if isinstance(providers, tuple) else Path(providers).name
    name_c = contracts[1] if isinstance(contracts, tuple) else Path(contracts).name
    try:
        praw, plines = read(providers)
    except InventoryFileError as exc:
        raise InventoryFileError(f"providers file {name_p}: {exc}") from None
    try:
        craw, clines = read(contracts)
    except InventoryFileError as exc:
        raise InventoryFileError(f"contracts file {name_c}: {exc}") from None
    pframe, perrs, pcomments = validate_providers(praw, plines, lib, file=name_p)
    cframe, links, cerrs, ccomments = validate_contracts(craw, clines, pframe, service_types, file=name_c)
    notices = [f"{name}: line {n} is a comment (skipped)" for name, lines in ((name_p, pcomments), (name_c, ccomments))
               for n in lines]
    return ProviderBook(pframe, cframe, links, perrs + cerrs, notices)


def refused_cells(errors: list[RecordError], file: str) -> set[tuple[int, str]]:
    """(0-based data row, column) of every refused cell of `file` written with a one-line header."""
    return {(e.line - 2, e.column) for e in errors if e.file == file and e.line and e.column}
