"""Command line: `python -m risk_models validate|template ...`.

Exit codes: 0 success, 1 some input rows invalid, 2 usage, configuration or file errors
(plain message on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from risk_models.answers import read_answers_file, validate_answers
from risk_models.config_loader import ConfigError, Library, load_library
from risk_models.inventory_import import (
    DEFAULT_MAX_BYTES,
    ImportResult,
    InventoryFileError,
    import_inventory,
)
from risk_models.inventory_template import template_csv, template_xlsx
from risk_models.models import RowError


class UserError(Exception):
    """A problem the user can fix; printed without a traceback, exit 2."""


def _write_json(obj: object, out: str) -> None:
    text = json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if out == "-":
        sys.stdout.write(text)
    else:
        Path(out).write_text(text, encoding="utf-8")


def _format_error(e: RowError) -> str:
    where = f"line {e.line}" if e.line is not None else "answers"
    who = f" ({e.deployment_id})" if e.deployment_id else ""
    col = f" column {e.column}" if e.column else ""
    val = f": value {e.value!r}" if e.value is not None else ""
    return f"  {where}{who}{col}{val} — {e.message}"


def load_inputs(args: argparse.Namespace) -> tuple[Library, ImportResult, dict, list[RowError]]:
    lib = load_library(args.config) if args.config else load_library()
    result = import_inventory(args.file, lib, max_bytes=args.max_mb * 1024 * 1024)
    answers, answer_errors = {}, []
    if getattr(args, "answers", None):
        try:
            raw = read_answers_file(Path(args.answers))
        except FileNotFoundError:
            raise UserError(f"{args.answers}: file not found") from None
        except Exception as exc:  # YAML/JSON syntax or decoding problems
            raise UserError(f"{args.answers}: cannot read answers ({exc})") from None
        if not isinstance(raw, dict):
            raise UserError(f"{args.answers}: expected a mapping {{deployment_id: {{question_id: answer}}}}")
        ids = result.frame["deployment_id"].tolist() + [e.deployment_id for e in result.errors if e.deployment_id]
        answers, answer_errors = validate_answers(raw, lib.questions, ids)
    return lib, result, answers, answer_errors


def cmd_validate(args: argparse.Namespace) -> int:
    _, result, answers, answer_errors = load_inputs(args)
    channels = result.frame["channel"].value_counts().sort_index()
    report = {
        "valid_rows": len(result.frame),
        "rejected": [e.model_dump() for e in result.errors],
        "channels": {k: int(v) for k, v in channels.items()},
        "answers": {"answered_deployments": len(answers),
                    "errors": [e.model_dump() for e in answer_errors]},
    }
    if args.json:
        _write_json(report, args.json)
    out = sys.stderr if args.json == "-" else sys.stdout
    rejected_rows = len(result.rejected_lines) or (1 if result.errors else 0)
    print(f"{args.file}: {result.total_rows} rows, {len(result.frame)} valid, {rejected_rows} rejected", file=out)
    if len(channels):
        print("Deployments per channel: " + ", ".join(f"{k} {v}" for k, v in channels.items()), file=out)
    if result.errors:
        print(f"Rejected ({len(result.errors)} problems):", file=out)
        for e in result.errors:
            print(_format_error(e), file=out)
    if args.answers:
        print(f"Answers: {len(answers)} deployments answered, {len(answer_errors)} problems", file=out)
        for e in answer_errors:
            print(_format_error(e), file=out)
    return 1 if (result.errors or answer_errors) else 0


def cmd_template(args: argparse.Namespace) -> int:
    lib = load_library(args.config) if args.config else load_library()
    fmt = args.format or ("xlsx" if args.out.lower().endswith(".xlsx") else "csv")
    data = template_xlsx(lib) if fmt == "xlsx" else template_csv(lib)
    try:
        Path(args.out).write_bytes(data)
    except OSError as exc:
        raise UserError(f"{args.out}: cannot write ({exc.strerror})") from None
    print(f"wrote {fmt.upper()} template to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ai-vendor-risk", description="AI vendor-risk assessment")
    p.add_argument("--config", help="directory with the YAML libraries (default: the bundled config/)")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check an inventory file (CSV, XLSX or JSON)")
    v.add_argument("file")
    v.add_argument("--answers", help="questionnaire answers (YAML or JSON)")
    v.add_argument("--json", metavar="OUT", help="write the result as JSON ('-' = stdout)")
    v.add_argument("--max-mb", type=int, default=DEFAULT_MAX_BYTES // (1024 * 1024),
                   help="file size limit in MB (default 20)")
    v.set_defaults(func=cmd_validate)

    t = sub.add_parser("template", help="write an empty inventory template")
    t.add_argument("--format", choices=["csv", "xlsx"])
    t.add_argument("out")
    t.set_defaults(func=cmd_template)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UserError, ConfigError, InventoryFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
