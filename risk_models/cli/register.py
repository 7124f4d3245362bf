"""`validate NEW --against OLD`: the register diff (added, removed, changed field by field) and
what would happen to the answers (kept for present deployments, archived for removed ones)."""

from __future__ import annotations

import argparse

from risk_models.config.domain import RowError
from risk_models.config.loader import load_library
from risk_models.inventory.read import ImportResult, import_inventory
from risk_models.inventory.versions import FIELD_LABELS, register_diff
from risk_models.io.escape import terminal_text as _term
from risk_models.questionnaire.answers import AnswerMap


def register_diff_report(args: argparse.Namespace, new: ImportResult, answers: AnswerMap,
                         answer_errors: list[RowError]) -> dict:
    """The diff of NEW against OLD; answers given for deployments NEW removes are listed as
    the ones that would be archived."""
    lib = load_library(args.config) if args.config else load_library()
    old = import_inventory(args.against, lib, max_bytes=args.max_mb * 1024 * 1024)
    d = register_diff(old.frame, new.frame)
    removed = set(d.removed)
    return {"file": args.against, "valid_rows": len(old.frame), "rejected_rows": len(old.rejected_lines),
            "added": d.added, "removed": d.removed, "changed": [c.model_dump() for c in d.changed],
            "unchanged": d.unchanged,
            "answers_archived": sorted({e.deployment_id for e in answer_errors if e.deployment_id in removed}
                                       | {dep for dep in answers if dep in removed}),
            "summary": d.summary()}


def print_register_diff(rep: dict, out) -> None:
    print(f"Against {_term(rep['file'])} ({rep['valid_rows']} valid rows): {rep['summary']}", file=out)
    if rep["added"]:
        print("  added: " + ", ".join(map(_term, rep["added"])), file=out)
    if rep["removed"]:
        print("  removed: " + ", ".join(map(_term, rep["removed"])), file=out)
    for c in rep["changed"]:
        print(f"  changed {_term(c['deployment_id'])} {FIELD_LABELS.get(c['column'], c['column'])}: "
              f"{_term(c['before']) or '(blank)'!s} -> {_term(c['after']) or '(blank)'!s}", file=out)
    if rep["answers_archived"]:
        print("  answers of removed deployments would be archived (restorable): "
              + ", ".join(map(_term, rep["answers_archived"])), file=out)
