"""The one XLSX reader (risk_models/io/xlsx.py, python-calamine behind the size checks) against the two it
replaced, side by side in one run, best of 3:

- a 20,000-row inventory exported by `export_xlsx`, read to text cells: the old openpyxl reader
  (read-only mode, as risk_models/inventory/read.py had it) vs `read_xlsx_sheets` + `cell_text`;
- a 20,000-row questionnaire with every question answered (`workbook_bytes`), read to answer cells: the old
  regex-over-the-sheet-XML reader (risk_models/questionnaire/workbook.py had it) vs the new `_sheet_cells`.

Both old readers are kept below, frozen, only to measure against; each pair's output is checked equal
before timing. Prints seconds and the ratio (old / new). Run: .venv/bin/python -m bench.bench_xlsx [ROWS]
"""

from __future__ import annotations

import html
import io
import re
import sys
import zipfile
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from bench.bench_import import best_of, make_inventory
from bench.bench_questionnaire import answered_everywhere
from risk_models.config.loader import load_library
from risk_models.inventory.export import export_xlsx
from risk_models.inventory.read import _cell_text, import_bytes
from risk_models.io.xlsx import cell_text, read_xlsx_sheets
from risk_models.questionnaire.workbook import SHEET, _sheet_cells, workbook_bytes


# --- the inventory's old reader: openpyxl, read-only, values as text -----------------------------------
def old_openpyxl_cells(data: bytes) -> list[list[str]]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    ws = wb.worksheets[0]
    if ws.max_row is None or ws.max_column is None:
        ws.calculate_dimension(force=True)
    cells = [[_cell_text(v) for v in r] for r in ws.iter_rows(max_row=max(ws.max_row or 0, 1),
                                                             max_col=max(ws.max_column or 0, 1), values_only=True)]
    wb.close()
    return cells


def new_cells(data: bytes) -> list[list[str]]:
    (grid,) = read_xlsx_sheets(data, "bench.xlsx").sheets.values()
    return [[v if type(v) is str else cell_text(v) for v in row] for row in grid]


# --- the questionnaire's old reader: one regex over the sheet XML -------------------------------------
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELLS = re.compile(
    r'<c r="([A-Z]+)(\d+)"(?:[^>]*?\st="(\w+)")?[^>]*?(?:/>|>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?'
    r"(?:<v>([^<]*)</v>)?(?:<is><t>([^<]*)</t></is>|<is>(.*?)</is>)?</c>)", re.DOTALL)
_TAGS = r"<rPh\b.*?</rPh>|<[^>]+>"


def _col_index(ref: str) -> int:
    n = 0
    for ch in ref:
        n = n * 26 + ord(ch) - 64
    return n - 1


def old_regex_cells(data: bytes, sheet: str) -> pd.DataFrame | None:
    z = zipfile.ZipFile(io.BytesIO(data))
    book = ElementTree.fromstring(z.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship")}
    rid = next((s.get(f"{_REL}id") for s in book.iter(f"{_MAIN}sheet") if s.get("name") == sheet), None)
    if rid is None:
        return None
    target = targets[rid].lstrip("/")
    path = target if target.startswith("xl/") else f"xl/{target}"
    shared: list[str] = []
    if "xl/sharedStrings.xml" in z.namelist():
        for _, el in ElementTree.iterparse(z.open("xl/sharedStrings.xml")):
            if el.tag == f"{_MAIN}si":
                shared.append("".join(t.text or "" for t in el.iter(f"{_MAIN}t")))
                el.clear()
    found = _CELLS.findall(z.read(path).decode("utf-8"))
    if not found:
        return pd.DataFrame(dtype=object)
    cells = pd.DataFrame(found, columns=["col", "row", "kind", "v", "inline", "rich"], dtype=object)
    letters = {c: _col_index(c) for c in cells["col"].unique()}
    col = cells["col"].map(letters).to_numpy(int)
    row = cells["row"].astype(int).to_numpy()
    kind, v = cells["kind"], cells["v"]
    value = pd.Series(None, index=cells.index, dtype=object)
    is_s = (kind == "s") & (v != "")
    if is_s.any():
        value[is_s] = np.asarray(shared, dtype=object)[v[is_s].astype(int).to_numpy()]
    is_inline = kind == "inlineStr"
    if is_inline.any():
        value[is_inline] = cells.loc[is_inline, "inline"]
        rich = is_inline & (cells["rich"] != "")
        if rich.any():
            value[rich] = cells.loc[rich, "rich"].str.replace(_TAGS, "", regex=True)
    is_text = kind.isin(["str", "e"])
    if is_text.any():
        value[is_text] = v[is_text]
    needs_unescape = (is_inline | is_text) & value.astype(str).str.contains("&", regex=False)
    if needs_unescape.any():
        value[needs_unescape] = value[needs_unescape].map(html.unescape)
    is_b = kind == "b"
    if is_b.any():
        value[is_b] = np.where(v[is_b] == "1", "TRUE", "FALSE").astype(object)
    is_n = kind.isin(["", "n", "d"]) & (v != "")
    if is_n.any():
        value[is_n] = pd.to_numeric(v[is_n], errors="coerce").astype(float).astype(object).to_numpy()
    vals = value.to_numpy(dtype=object, copy=True)
    texts = (is_s | is_inline | is_text).to_numpy()
    blank = np.array([not x.strip() for x in vals[texts]], dtype=bool)
    vals[np.flatnonzero(texts)[blank]] = None
    grid = np.full((row.max() + 1, col.max() + 1), None, dtype=object)
    grid[row, col] = vals
    present = np.unique(row)
    return pd.DataFrame(grid[present], index=present)


def _same_answer_cells(old: pd.DataFrame, new: pd.DataFrame) -> bool:
    """Equal cell by cell on the rows the old reader returned (missing = None or NaN); other rows blank."""
    def norm(v: object) -> object:
        return None if v is None or (isinstance(v, float) and v != v) else v
    for r in old.index:
        a, b = [norm(v) for v in old.loc[r].tolist()], [norm(v) for v in new.loc[r].tolist()]
        n = max(len(a), len(b))
        if a + [None] * (n - len(a)) != b + [None] * (n - len(b)):
            return False
    return all(norm(v) is None for r in new.index.difference(old.index) for v in new.loc[r].tolist())


def main(n: int = 20_000) -> None:
    lib = load_library()
    frame = import_bytes(make_inventory(n), "inv.csv", lib).frame
    inventory = export_xlsx(frame)
    ids = frame["deployment_id"].tolist()
    questionnaire = workbook_bytes(frame, answered_everywhere(ids, lib), lib)
    cells = sum(len(r) for r in new_cells(inventory))

    assert old_openpyxl_cells(inventory) == new_cells(inventory), "inventory: the readers disagree"
    assert _same_answer_cells(old_regex_cells(questionnaire, SHEET), _sheet_cells(questionnaire, "q.xlsx", SHEET)), \
        "questionnaire: the readers disagree"

    t_old_inv = best_of(lambda: old_openpyxl_cells(inventory))
    t_new_inv = best_of(lambda: new_cells(inventory))
    t_old_q = best_of(lambda: old_regex_cells(questionnaire, SHEET))
    t_new_q = best_of(lambda: _sheet_cells(questionnaire, "q.xlsx", SHEET))
    q_cells = int(_sheet_cells(questionnaire, "q.xlsx", SHEET).size)

    print(f"{n:,} rows; inventory workbook {len(inventory) / 1e6:.1f} MB ({cells:,} cells), "
          f"questionnaire workbook {len(questionnaire) / 1e6:.1f} MB ({q_cells:,} cells); same cells: yes")
    print(f"{'read':<58}{'old s':>9}{'new s':>9}{'old/new':>9}")
    print(f"{'inventory XLSX -> text cells (old: openpyxl read-only)':<58}{t_old_inv:>9.3f}{t_new_inv:>9.3f}"
          f"{t_old_inv / t_new_inv:>9.2f}")
    print(f"{'questionnaire XLSX -> answer cells (old: regex over XML)':<58}{t_old_q:>9.3f}{t_new_q:>9.3f}"
          f"{t_old_q / t_new_q:>9.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
