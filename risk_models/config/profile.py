"""The organisation profile: who is assessed (name, prepared by, reporting date) and which
jurisdictions and regulatory regimes apply to the regulated entity. Regimes decide which
regulatory outcomes hit the organisation's deployments, whatever region their data sits in."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from risk_models.config.domain import Jurisdiction

MAX_LOGO_BYTES = 512 * 1024
LOGO_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


def logo_kind(data: bytes) -> str:
    """'PNG' or 'JPEG'; ValueError naming the problem for anything else or a file over the limit."""
    if len(data) > MAX_LOGO_BYTES:
        raise ValueError(f"the logo is {len(data) / 1024:,.0f} KB; at most {MAX_LOGO_BYTES // 1024} KB is allowed")
    kind = next((k for magic, k in LOGO_MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise ValueError("the logo must be a PNG or JPEG image")
    return kind


def encode_logo(data: bytes) -> str:
    """Logo file bytes -> the profile's base64 text (ValueError for a non-image or too large file)."""
    logo_kind(data)
    return base64.b64encode(data).decode("ascii")


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


IMPACT_LEVELS = ("minor", "moderate", "major", "severe")  # impact 2..5 (1 = negligible)
# Stated defaults of the risk appetite (config/profile.yaml repeats them): an organisation assumption
# for a mid-sized regulated firm, to be replaced by the board's own appetite statement.
DEFAULT_IMPACT_USD = (10_000.0, 30_000.0, 100_000.0, 300_000.0)
MIN_BAND_RATIO = 2.0


class RiskAppetite(BaseModel):
    """The organisation's risk appetite in money: the loss (USD, in a year in which something
    material happens) at which a deployment's impact reaches each band. The first threshold is
    also the materiality threshold: an outcome that could not cost that much is not material."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    impact_usd: tuple[float, float, float, float] = DEFAULT_IMPACT_USD  # minor, moderate, major, severe
    basis: str = Field(default="assumption", max_length=300)  # "assumption" or where the figures come from

    @field_validator("impact_usd")
    @classmethod
    def _spaced(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        # bands at least twice apart: a control that removes at most half of a loss moves its impact
        # by one band at most
        if v[0] <= 0:
            raise ValueError("the first (minor) threshold must be above 0")
        for (a, b), name in zip(zip(v, v[1:], strict=False), IMPACT_LEVELS[1:], strict=True):
            if b < MIN_BAND_RATIO * a:
                raise ValueError(f"the {name} threshold ({b:,.0f}) must be at least {MIN_BAND_RATIO:g} times "
                                 f"the one below it ({a:,.0f})")
        return v

    @property
    def materiality_usd(self) -> float:
        return self.impact_usd[0]


class OrgProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="", max_length=200)
    jurisdictions: list[Jurisdiction] = []
    regimes: list[str] = []
    prepared_by: str = Field(default="", max_length=200)
    reporting_date: dt.date | None = None  # the assessment date (None: the day the assessment runs)
    # The logo printed on the report's title page: PNG or JPEG bytes, base64 (so it is saved with
    # the assessment inside the results payload like the rest of the profile). "" = no logo.
    logo: str = Field(default="", max_length=4 * MAX_LOGO_BYTES // 3 + 4)
    dora: RegisterEntity | None = None  # the DORA register of information only
    risk_appetite: RiskAppetite = RiskAppetite()

    @field_validator("logo")
    @classmethod
    def _image(cls, v: str) -> str:
        if v:
            try:
                logo_kind(base64.b64decode(v, validate=True))
            except binascii.Error:
                raise ValueError("the logo is not valid base64 data") from None
        return v

    @field_validator("name", "prepared_by")
    @classmethod
    def _no_control_characters(cls, v: str) -> str:
        if any(ord(c) < 32 for c in v):
            raise ValueError("must not contain control characters (line breaks, tabs, NUL)")
        return v.strip()

    def reference_date(self, fallback: dt.date) -> dt.date:
        """The assessment date contracts and tests are measured against: the reporting date, else `fallback`."""
        return self.reporting_date or fallback

    def logo_bytes(self) -> bytes | None:
        return base64.b64decode(self.logo) if self.logo else None
