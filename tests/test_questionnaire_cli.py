"""`questionnaire export|import|next` and `validate --against`: what a risk analyst does from the
command line, checked through the real CLI and real workbooks (openpyxl)."""

from __future__ import annotations

import json

import openpyxl
import yaml

from risk_models.questionnaire.workbook import FIRST_ROW, KEY_ROW, LISTS, SHEET
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY
from tests.test_cli import run


def _columns(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[KEY_ROW] if c.value}


def _row_of(ws, dep: str) -> int:
    return next(r for r in range(FIRST_ROW, ws.max_row + 1) if ws.cell(r, 1).value == dep)


def test_export_fill_import_applies_valid_cells_and_reports_the_invalid_ones(tmp_path, lib):
    out = tmp_path / "out"
    r = run("questionnaire", "export", str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--by", "owner", str(out))
    assert r.returncode == 0, r.stderr
    books = sorted(out.glob("*.xlsx"))
    assert len(books) >= 5 and "questionnaire-owner-m-rossi.xlsx" in {b.name for b in books}
    path = out / "questionnaire-owner-m-rossi.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    # the workbook a recipient gets: human headers, hidden ids, drop-downs, comments, locked ids, answers filled in
    cols = _columns(ws)
    q = lib.questions["exit_plan_exists"]
    assert ws.cell(1, cols["exit_plan_exists"]).value == q.text
    assert ws.row_dimensions[KEY_ROW].hidden and wb[LISTS].sheet_state == "hidden"
    assert "DORA Art. 28(8)" in ws.cell(1, cols["exit_plan_exists"]).comment.text
    assert "assumed None" in ws.cell(1, cols["exit_plan_exists"]).comment.text
    assert ws.protection.sheet
    dep_row = _row_of(ws, "DEP-001")
    assert ws.cell(dep_row, 1).protection.locked and not ws.cell(dep_row, cols["exit_plan_exists"]).protection.locked
    assert ws.cell(dep_row, cols["substitutability"]).value == "Highly complex substitution"  # current answer
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert any(str(dv.sqref).startswith(openpyxl.utils.get_column_letter(cols["exit_plan_exists"])) for dv in lists)

    # the owner fills it in: two valid answers, one invalid choice, one unknown deployment
    other = next(r for r in range(FIRST_ROW, ws.max_row + 1) if ws.cell(r, 1).value not in (None, "DEP-001"))
    other_id = ws.cell(other, 1).value
    ws.cell(dep_row, cols["exit_plan_exists"]).value = "Documented and tested"
    ws.cell(other, cols["ip_indemnity"]).value = "Yes, capped or with exclusions"
    ws.cell(other, cols["audit_rights"]).value = "Whenever we like"  # not an option
    ghost = ws.max_row + 1
    ws.cell(ghost, 1).value = "DEP-999"
    ws.cell(ghost, cols["eval_suite"]).value = "Yes"
    wb.save(path)

    new = tmp_path / "new.yaml"
    js = tmp_path / "import.json"
    r = run("questionnaire", "import", *map(str, books), "--inventory", str(DEMO_INVENTORY),
            "--answers", str(DEMO_ANSWERS), "--out", str(new), "--json", str(js))
    assert r.returncode == 1, r.stdout + r.stderr
    doc = json.loads(js.read_text())
    errors = doc["errors"]
    assert len(errors) == 2
    bad = next(e for e in errors if e["question"] == "audit_rights")
    assert bad == {"file": path.name, "sheet": SHEET, "row": other, "deployment_id": other_id,
                   "question": "audit_rights", "value": "Whenever we like", "message": bad["message"]}
    assert "allowed: Full, including the supervisor" in bad["message"]
    unknown = next(e for e in errors if e["deployment_id"] == "DEP-999")
    assert unknown["row"] == ghost and "not in the inventory" in unknown["message"]
    assert "Whenever we like" in r.stderr and "DEP-999" in r.stderr
    # the rest is applied and the diff printed: only the two real changes
    assert {(c["deployment_id"], c["question"], c["after"]) for c in doc["changes"]} == {
        ("DEP-001", "exit_plan_exists", "tested"), (other_id, "ip_indemnity", "capped")}
    assert "Documented and tested" in r.stdout
    merged = yaml.safe_load(new.read_text())
    assert merged["DEP-001"]["exit_plan_exists"] == "tested" and merged[other_id]["ip_indemnity"] == "capped"
    assert "audit_rights" not in merged.get(other_id, {}) and "DEP-999" not in merged
    assert merged["DEP-061"]["price_protection"] == "fixed_price"  # answers from other files untouched

    # round trip: unchanged workbooks change nothing and exit 0
    r = run("questionnaire", "import", str(out / "questionnaire-owner-j-okafor.xlsx"), "--inventory",
            str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--out", str(tmp_path / "same.yaml"))
    assert r.returncode == 0 and r.stdout.startswith("0 answer(s) change"), r.stdout + r.stderr


def test_hostile_text_is_not_a_formula_in_the_workbook(tmp_path):
    inv = tmp_path / "inv.csv"
    inv.write_text("deployment_id,name,owner,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
                   "=1+1,=HYPERLINK(\"http://x\"),@evil,openai,gpt-4o,100,low,public\n", encoding="utf-8")
    r = run("questionnaire", "export", str(inv), "--by", "owner", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    (book,) = (tmp_path / "o").glob("*.xlsx")
    ws = openpyxl.load_workbook(book)[SHEET]
    assert [ws.cell(FIRST_ROW, c).value for c in (1, 2, 4)] == ["'=1+1", "'=HYPERLINK(\"http://x\")", "'@evil"]
    assert all(ws.cell(FIRST_ROW, c).data_type == "s" for c in (1, 2, 4))
    ws.cell(FIRST_ROW, 7).value = 8
    ws.parent.save(book)
    r = run("questionnaire", "import", str(book), "--inventory", str(inv), "--out", str(tmp_path / "a.yaml"))
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load((tmp_path / "a.yaml").read_text()) == {"=1+1": {"rto_hours": 8.0}}


def test_import_usage_errors_exit_2(tmp_path):
    r = run("questionnaire", "import", str(tmp_path / "missing.xlsx"), "--inventory", str(DEMO_INVENTORY),
            "--out", str(tmp_path / "a.yaml"))
    assert r.returncode == 2 and "cannot read" in r.stderr and "Traceback" not in r.stderr
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    r = run("questionnaire", "import", str(junk), "--inventory", str(DEMO_INVENTORY), "--out", str(tmp_path / "a.yaml"))
    assert r.returncode == 1 and "not an XLSX workbook" in r.stderr


def test_next_lists_what_to_answer_first(tmp_path):
    js = tmp_path / "next.json"
    r = run("questionnaire", "next", str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--top", "5", "--json", str(js))
    assert r.returncode == 0, r.stderr
    doc = json.loads(js.read_text())
    assert len(doc["next"]) == 5 and doc["unanswered_that_matter"] > 100
    losses = [x["loss_range_usd"] for x in doc["next"] if x["rating_changes"]]
    assert losses == sorted(losses, reverse=True)
    assert {c["group"] for c in doc["completion"]["business_unit"]} >= {"Retail Banking", "HR"}
    assert "Completion by business unit" in r.stdout


def test_validate_against_prints_the_register_diff(tmp_path):
    lines = DEMO_INVENTORY.read_text(encoding="utf-8").splitlines()
    new_lines = [ln for ln in lines if not ln.startswith("DEP-004,")]
    new_lines = [ln.replace("M. Rossi", "A. New Owner", 1) if ln.startswith("DEP-001,") else ln for ln in new_lines]
    new = tmp_path / "new.csv"
    new.write_text("\n".join(new_lines) + "\n", encoding="utf-8")
    js = tmp_path / "v.json"
    r = run("validate", str(new), "--against", str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--json", str(js))
    against = json.loads(js.read_text())["against"]
    assert against["removed"] == ["DEP-004"] and against["added"] == []
    assert against["changed"] == [{"deployment_id": "DEP-001", "column": "owner", "before": "M. Rossi",
                                   "after": "A. New Owner"}]
    assert "changed DEP-001 Owner: M. Rossi -> A. New Owner" in r.stdout
    assert "removed: DEP-004" in r.stdout
    assert against["answers_archived"] == ["DEP-004"] and "would be archived" in r.stdout
    assert r.returncode == 1  # the answers file still holds DEP-004, which the new version removed
    r = run("validate", str(new), "--against", str(tmp_path / "nope.csv"))
    assert r.returncode == 2 and "not found" in r.stderr
