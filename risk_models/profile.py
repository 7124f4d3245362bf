"""The organisation profile: who is assessed (name, prepared by, reporting date) and which
jurisdictions and regulatory regimes apply to the regulated entity. Regimes decide which
regulatory outcomes hit the organisation's deployments, whatever region their data sits in."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from risk_models.models import Jurisdiction


class OrgProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="", max_length=200)
    jurisdictions: list[Jurisdiction] = []
    regimes: list[str] = []
    prepared_by: str = Field(default="", max_length=200)
    reporting_date: dt.date | None = None

    @field_validator("name", "prepared_by")
    @classmethod
    def _no_control_characters(cls, v: str) -> str:
        if any(ord(c) < 32 for c in v):
            raise ValueError("must not contain control characters (line breaks, tabs, NUL)")
        return v.strip()

    def reference_date(self, fallback: dt.date) -> dt.date:
        """The date contracts and tests are measured against: the reporting date, else `fallback`."""
        return self.reporting_date or fallback
