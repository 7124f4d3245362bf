"""Human names for the ids a report carries (channels, clouds, model vendors, features), so no
export meant for people shows `azure_openai` or `on_your_data`. The configured display names win;
an id the configuration does not know is still shown without underscores."""

from __future__ import annotations

from functools import lru_cache

from risk_models.config.loader import Library
from risk_models.config.profile import IMPACT_LEVELS

CLOUD_LABELS = {"microsoft": "Microsoft", "aws": "AWS", "google": "Google Cloud", "openai": "OpenAI",
                "anthropic": "Anthropic", "self": "Self-hosted", "other": "Other"}
FEATURE_LABELS = {"fine_tuning": "fine-tuning", "assistants": "Assistants API", "on_your_data": "On Your Data",
                  "batch": "batch API", "vector_store": "vector store", "agents": "agents",
                  "provisioned_throughput": "provisioned throughput"}
AXIS_LABELS = {"channel": "Channel", "cloud": "Hosting cloud", "model_vendor": "Model vendor"}
# What the 1-5 levels of the heatmap axes mean, beside the numbers wherever the matrix is drawn. Impact
# 2-5 are the risk appetite's money bands (profile.IMPACT_LEVELS); likelihood the usual five-level scale
# over the bands of scoring.yaml's likelihood_bounds.
LIKELIHOOD_WORDS = ("rare", "unlikely", "possible", "likely", "almost certain")
IMPACT_WORDS = ("negligible", *IMPACT_LEVELS)


def level_text(axis: str, level: int) -> str:
    """"4 · likely", "3 · moderate": a heatmap level with its meaning (axis: likelihood or impact)."""
    words = LIKELIHOOD_WORDS if axis == "likelihood" else IMPACT_WORDS
    return f"{level} · {words[int(level) - 1]}"


def label_maps(lib: Library) -> dict[str, dict[str, str]]:
    """{kind: {id: label}} for channel, cloud, model_vendor, feature and regime (a report's `labels`)."""
    return {"channel": {k: c.display_name for k, c in lib.channels.channels.items()},
            "model_vendor": dict(lib.models.vendors), "cloud": dict(CLOUD_LABELS), "feature": dict(FEATURE_LABELS),
            "regime": {k: r.label for k, r in lib.regimes.regimes.items()}}


def human(kind: str, key: object, labels: dict[str, dict[str, str]] | None = None) -> str:
    """The label of `key` of `kind` (channel, cloud, model_vendor, feature, axis)."""
    k = str(key)
    found = (labels or {}).get(kind, {}).get(k)
    if found:
        return found
    builtin = {"cloud": CLOUD_LABELS, "feature": FEATURE_LABELS, "axis": AXIS_LABELS}.get(kind, {})
    return builtin.get(k) or k.replace("_", " ")


@lru_cache(maxsize=1)
def default_labels() -> dict[str, dict[str, str]]:
    """The bundled configuration's labels, for a report that carries none (e.g. made by an older version)."""
    from risk_models.config.loader import load_library
    return label_maps(load_library())


def report_labels(rep: dict) -> dict[str, dict[str, str]]:
    return rep.get("catalogues", {}).get("labels") or rep.get("labels") or default_labels()
