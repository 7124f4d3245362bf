"""The sensitivity tornado (presentation only: the changes come from risk_models.engine.sensitivity)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from risk_models.config.palette import signed_usd, usd
from risk_models.engine.sensitivity import rank, swing

METRICS = {"expected_loss": "Expected annual loss", "critical": "Critical deployments", "mean_score": "Mean score"}
LOW_COLOUR, HIGH_COLOUR = "#2e7d32", "#c62828"  # less exposure green, more red (never the other way round)
ROWS = 15
AUTO_MAX_ROWS = 5_000  # larger inventories compute the tornado on request (Scenarios page)


def _keys(metric: str) -> tuple[str, str]:
    suffix = "_usd" if metric == "expected_loss" else ""
    return f"{metric}_low{suffix}", f"{metric}_high{suffix}"


def _text(metric: str, v: float) -> str:
    if metric == "expected_loss":
        return signed_usd(v)
    if metric == "critical":
        return f"{'+' if v > 0 else '−'}{abs(int(v))}" if v else "0"
    return f"{'+' if v > 0 else '−'}{abs(v):.1f} pts" if round(v, 1) else "0.0 pts"


def _base(s: dict, metric: str) -> str:
    b = s["base"]
    return {"expected_loss": usd(b["expected_loss_usd"]), "critical": f"{int(b['critical'])} critical",
            "mean_score": f"mean score {b['mean_score']:.1f}"}[metric]


def figure(s: dict, metric: str = "expected_loss", rows: int = ROWS) -> go.Figure:
    """Horizontal bars of the change at the low and at the high factor around the base (x = 0), the
    largest effect on top; assumptions that change nothing in `metric` are left out."""
    lo_key, hi_key = _keys(metric)
    ranked = [r for r in rank(s["rows"], metric) if swing(r, metric)][:rows][::-1]  # plotly draws bottom-up
    labels = [r["label"] for r in ranked]
    fig = go.Figure()
    for key, factor, name in ((lo_key, s["low_factor"], "low"), (hi_key, s["high_factor"], "high")):
        values = [r[key] for r in ranked]
        fig.add_trace(go.Bar(
            y=labels, x=values, orientation="h", name=f"×{factor:g}",
            marker_color=[HIGH_COLOUR if v > 0 else LOW_COLOUR for v in values],
            marker_pattern_shape="" if name == "high" else "/",  # the two factors apart without colour
            text=[f"×{factor:g} {_text(metric, v)}" for v in values], textposition="outside",
            customdata=[[r["base_value"], r["basis"]] for r in ranked],
            hovertemplate=f"%{{y}}<br>×{factor:g}: %{{text}}<br>value in use: %{{customdata[0]}}"
                          "<br>basis: %{customdata[1]}<extra></extra>"))
    fig.add_vline(x=0, line_color="#333", annotation_text=f"base: {_base(s, metric)}", annotation_position="top")
    fig.update_layout(barmode="overlay", height=140 + 26 * max(len(ranked), 1), showlegend=True,
                      xaxis_title=f"change in {METRICS[metric].lower()}",
                      xaxis_tickformat="$,.0f" if metric == "expected_loss" else None,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.15})
    return fig


def table(s: dict, metric: str = "expected_loss") -> pd.DataFrame:
    """Every assumption, ranked by `metric`, with human headers and formatted values."""
    lo, hi = f"×{s['low_factor']:g}", f"×{s['high_factor']:g}"
    return pd.DataFrame([{
        "Assumption": r["label"], "Kind": r["group"], "Value in use": r["base_value"], "Basis": r["basis"],
        f"Loss {lo}": signed_usd(r["expected_loss_low_usd"]), f"Loss {hi}": signed_usd(r["expected_loss_high_usd"]),
        f"Critical {lo}": _text("critical", r["critical_low"]), f"Critical {hi}": _text("critical", r["critical_high"]),
        f"Score {lo}": _text("mean_score", r["mean_score_low"]), f"Score {hi}": _text("mean_score", r["mean_score_high"]),
    } for r in rank(s["rows"], metric)])
