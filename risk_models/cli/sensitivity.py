"""`assess --sensitivity`: the ranked tornado table on the terminal (risk_models.engine.sensitivity)."""

from __future__ import annotations

from risk_models.config.palette import signed_usd, usd
from risk_models.engine.assessment import Assessment
from risk_models.engine.sensitivity import sensitivity
from risk_models.io.escape import terminal_text as term

LABEL_WIDTH = 60


def sensitivity_record(a: Assessment) -> dict:
    """The tornado of an assessment (the JSON report's `sensitivity` key)."""
    return sensitivity(a.frame, a.answers, a.lib, a.probabilities, a.residual)


def _count(n: int) -> str:
    return f"{'+' if n > 0 else '−'}{abs(n)}" if n else "0"  # the minus sign of signed_usd


def _points(x: float) -> str:
    return f"{'+' if x > 0 else '−'}{abs(x):.1f}" if round(x, 1) else "0.0"


def print_sensitivity(s: dict, out) -> None:
    lo, hi = f"×{s['low_factor']:g}", f"×{s['high_factor']:g}"
    b = s["base"]
    print(f"\nSensitivity: each assumption moved to {lo} and {hi}, one at a time, closed form (no simulation); "
          f"base: expected annual loss {usd(b['expected_loss_usd'])}, {b['critical']} critical, mean score "
          f"{b['mean_score']:.1f}. Ranked by the change in expected loss.", file=out)
    head = (f"{'Assumption':<{LABEL_WIDTH}} {'Value':>26}  {'Loss ' + lo:>14} {'Loss ' + hi:>14}  "
            f"{'Critical ' + lo:>12} {'Critical ' + hi:>12}  {'Score ' + lo:>10} {'Score ' + hi:>10}")
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in s["rows"]:
        label = term(r["label"])
        label = label if len(label) <= LABEL_WIDTH else label[:LABEL_WIDTH - 1] + "…"
        print(f"{label:<{LABEL_WIDTH}} {term(r['base_value']):>26}  {signed_usd(r['expected_loss_low_usd']):>14} "
              f"{signed_usd(r['expected_loss_high_usd']):>14}  {_count(r['critical_low']):>12} "
              f"{_count(r['critical_high']):>12}  {_points(r['mean_score_low']):>10} {_points(r['mean_score_high']):>10}",
              file=out)
    for n in s["not_moved"]:
        print(f"Not moved: {term(n['label'])} — {term(n['reason'])}", file=out)
