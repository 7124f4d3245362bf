"""The EBA's published validation rules of the DORA module for the templates this tool writes, and
the cross-table checks the ITS implies, each finding carrying its rule id.

Sources (docs/dora-register.md, "Sources"):
- EBA validation rules for the register of information (DPM 4.0, workbook "EBA Validation Rules
  2025-03-20 deactivation"): the DPM-XL expressions of the existence rules (e23674_e ... e23792_e)
  and the business rules (v8803_m ... v23716_s), as mirrored rule by rule in
  artemeon/dpm-xl-validator src/RuleSet/DORA.php (commit 6288143).
- EBA technical checks 805 (empty key), 806 (duplicate key), 807 (foreign key), 808 (filing
  indicators); key columns per the EBA annotated table layout DORA 4.0 (17 Dec 2024).
- Commission Implementing Regulation (EU) 2024/2956, Annex I, for the cross-table consistency the
  rules do not state (B_02.02 details every arrangement of B_02.01; B_05.02 starts each chain with
  the direct provider at rank 1; B_07.01 assesses a service of B_02.02): rule "ITS".
Not implemented: v8821_m (its expression tests the additional code c0030 against the LEI pattern
when c0020 is an LEI; EIOPA's Q&A DORA 203 - 3272: "deactivated in March 2025 following the update of
the DPM for the first reporting") and the LEI/EUID checks against GLEIF
and BRIS (VR_ rules), which need the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

# existence rules: the columns each requires (DPM-XL "not(isnull({...}))")
EXISTENCE: dict[str, tuple[str, tuple[str, ...]]] = {
    "B_01.01": ("e23677_e", ("c0010", "c0020", "c0030", "c0040", "c0050", "c0060")),
    "B_01.02": ("e23676_e", ("c0020", "c0030", "c0040", "c0050", "c0060", "c0070", "c0080", "c0090")),
    "B_01.03": ("e23675_e", ("c0010", "c0020", "c0030", "c0040")),
    "B_02.01": ("e23792_e", ("c0020", "c0040", "c0050")),
    "B_02.02": ("e23680_e", ("c0040", "c0050", "c0060", "c0070", "c0080")),
    "B_04.01": ("e23683_e", ("c0030",)),
    "B_05.01": ("e23674_e", ("c0020", "c0050", "c0060", "c0070", "c0080", "c0110")),
    "B_06.01": ("e23682_e", ("c0020", "c0030", "c0050", "c0070", "c0080", "c0090", "c0100")),
    "B_07.01": ("e23681_e", ("c0050", "c0070", "c0080", "c0090", "c0100", "c0110")),
}
LEI_PATTERN = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
LEI, EUID = "eba_qCO:qx2000", "eba_qCO:qx2002"


def existence_rule(template: str, column: str) -> str:
    rule, cols = EXISTENCE.get(template, ("", ()))
    return rule if column in cols else ""


def blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v)) or (isinstance(v, str) and not v.strip())


def _number(v: object) -> float | None:
    try:
        return None if blank(v) else float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


# (rule id, template, column the finding points at, test of one row -> problem text or None)
Check = Callable[[dict], str | None]
BUSINESS: list[tuple[str, str, str, Check]] = [
    ("v8803_m", "B_01.02", "c0100", lambda r: "the total assets need their currency"
     if not blank(r["c0110"]) and blank(r["c0100"]) else None),
    ("v8804_m", "B_01.02", "c0110", lambda r: "a financial entity reports its total assets"
     if r["c0040"] not in ("eba_CT:x317", "eba_CT:x318") and blank(r["c0110"]) else None),
    ("v22913_s", "B_01.02", "c0110", lambda r: "total assets cannot be negative"
     if (n := _number(r["c0110"])) is not None and n < 0 else None),
    ("v8826_m", "B_01.02", "c0060", lambda r: f"{r['c0060']!r} does not have the form of an LEI"
     if not blank(r["c0060"]) and not LEI_PATTERN.match(str(r["c0060"])) else None),
    ("v22912_m", "B_02.01", "c0030", lambda r: "a subsequent or associated arrangement names its overarching "
     "arrangement (contracts file, column overarching_contract)"
     if r["c0020"] == "eba_CO:x3" and blank(r["c0030"]) else None),
    ("v23716_s", "B_02.01", "c0050", lambda r: "the annual expense cannot be negative"
     if (n := _number(r["c0050"])) is not None and n < 0 else None),
    ("v8816_m", "B_02.02", "c0080", lambda r: f"the end date {r['c0080']} is not after the start date {r['c0070']}"
     if not blank(r["c0070"]) and not blank(r["c0080"]) and str(r["c0080"]) <= str(r["c0070"]) else None),
    ("v8817_m", "B_05.01", "c0020", lambda r: "a legal person is identified by an LEI or an EUID"
     if r["c0070"] == "eba_CT:x212" and not blank(r["c0020"]) and r["c0020"] not in (LEI, EUID) else None),
    ("v8818_m", "B_05.01", "c0040", lambda r: "a legal person's additional code is an LEI or an EUID"
     if r["c0070"] == "eba_CT:x212" and not blank(r["c0040"]) and r["c0040"] not in (LEI, EUID) else None),
    ("v8823_m", "B_05.01", "c0040", lambda r: "an additional identification code needs its type"
     if not blank(r["c0030"]) and blank(r["c0040"]) else None),
    ("v8824_m", "B_05.01", "c0090", lambda r: "the total annual expense needs its currency"
     if not blank(r["c0100"]) and blank(r["c0090"]) else None),
    ("v8825_m", "B_07.01", "c0060", lambda r: "a provider that is not substitutable or highly complex to substitute "
     "needs the reason (question non_substitutability_reason)"
     if r["c0050"] in ("eba_ZZ:x959", "eba_ZZ:x960") and blank(r["c0060"]) else None),
]

# rule 807: (child template, column) -> (parent template, column); the references the register's
# templates make to one another
FOREIGN_KEYS: list[tuple[str, str, str, str, str]] = [
    ("B_01.03", "c0020", "B_01.02", "c0010", "head office"),
    ("B_02.01", "c0030", "B_02.01", "c0010", "overarching arrangement"),
    ("B_02.02", "c0010", "B_02.01", "c0010", "contract"), ("B_02.02", "c0020", "B_01.02", "c0010", "entity"),
    ("B_02.02", "c0030", "B_05.01", "c0010", "provider"), ("B_02.02", "c0050", "B_06.01", "c0010", "function"),
    ("B_02.03", "c0010", "B_02.01", "c0010", "contract"), ("B_02.03", "c0020", "B_02.01", "c0010", "contract"),
    ("B_03.01", "c0010", "B_02.01", "c0010", "contract"), ("B_03.01", "c0020", "B_01.02", "c0010", "entity"),
    ("B_03.02", "c0010", "B_02.01", "c0010", "contract"), ("B_03.02", "c0020", "B_05.01", "c0010", "provider"),
    ("B_03.03", "c0010", "B_02.01", "c0010", "contract"), ("B_03.03", "c0020", "B_01.02", "c0010", "entity"),
    ("B_04.01", "c0010", "B_02.01", "c0010", "contract"), ("B_04.01", "c0020", "B_01.02", "c0010", "entity"),
    ("B_04.01", "c0040", "B_01.03", "c0010", "branch"),
    ("B_05.01", "c0110", "B_05.01", "c0010", "ultimate parent"),
    ("B_05.02", "c0010", "B_02.01", "c0010", "contract"), ("B_05.02", "c0030", "B_05.01", "c0010", "provider"),
    ("B_05.02", "c0060", "B_05.01", "c0010", "recipient"),
    ("B_06.01", "c0040", "B_01.02", "c0010", "entity"),
    ("B_07.01", "c0010", "B_02.01", "c0010", "contract"), ("B_07.01", "c0020", "B_05.01", "c0010", "provider"),
]
