"""XLSX workbook of a JSON report (openpyxl): Summary, Deployments, Drivers, Fallbacks,
Concentration, Scenarios, Rejected rows — frozen headers, widths, number formats, rating colours.
Text that a spreadsheet would read as a formula is neutralised; the only formulas are none."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from risk_models.config.palette import RATING_COLOURS
from risk_models.report.options import with_option_details
from risk_models.report.tabular import deployments_table

RATING_FILL = {k: v.lstrip("#").upper() for k, v in RATING_COLOURS.items()}  # openpyxl: RGB without "#"
MONEY = '"$"#,##0'
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "#")  # '#': Excel error values such as #N/A


def safe(value: object) -> object:
    """Numbers stay numbers; text starting like a formula gets a leading apostrophe (OWASP); control
    characters XLSX cannot store (openpyxl raised IllegalCharacterError) become U+FFFD."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if isinstance(value, str) and value.startswith((*FORMULA_START, "'")):
        return "'" + value
    if isinstance(value, list):
        return safe(";".join(map(str, value)))
    return value


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list], money: set[str] = frozenset(),
           widths: dict[str, int] | None = None, rating_col: str | None = None) -> None:
    ws = wb.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="3B3B3B")
    for r in rows:
        ws.append([safe(v) for v in r])
    ws.freeze_panes = "A2"
    for k, name in enumerate(header, start=1):
        letter = get_column_letter(k)
        ws.column_dimensions[letter].width = (widths or {}).get(name, max(10, min(45, len(name) + 4)))
        if name in money:
            for cell in ws[letter][1:]:
                cell.number_format = MONEY
    if rating_col and rows:
        letter = get_column_letter(header.index(rating_col) + 1)
        area = f"{letter}2:{letter}{len(rows) + 1}"
        for rating, colour in RATING_FILL.items():
            ws.conditional_formatting.add(area, CellIsRule(
                operator="equal", formula=[f'"{rating}"'], fill=PatternFill("solid", fgColor=colour),
                font=Font(color="000000" if rating in ("low", "medium") else "FFFFFF")))
    ws.auto_filter.ref = ws.dimensions


def render_xlsx(rep: dict) -> bytes:
    rep = with_option_details(rep)
    wb = Workbook()
    wb.remove(wb.active)
    sim = rep["simulation"]
    deps = rep["deployments"]
    summary = [["Organisation", rep.get("organisation", "")], ["Generated", rep["generated_at"]],
               ["Scenario library as of", rep["scenario_library"]["as_of"]], ["Deployments", len(deps)],
               ["Rejected problems", len(rep["inventory"]["rejected"])],
               ["High or critical", sum(d["rating"] in ("high", "critical") for d in deps)],
               ["Expected annual loss (USD)", sim["expected_annual_loss_usd"]], ["VaR 90 (USD)", sim["var90_usd"]],
               ["VaR 95 (USD)", sim["var95_usd"]], ["VaR 99 (USD)", sim["var99_usd"]],
               ["Trials / seed", f"{sim['trials']} / {sim['seed']}"], ["Inputs hash", rep.get("inputs_hash", "")]]
    from risk_models.report.pdf import probability_banner  # one wording for every report
    if probability_banner(rep):
        summary.insert(1, ["Note", probability_banner(rep)])
    _sheet(wb, "Summary", ["item", "value"], summary, widths={"item": 30, "value": 70})
    ws = wb["Summary"]
    for row in ws.iter_rows(min_row=2):
        if isinstance(row[1].value, float):
            row[1].number_format = MONEY
    flat = deployments_table(rep)
    header = list(flat.columns)
    _sheet(wb, "Deployments", header, flat.astype(object).where(flat.notna(), None).values.tolist(),
           money={"annual_spend_usd", "committed_spend_usd", "expected_loss_usd"},
           widths={"name": 40, "top_driver": 50, "use_case": 30}, rating_col="rating")
    drows = [[d["deployment_id"], x["kind"], x["id"], x["label"], x["value"]] for d in deps for x in d["drivers"]]
    _sheet(wb, "Drivers", ["deployment_id", "kind", "id", "label", "value"], drows, widths={"label": 80})
    frows = [[d["deployment_id"], f["option_id"], f["label"], f["feasible"], "; ".join(f["reasons"]),
              f["effort_weeks"][0], f["effort_weeks"][1], f["risk_reduction"], f["residual_score"],
              f["expected_loss_reduction_usd"], f["one_off_cost_usd"], f["run_cost_delta_usd"], f["loss_avoided_per_usd"],
              f["required"]]
             for d in deps for f in d.get("fallbacks", [])]
    _sheet(wb, "Fallbacks", ["deployment_id", "option_id", "label", "feasible", "reasons", "effort_low_weeks",
                             "effort_high_weeks", "risk_reduction", "residual_score", "expected_loss_reduction_usd",
                             "one_off_cost_usd", "run_cost_delta_usd", "loss_avoided_per_usd", "required"], frows,
           money={"expected_loss_reduction_usd", "one_off_cost_usd", "run_cost_delta_usd"},
           widths={"label": 50, "reasons": 60})
    crows = [[axis, weight, c["hhi"], c["band"], c["top"], c["top_share"], key, share]
             for axis, by in rep["concentration"].items() for weight, c in by.items()
             for key, share in c["shares"].items()]
    _sheet(wb, "Concentration", ["axis", "weight", "hhi", "band", "top", "top_share_pct", "key", "share_pct"], crows)
    srows = [[o["event_label"], o["id"], o["label"], o["probability"], o["default_probability"], o["confidence"],
              "; ".join(f"{s['title']} ({s['date']}) {s['url']}" for s in o["sources"])]
             for o in rep["scenario_library"]["outcomes"]]
    _sheet(wb, "Scenarios", ["event", "outcome_id", "outcome", "probability", "default_probability", "confidence",
                             "sources"], srows, widths={"event": 40, "outcome": 50, "sources": 80})
    rrows = [[e["line"], e["deployment_id"], e["column"], e["value"], e["message"]] for e in rep["inventory"]["rejected"]]
    _sheet(wb, "Rejected rows", ["line", "deployment_id", "column", "value", "message"], rrows, widths={"message": 80})
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
