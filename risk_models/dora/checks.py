"""Validation of a built register: missing mandatory values, broken references between templates, the
EBA's published rules (risk_models.dora.rules) — each a Finding naming template, row and column."""

from __future__ import annotations

import pandas as pd

from risk_models.dora.model import Finding, Register
from risk_models.dora.rules import BUSINESS, FOREIGN_KEYS, blank, existence_rule
from risk_models.dora.spec import RoiSpec
from risk_models.providers.records import (
    country_problem,
)

# where each register value the firm must give is asked (shown in a "missing" finding)
PROFILE_HINTS = {
    ("B_06.01", "c0020"): "the organisation profile, DORA functions: licensed_activity",
    ("B_06.01", "c0050"): "the organisation profile, DORA functions: critical_or_important (yes / no)",
    ("B_06.01", "c0070"): "the organisation profile, DORA functions: last_assessed (date of the last assessment)",
    ("B_06.01", "c0080"): "the question 'Recovery time objective' (rto_hours) of the function's deployments, "
                          "or the profile's DORA functions: rto_hours",
    ("B_06.01", "c0090"): "the question 'Recovery point objective' (rpo_hours) of the function's deployments, "
                          "or the profile's DORA functions: rpo_hours",
    ("B_01.01", "c0010"): "the organisation profile, dora: lei",
    ("B_01.02", "c0050"): "the organisation profile, dora: hierarchy (e.g. Ultimate parent)",
    ("B_01.02", "c0060"): "the organisation profile, dora: parent_lei",
    ("B_01.02", "c0070"): "the organisation profile, dora: register_updated",
    ("B_01.02", "c0080"): "the organisation profile, dora: register_since",
    ("B_01.02", "c0110"): "the organisation profile, dora: total_assets",
    ("B_01.01", "c0030"): "the organisation profile, dora: country",
    ("B_01.01", "c0040"): "the organisation profile, dora: entity_type",
    ("B_01.01", "c0050"): "the organisation profile, dora: competent_authority",
    ("B_02.02", "c0100"): "the contracts file, column notice_period_days",
    ("B_02.02", "c0110"): "the contracts file, column provider_notice_period_days",
    ("B_02.02", "c0120"): "the contracts file, column governing_law",
    ("B_07.01", "c0070"): "the contracts file, column last_audit",
}


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
                if col.required_if:
                    other, value = col.required_if.split("=", 1)
                    need = need or str(rec.get(other, "")) == value
                if need and blank(v):
                    hint = PROFILE_HINTS.get((name, code))
                    out.append(Finding(template=name, row=i + 1, key=key, column=code, label=col.label, kind="missing",
                                       rule=existence_rule(name, code), message="mandatory field is empty" + (
                                           " (the ICT service supports a critical or important function, or the "
                                           "firm has not said it does not)" if col.mandatory == "critical" else "")
                                       + (f"; fill it in {hint}" if hint else "")))
                elif not blank(v) and col.list and str(v) not in spec.lists[col.list]:
                    out.append(Finding(template=name, row=i + 1, key=key, column=code, label=col.label, kind="invalid",
                                       message=f"{v!r} is not in the EBA list {col.list}"))
                elif not blank(v) and col.kind == "country" and v != spec.package.not_applicable_country \
                        and (problem := country_problem(str(v))):
                    out.append(Finding(template=name, row=i + 1, key=key, column=code, label=col.label, kind="invalid",
                                       message=f"{v!r}: {problem}"))
    flagged = {(f.template, f.row, f.column): f for f in out}
    for rule, name, code, check in BUSINESS:
        for i, rec in enumerate(t[name].to_dict("records")):
            if not (problem := check(rec)):
                continue
            if (f := flagged.get((name, i + 1, code))) is not None:
                f.rule = f.rule or rule  # the cell is reported already: name the rule it breaks
            else:
                out.append(Finding(template=name, row=i + 1, key=str(rec.get(key_col.get(name, "c0010"), "")),
                                   column=code, label=spec.templates[name].columns[code].label, kind="invalid",
                                   rule=rule, message=problem))
    for name, col, parent, pcol, what in FOREIGN_KEYS:
        known = set(t[parent][pcol])
        for i, v in enumerate(t[name][col]):
            if not blank(v) and v not in known:
                out.append(Finding(template=name, row=i + 1, key=str(t[name]["c0010"].iat[i]), column=col,
                                   label=spec.templates[name].columns[col].label, kind="broken reference",
                                   rule="807", message=f"{what} {v!r} is not in {parent} (column {pcol})"))
    flagged = {(f.template, f.row, f.column) for f in out}
    for name, tpl in spec.templates.items():
        df, keys = t[name], tpl.keys
        placeholder = set(spec.package.not_applicable_keys.get(name, []))
        for i, rec in enumerate(df[keys].to_dict("records") if keys else []):
            for code in keys:
                if blank(rec[code]) and code not in placeholder and (name, i + 1, code) not in flagged:
                    out.append(Finding(template=name, row=i + 1, key=str(df["c0010"].iat[i]), column=code,
                                       label=tpl.columns[code].label, kind="missing", rule="805",
                                       message="a key column is empty; the EBA rejects the package"))
        dup = df.duplicated(keys, keep="first") if keys and len(df) else pd.Series([], dtype=bool)
        for i in dup[dup].index:
            out.append(Finding(template=name, row=int(i) + 1, key=str(df["c0010"].iat[int(i)]), column=keys[0],
                               label=tpl.columns[keys[0]].label, kind="invalid", rule="806",
                               message=f"the key ({', '.join(keys)}) is reported twice; the EBA rejects duplicate keys"))
    return out + _cross_table(t, spec)


def _cross_table(t: dict[str, pd.DataFrame], spec: RoiSpec) -> list[Finding]:
    """What the ITS implies between the contract templates (no EBA rule id of its own: rule "ITS"):
    B_02.02 details every arrangement of B_02.01; each arrangement's chain in B_05.02 starts with its
    direct provider at rank 1, the provider of B_02.02 and B_03.02; B_07.01 assesses services of B_02.02."""
    out: list[Finding] = []
    b0201, b0202, b0502, b0302, b0701 = t["B_02.01"], t["B_02.02"], t["B_05.02"], t["B_03.02"], t["B_07.01"]
    served = b0202.groupby("c0010")["c0030"].agg(set).to_dict()
    first = b0502[b0502["c0050"] == 1].groupby("c0010")["c0030"].agg(set).to_dict()
    signed = b0302.groupby("c0010")["c0020"].agg(set).to_dict()
    services = set(zip(b0202["c0010"], b0202["c0030"], b0202["c0060"], strict=True))

    def add(name: str, i: int, ref: str, col: str, message: str) -> None:
        out.append(Finding(template=name, row=i + 1, key=ref, column=col, label=spec.templates[name].columns[col].label,
                           kind="broken reference", rule="ITS", message=message))

    for i, ref in enumerate(b0201["c0010"]):
        if ref not in served:
            add("B_02.01", i, ref, "c0010", "the arrangement has no row in B_02.02 (its services, functions and "
                                            "locations); B_02.02 details every arrangement of B_02.01")
        elif ref not in first:
            add("B_02.01", i, ref, "c0010", "the arrangement's supply chain in B_05.02 has no rank 1 (its direct "
                                            "provider)")
        elif first[ref] != served[ref]:
            add("B_05.02", int(b0502.index[(b0502["c0010"] == ref) & (b0502["c0050"] == 1)][0]), ref, "c0030",
                f"rank 1 of B_05.02 ({', '.join(sorted(first[ref]))}) is not the provider B_02.02 reports "
                f"({', '.join(sorted(served[ref]))})")
        if ref in signed and ref in served and signed[ref] != served[ref]:
            add("B_03.02", int(b0302.index[b0302["c0010"] == ref][0]), ref, "c0020",
                "the provider signing the arrangement is not the provider B_02.02 reports")
    for i, rec in enumerate(b0701[["c0010", "c0020", "c0040"]].to_dict("records")):
        if (rec["c0010"], rec["c0020"], rec["c0040"]) not in services:
            add("B_07.01", i, rec["c0010"], "c0040", "the assessed service (contract, provider, type of ICT service) "
                                                     "is not a service of B_02.02")
    return out
