"""A billing import in plain words: what was read, kept and left out (the CLI and the app say the same)."""

from __future__ import annotations

from risk_models.config.loader import Library
from risk_models.discovery.focus import FocusImport
from risk_models.io.escape import terminal_text


def summary_lines(imp: FocusImport, lib: Library) -> list[str]:
    """What was read, kept and left out, in plain words (CLI and app)."""
    lines = [f"Read {len(imp.files)} file(s): {imp.total_rows:,} rows; {imp.ai_rows:,} AI service charges, "
             f"{imp.non_ai_rows:,} rows of other services."]
    if imp.periods:
        months = imp.days_covered / (365.25 / 12)
        lines.append(f"Billing periods {imp.periods[0][0]} to {imp.periods[-1][1]} ({months:.1f} months): "
                     f"spend is annualised x{12 / months:.2f}.")
    lines += imp.notices
    return lines

def unplaced_lines(imp: FocusImport) -> list[str]:
    out = []
    for u in sorted(imp.unplaced.values(), key=lambda u: -u.rows):
        eg = f"; e.g. {', '.join(u.lines)}" if u.lines else ""
        money = f" (${u.cost:,.2f} in the billing currency)" if u.cost else ""
        out.append(f"  {u.rows:,} row(s){money}: {u.reason}{eg}")
    return out

def no_ai_message(imp: FocusImport) -> str:
    top = ", ".join(f"{terminal_text(s)} ({n:,})" for s, n in list(imp.non_ai_services.items())[:5])
    return (f"no AI service charges found in {imp.total_rows:,} billing rows (services: {top or 'none'}); "
            "nothing was written. AI charges are recognised by the rules in config/discovery.yaml (Azure OpenAI / "
            "Foundry, AWS Bedrock, Vertex AI / Gemini, OCI Generative AI, OpenAI, Anthropic and others).")
