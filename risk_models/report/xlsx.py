"""XLSX workbook of a JSON report (openpyxl), made for people to hand on: a README sheet, then Summary,
Deployments, Drivers, Fallbacks (ranked as the app ranks them), Cases, Concentration, Scenarios and
Rejected rows — labelled headers, labels for coded values, real date cells, percentages as
percentages, money without cents, filters on every header, widths from the content, rating colours.
Text that a spreadsheet would read as a formula is neutralised; the workbook holds no formula."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from risk_models.config.labels import human, report_labels
from risk_models.config.palette import RATING_COLOURS
from risk_models.fallbacks.recommend import option_verdict
from risk_models.report.options import with_option_details
from risk_models.report.tabular import Col, _date, _words, deployment_columns

RATING_FILL = {k: v.lstrip("#").upper() for k, v in RATING_COLOURS.items()}  # openpyxl: RGB without "#"
FORMATS = {"money": '"$"#,##0;-"$"#,##0', "pct": "0.0%", "date": "d mmm yyyy", "number": "0.0", "int": "0",
           "weeks": "0.#", "ratio": '"$"0.00'}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "#")  # '#': Excel error values such as #N/A
MAX_WIDTH, SAMPLE_ROWS = 60, 500


def safe(value: object) -> object:
    """Numbers stay numbers; text starting like a formula gets a leading apostrophe (OWASP); control
    characters XLSX cannot store (openpyxl raised IllegalCharacterError) become U+FFFD."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if isinstance(value, str) and value.startswith((*FORMULA_START, "'")):
        return "'" + value
    if isinstance(value, list):
        return safe("; ".join(map(str, value)))
    return value


def _sheet(wb: Workbook, title: str, cols: list[Col], records: list[dict], rating: str | None = None) -> None:
    ws = wb.create_sheet(title)
    ws.append([c.header for c in cols])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="3B3B3B")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r in records:
        ws.append([safe(c.get(r)) for c in cols])
    ws.freeze_panes = "A2"
    for k, c in enumerate(cols, start=1):
        letter = get_column_letter(k)
        if c.kind != "text":
            for cell in ws[letter][1:]:
                cell.number_format = FORMATS[c.kind]
        # width from the content (a sample of rows: 20,000-row workbooks stay fast), header words kept whole
        values = [ws.cell(row=i, column=k).value for i in range(2, min(len(records), SAMPLE_ROWS) + 2)]
        shown = [len(f"{v:,.0f}") + 2 if isinstance(v, int | float) else 12 if isinstance(v, dt.date) else len(str(v))
                 for v in values if v is not None]
        longest_word = max((len(w) for w in c.header.split()), default=4)
        ws.column_dimensions[letter].width = min(MAX_WIDTH, max([longest_word + 2, min(len(c.header), 18) + 2,
                                                                 *(s + 2 for s in shown)]))
    if rating and records:
        letter = get_column_letter([c.header for c in cols].index(rating) + 1)
        area = f"{letter}2:{letter}{len(records) + 1}"
        for name, colour in RATING_FILL.items():
            ws.conditional_formatting.add(area, CellIsRule(
                operator="equal", formula=[f'"{name}"'], fill=PatternFill("solid", fgColor=colour),
                font=Font(color="000000" if name in ("low", "medium") else "FFFFFF")))
    ws.auto_filter.ref = ws.dimensions


FALLBACK_COLS = [
    Col("Deployment", lambda r: r["deployment_id"]), Col("Rank", lambda r: r["rank"], "int"),
    Col("Option", lambda r: r["label"]), Col("Verdict", option_verdict),
    Col("Loss avoided / yr", lambda r: r["expected_loss_reduction_usd"] if r["feasible"] else None, "money"),
    Col("Loss avoided per $1 spent once", lambda r: r["loss_avoided_per_usd"] if r["feasible"] else None, "ratio"),
    Col("Score after", lambda r: r["residual_score"] if r["feasible"] else None, "number"),
    Col("Effort low (person-weeks)", lambda r: r["effort_weeks"][0], "weeks"),
    Col("Effort high (person-weeks)", lambda r: r["effort_weeks"][1], "weeks"),
    Col("One-off cost", lambda r: r["one_off_cost_usd"] if r["feasible"] else None, "money"),
    Col("Run cost change / yr", lambda r: r["run_cost_delta_usd"], "money"),
    Col("Run cost known", lambda r: "unknown (no list price)" if r["run_cost_delta_usd"] is None else "yes"),
    Col("Target model", lambda r: r.get("target_model") or ""),
    Col("Capability gap", lambda r: r.get("capability_gap") or ""),
    Col("Why not", lambda r: "; ".join(r["reasons"]))]


def _readme(rep: dict) -> list[dict]:
    lib = rep["scenario_library"]
    pack = lib.get("pack") or {}
    rows = [("Organisation", rep.get("organisation", "")), ("Generated", rep["generated_at"]),
            ("Scenario pack", f"{pack.get('label', 'scenario library')} as of {lib['as_of']}"),
            ("Horizon", f"{lib['horizon_months']} months"), ("Inputs hash (SHA-256)", rep.get("inputs_hash", "")),
            ("", ""),
            ("Summary", "the portfolio's figures: deployments, expected loss and its lenses, VaR"),
            ("Deployments", "one row per deployment: inventory, score, likelihood × impact, rating, expected loss"),
            ("Drivers", "what adds to each score: outcomes (score points) and controls (multipliers)"),
            ("Fallbacks", "every option per deployment, ranked as the app ranks them: by loss avoided per dollar "
                          "spent once; the run-cost change is its own column and never added in"),
            ("Cases", "each case of the scenario pack: the loss it carries, the change if it goes the wrong way"),
            ("Concentration", "shares of spend per channel, hosting cloud and model vendor, with the HHI"),
            ("Scenarios", "every outcome with the probability used, its default and its sources (full titles, URLs)"),
            ("Rejected rows", "inventory rows not assessed, with the problem to fix")]
    return [{"item": k, "value": v} for k, v in rows]


def render_xlsx(rep: dict) -> bytes:
    rep = with_option_details(rep)
    labels = report_labels(rep)
    wb = Workbook()
    wb.remove(wb.active)
    kv = [Col("Item", lambda r: r["item"]), Col("Value", lambda r: r["value"])]
    _sheet(wb, "README", kv, _readme(rep))
    sim = rep["simulation"]
    deps = rep["deployments"]
    summary = [("Deployments", len(deps)), ("Rejected problems", len(rep["inventory"]["rejected"])),
               ("High or critical", sum(d["rating"] in ("high", "critical") for d in deps)),
               ("Expected annual loss", sim["expected_annual_loss_usd"]),
               *((f"  of which {v['label'].lower()}", v["expected_annual_loss_usd"])
                 for v in (rep.get("lenses") or {}).values()),
               ("VaR 90", sim["var90_usd"]), ("VaR 95", sim["var95_usd"]), ("VaR 99", sim["var99_usd"]),
               ("Simulated years", sim["trials"]), ("Seed", sim["seed"])]
    from risk_models.report.pdf import probability_banner  # one wording for every report
    if probability_banner(rep):
        summary.insert(0, ("Note", probability_banner(rep)))
    _sheet(wb, "Summary", kv, [{"item": k, "value": v} for k, v in summary])
    for row in wb["Summary"].iter_rows(min_row=2):
        if isinstance(row[1].value, float):
            row[1].number_format = FORMATS["money"]
    _sheet(wb, "Deployments", deployment_columns(rep), deps, rating="Rating")
    drivers = [{"dep": d["deployment_id"], **x} for d in deps for x in d["drivers"]]
    _sheet(wb, "Drivers", [Col("Deployment", lambda r: r["dep"]), Col("Kind", lambda r: r["kind"]),
                           Col("Driver", lambda r: r["label"]),
                           Col("Value (score points, or × for a control)", lambda r: r["value"], "number")], drivers)
    options = [f | {"deployment_id": d["deployment_id"], "rank": k}
               for d in deps for k, f in enumerate(d.get("fallbacks", []), start=1)]
    _sheet(wb, "Fallbacks", FALLBACK_COLS, options)
    cases = (rep.get("cases") or {}).get("cases") or []
    if cases:
        _sheet(wb, "Cases", [
            Col("Case", lambda c: c["label"]), Col("Court or authority", lambda c: c["forum"]),
            Col("Reference", lambda c: c["reference"] or ""), Col("Status", lambda c: c["status"]),
            Col("Next date", lambda c: _date(c["next_milestone"]["date"]) if c["next_milestone"] else None, "date"),
            Col("Next step", lambda c: c["next_milestone"]["label"] if c["next_milestone"] else "no date announced"),
            Col("Deployments reached", lambda c: len(c["reached"]), "int"),
            Col("Expected loss / yr", lambda c: c["expected_loss_usd"], "money"),
            Col("Change if adverse / yr", lambda c: c["loss_if_adverse_usd"], "money"),
            Col("Best way out", lambda c: c["best_option"]["label"] if c["best_option"] else "")], cases)
    conc = [{"axis": axis, "weight": weight, "c": c, "key": key, "share": share}
            for axis, by in rep["concentration"].items() for weight, c in by.items()
            for key, share in c["shares"].items()]
    _sheet(wb, "Concentration", [
        Col("By", lambda r: human("axis", r["axis"])), Col("Weighted by", lambda r: _words(r["weight"])),
        Col("HHI", lambda r: r["c"]["hhi"], "int"), Col("Band", lambda r: r["c"]["band"]),
        Col("Name", lambda r: human(r["axis"], r["key"], labels)), Col("Share", lambda r: r["share"] / 100, "pct")],
        conc)
    _sheet(wb, "Scenarios", [
        Col("Event", lambda o: o["event_label"]), Col("Outcome", lambda o: o["label"]),
        Col("Probability used", lambda o: o["probability"], "pct"),
        Col("Default probability", lambda o: o["default_probability"], "pct"), Col("Confidence", lambda o: o["confidence"]),
        Col("Sources", lambda o: "; ".join(f"{s['title']} ({s['date']}) {s['url']}" for s in o["sources"]))],
        rep["scenario_library"]["outcomes"])
    _sheet(wb, "Rejected rows", [
        Col("Line", lambda e: e["line"], "int"), Col("Deployment", lambda e: e["deployment_id"] or ""),
        Col("Column", lambda e: _words(e["column"])), Col("Value", lambda e: e["value"]),
        Col("Problem", lambda e: e["message"])], rep["inventory"]["rejected"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
