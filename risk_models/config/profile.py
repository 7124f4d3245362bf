"""The organisation profile: who is assessed (name, prepared by, reporting date) and which
jurisdictions and regulatory regimes apply to the regulated entity. Regimes decide which
regulatory outcomes hit the organisation's deployments, whatever region their data sits in."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field, field_validator

from risk_models.config.domain import Jurisdiction

MAX_LOGO_BYTES = 512 * 1024
LOGO_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


MAX_LOGO_SIDE = 4000  # pixels; a title-page logo is printed 60 x 25 mm (~700 x 300 px at 300 dpi)
MAX_LOGO_PIXELS = 4_000_000  # decoded RGBA: 16 MB. A 17.6 KB PNG can declare 12000 x 12000 (576 MB decoded)


def logo_kind(data: bytes) -> str:
    """'PNG' or 'JPEG'; ValueError naming the problem for anything else, a file over the limit, an image
    larger than MAX_LOGO_SIDE / MAX_LOGO_PIXELS (checked from the header, before decoding) or one that does
    not decode whole (a truncated file)."""
    if len(data) > MAX_LOGO_BYTES:
        raise ValueError(f"the logo is {len(data) / 1024:,.0f} KB; at most {MAX_LOGO_BYTES // 1024} KB is allowed")
    kind = next((k for magic, k in LOGO_MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise ValueError("the logo must be a PNG or JPEG image")
    import io
    import warnings

    from PIL import Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # Pillow's own guard: an error here
            with Image.open(io.BytesIO(data), formats=[kind]) as im:
                w, h = im.size
                if w > MAX_LOGO_SIDE or h > MAX_LOGO_SIDE or w * h > MAX_LOGO_PIXELS:
                    raise ValueError(f"the logo is {w:,} x {h:,} pixels; at most {MAX_LOGO_SIDE:,} pixels a side and "
                                     f"{MAX_LOGO_PIXELS:,} pixels in all (scale it down)")
                im.load()  # decodes it whole (bounded by the size check): a truncated file fails here
    except ValueError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(f"the logo is too large to decode ({exc}); at most {MAX_LOGO_SIDE:,} pixels a side and "
                         f"{MAX_LOGO_PIXELS:,} pixels in all (scale it down)") from None
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"the logo cannot be read as a {kind} image ({exc})") from None
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
    # The firm's own criticality assessment of the function (B_06.01 c0050-c0090). None / "" = not
    # given: the register reports the cell missing instead of deriving it from the deployments.
    critical_or_important: bool | None = None
    criticality_reason: str = Field(default="", max_length=1000)
    last_assessed: dt.date | None = None
    rto_hours: float | None = Field(default=None, ge=0, le=87600)  # else the shortest answered RTO
    rpo_hours: float | None = Field(default=None, ge=0, le=87600)  # else the shortest answered RPO


class RegisterEntity(BaseModel):
    """The financial entity maintaining the DORA register of information (B_01.01)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lei: str = Field(default="", max_length=20)
    country: str = Field(default="", max_length=2)  # ISO 3166-1 alpha-2
    entity_type: str = Field(default="", max_length=200)  # EBA code (eba_CT:x12) or its label
    competent_authority: str = Field(default="", max_length=200)
    currency: str = Field(default="EUR", max_length=3)  # ISO 4217
    # individual: the register covers this entity only (entityID suffix .IND); consolidated: a group
    # register (.CON). EBA filing rules (v5.5) and the ESAs' RoI reporting technical package.
    reporting_basis: Literal["individual", "consolidated"] = "individual"
    # regions as written in the inventory -> ISO country, for those config/regions.yaml cannot place
    # in one country (the firm's own data centres, a provider's "us" or "eu"): the register's data locations
    locations: dict[str, str] = {}
    # B_01.02 (the entities in the register's scope; an individual register lists the entity itself)
    hierarchy: str = Field(default="", max_length=200)  # EBA code (eba_RP:x53) or its label
    parent_lei: str = Field(default="", max_length=20)  # LEI of the direct parent undertaking
    total_assets: float | None = Field(default=None, ge=0)  # in `currency`
    register_since: dt.date | None = None  # date of integration in the register of information
    register_updated: dt.date | None = None  # date of the last update of the entity's register entry
    functions: tuple[RegisterFunction, ...] = ()
    # B_99.01: the firm's own definition of an option, by B_99.01 column (c0100: what "not substitutable"
    # means here); replaces the register's stated derivation rule where it has one
    definitions: dict[str, str] = {}

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, v: str) -> str:
        # a value list, not a pattern: 'E$' or 'XYZ' would go into the register's monetary fields
        if v and (len(v) != 3 or pycountry.currencies.get(alpha_3=v.upper()) is None):
            raise ValueError(f"{v!r} is not an ISO 4217 currency code (e.g. EUR, USD, GBP)")
        return v.upper()


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
