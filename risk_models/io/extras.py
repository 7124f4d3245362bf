"""Optional features and the pip extra that installs each (pyproject.toml [project.optional-dependencies]).

Code that needs an optional package imports it inside the function that uses it; when it is missing, the
user gets one plain message naming the extra — never an ImportError traceback.
"""

from __future__ import annotations

import importlib.util

DISTRIBUTION = "ai-vendor-risk"

# extra -> (the feature in words, the modules it provides)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "postgres": ("saved assessments on PostgreSQL (a postgresql+psycopg:// DATABASE_URL)", ("psycopg",)),
    "team": ("team mode (sign-in through Streamlit's st.login, OpenID Connect)", ("authlib", "httpx")),
    "discovery": ("discover mlbom (CycloneDX ML-BOMs)", ("cyclonedx", "jsonschema")),
}


def install_hint(extra: str) -> str:
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def missing_extra_message(extra: str, feature: str | None = None, module: str | None = None) -> str:
    """E.g. "discover mlbom needs the 'discovery' extra (cyclonedx is not installed): pip install
    'ai-vendor-risk[discovery]'"."""
    what = feature or EXTRAS[extra][0]
    because = f" ({module} is not installed)" if module else ""
    return f"{what} needs the '{extra}' extra{because}: {install_hint(extra)}"


def missing_modules(extra: str) -> list[str]:
    """The extra's modules that cannot be imported (found without importing them)."""
    out = []
    for name in EXTRAS[extra][1]:
        try:
            if importlib.util.find_spec(name) is None:
                out.append(name)
        except (ImportError, ValueError):
            out.append(name)
    return out


def missing_extra(extra: str, feature: str | None = None) -> str | None:
    """The message for a missing extra, or None when everything it installs is there."""
    missing = missing_modules(extra)
    return missing_extra_message(extra, feature, ", ".join(missing)) if missing else None
