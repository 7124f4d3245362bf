"""The DORA register's records: EBA codes used across the templates, a finding (one problem of the register,
with its row and the EBA rule), and the register itself (templates as frames of EBA codes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from pydantic import BaseModel

LEI_CODE = "eba_qCO:qx2000"
STANDALONE, OVERARCHING, SUBSEQUENT = "eba_CO:x1", "eba_CO:x2", "eba_CO:x3"
YES, NO, NOT_ASSESSED = "eba_BT:x28", "eba_BT:x29", "eba_BT:x21"
LEGAL_PERSON = "eba_CT:x212"
OPEN_END = "9999-12-31"  # an open-ended contract (no end date)
SENSITIVENESS = {"public": "eba_ZZ:x791", "internal": "eba_ZZ:x792", "confidential": "eba_ZZ:x793",
                 "regulated": "eba_ZZ:x793"}
SENS_ORDER = ["eba_ZZ:x791", "eba_ZZ:x792", "eba_ZZ:x793"]
RELIANCE_ORDER = ["eba_ZZ:x794", "eba_ZZ:x795", "eba_ZZ:x796", "eba_ZZ:x797"]
CRIT_ORDER = ["low", "medium", "high", "critical"]
# Every template of the DORA module (filing indicators list them all: reported = the table has rows).
MODULE_TEMPLATES = ("B_01.01", "B_01.02", "B_01.03", "B_02.01", "B_02.02", "B_02.03", "B_03.01", "B_03.02", "B_03.03",
                    "B_04.01", "B_05.01", "B_05.02", "B_06.01", "B_07.01", "B_99.01")
NOT_A_BRANCH = "eba_ZZ:x839"
LINK = "true"


class Finding(BaseModel):
    """One problem of the register: a missing mandatory field or a broken reference, with its row."""

    template: str
    row: int | None  # 1-based data row of the template (None = the template as a whole)
    key: str = ""  # contract reference, provider or function of that row
    column: str = ""  # c0010 ...
    label: str = ""
    kind: str  # "missing" | "broken reference" | "invalid" | "contradiction"
    rule: str = ""  # the EBA validation rule where one applies (807 = foreign key, 806 = duplicate key)
    message: str

    def text(self) -> str:
        where = f"{self.template} row {self.row}" if self.row else self.template
        who = f" ({self.key})" if self.key else ""
        col = f" {self.column} {self.label}" if self.column else ""
        rule = f" [EBA rule {self.rule}]" if self.rule else ""
        return f"{where}{who}{col} — {self.kind}{rule}: {self.message}"


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
    # the fallback recommender's values per template row (never filed; the XLSX and the app show them)
    suggested: dict[str, pd.DataFrame] = field(default_factory=dict)
    rates_used: list[str] = field(default_factory=list)  # "USD 1.175 per EUR (2025-12-31)"
    basis: str = "individual"  # individual (.IND) | consolidated (.CON)
    country: str = ""
