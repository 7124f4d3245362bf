"""The organisation profile: who is assessed (name, prepared by, reporting date) and which
jurisdictions and regulatory regimes apply to the regulated entity. Regimes decide which
regulatory outcomes hit the organisation's deployments, whatever region their data sits in."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from risk_models.models import Jurisdiction


class RegisterFunction(BaseModel):
    """A business function of the DORA register (B_06.01): deployments of this business unit support it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    business_unit: str = Field(max_length=200)
    licensed_activity: str = Field(default="", max_length=300)  # EBA code (eba_TA:x163) or its label


class RegisterEntity(BaseModel):
    """The financial entity maintaining the DORA register of information (B_01.01)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lei: str = Field(default="", max_length=20)
    country: str = Field(default="", max_length=2)  # ISO 3166-1 alpha-2
    entity_type: str = Field(default="", max_length=200)  # EBA code (eba_CT:x12) or its label
    competent_authority: str = Field(default="", max_length=200)
    currency: str = Field(default="EUR", max_length=3)  # ISO 4217
    functions: tuple[RegisterFunction, ...] = ()


class OrgProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="", max_length=200)
    jurisdictions: list[Jurisdiction] = []
    regimes: list[str] = []
    prepared_by: str = Field(default="", max_length=200)
    reporting_date: dt.date | None = None
    dora: RegisterEntity | None = None  # the DORA register of information only

    @field_validator("name", "prepared_by")
    @classmethod
    def _no_control_characters(cls, v: str) -> str:
        if any(ord(c) < 32 for c in v):
            raise ValueError("must not contain control characters (line breaks, tabs, NUL)")
        return v.strip()

    def reference_date(self, fallback: dt.date) -> dt.date:
        """The date contracts and tests are measured against: the reporting date, else `fallback`."""
        return self.reporting_date or fallback
