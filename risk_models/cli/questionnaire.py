"""`questionnaire export|import|next`: send the questionnaire out as XLSX per recipient, read the
answers back (per-cell errors, diff against the current answers), and list what to answer next.

Exit codes as everywhere: 0 ok, 1 some cells (or rows) refused — the valid ones are still
written —, 2 usage, configuration or file errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from risk_models.cli import common
from risk_models.engine.value_of_information import completion, value_of_information
from risk_models.io.atomic import write_atomic
from risk_models.questionnaire.answers import answers_to_jsonable
from risk_models.questionnaire.report_answers import answer_text


def _inputs(args: argparse.Namespace):
    ns = argparse.Namespace(config=args.config, file=args.inventory, answers=args.answers, max_mb=args.max_mb)
    lib, result, answers, answer_errors = common.load_inputs(ns)
    if answer_errors:
        print(f"note: {len(answer_errors)} problem(s) in {args.answers}; those answers are left out:", file=sys.stderr)
        for e in answer_errors:
            print(common.format_error(e), file=sys.stderr)
    if result.errors:
        print(f"note: {len(result.rejected_lines) or 1} rejected inventory row(s) are not in the questionnaire "
              "(run `validate` for the list)", file=sys.stderr)
    return lib, result, answers


def cmd_export(args: argparse.Namespace) -> int:
    from risk_models.questionnaire.workbook import export_workbooks  # openpyxl: only here
    from risk_models.storage.signing import signing_key
    lib, result, answers = _inputs(args)
    if result.frame.empty:
        raise common.UserError(f"{args.inventory}: no valid deployments to ask about")
    out = Path(args.out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        books = export_workbooks(result.frame, answers, lib, args.by, seal_key=signing_key())
        for name, data in books.items():
            write_atomic(out / name, data)
    except OSError as exc:
        raise common.UserError(f"{args.out_dir}: cannot write ({exc.strerror or exc})") from None
    print(f"wrote {len(books)} workbook(s) to {out} ({len(result.frame)} deployments, {len(lib.questions)} questions, "
          f"one per {args.by.replace('_', ' ')})")
    for name in books:
        print(f"  {name}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from risk_models.questionnaire.workbook import merge_answers, read_workbook
    from risk_models.storage.signing import signing_key
    lib, result, answers = _inputs(args)
    seal_key = signing_key()  # answers only for the rows each workbook was sent with
    known = set(result.frame["deployment_id"].astype(str))
    incoming: dict = {}
    errors = []
    for f in args.files:
        try:
            data = Path(f).read_bytes()
        except OSError as exc:
            raise common.UserError(f"{f}: cannot read ({exc.strerror})") from None
        got, errs = read_workbook(data, Path(f).name, lib, known, seal_key)
        errors += errs
        for dep, per in got.items():
            incoming.setdefault(dep, {}).update(per)
    merged, changes = merge_answers(answers, incoming)
    try:
        write_atomic(args.out, yaml.safe_dump(answers_to_jsonable(merged), allow_unicode=True, sort_keys=True)
                     .encode("utf-8"))
    except OSError as exc:
        raise common.UserError(f"{args.out}: cannot write ({exc.strerror or exc})") from None
    qs = lib.questions
    doc = {"files": args.files, "answers_changed": len(changes),
           "changes": [{"deployment_id": c.deployment_id, "question": c.question,
                        "before": answers_to_jsonable({"x": {"q": c.before}})["x"]["q"],
                        "after": answers_to_jsonable({"x": {"q": c.after}})["x"]["q"]} for c in changes],
           "errors": [e.model_dump() for e in errors], "out": args.out}
    if args.json:
        common.write_json(doc, args.json)
    out = sys.stderr if args.json == "-" else sys.stdout
    print(f"{len(changes)} answer(s) change; written with all current answers to {args.out}", file=out)
    for c in changes:
        q = qs[c.question]
        before = answer_text(q, c.before)
        print(f"  {common.term(c.deployment_id)}: {q.text}: {common.term(before if before is not None else '(not answered)')}"
              f" -> {common.term(answer_text(q, c.after))}", file=out)
    if errors:
        print(f"{len(errors)} cell(s) refused (not applied):", file=sys.stderr)
        for e in errors:
            where = f"{e.file} sheet {e.sheet or '-'} row {e.row}"
            who = f" ({common.term(e.deployment_id)})" if e.deployment_id else ""
            what = f" question {e.question}" if e.question else ""
            val = f": value {common.term(e.value)!r}" if e.value is not None else ""
            print(f"  {where}{who}{what}{val} — {common.term(e.message)}", file=sys.stderr)
    return 1 if errors else 0


def cmd_next(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise common.UserError("--top must be at least 1")
    lib, result, answers = _inputs(args)
    voi = value_of_information(result.frame, answers, lib)
    top = voi.head(args.top)
    comp = {by: completion(result.frame, answers, lib.questions, by).to_dict("records")
            for by in ("business_unit", "model_vendor", "owner")}
    if args.json:
        common.write_json({"next": json.loads(top.to_json(orient="records")), "unanswered_that_matter": len(voi),
                         "completion": comp}, args.json)
    out = sys.stderr if args.json == "-" else sys.stdout
    print(f"{len(voi)} unanswered question(s) could move a score; top {len(top)}:", file=out)
    print(f"  {'deployment':<14} {'question':<60} {'score range':>13} {'rating':>18} {'loss range':>12}", file=out)
    for r in top.itertuples():
        rating = f"{r.rating_best}-{r.rating_worst}" if r.rating_changes else r.rating_worst
        print(f"  {common.term(r.deployment_id)[:14]:<14} {r.question[:60]:<60} "
              f"{r.score_best:5.1f}-{r.score_worst:5.1f} {rating:>18} ${r.loss_range_usd:>11,.0f}", file=out)
    print("Completion by business unit: " + ", ".join(
        f"{common.term(c['group'])} {c['completion_pct']:.0f}%" for c in comp["business_unit"]), file=out)
    return 0


def add_parser(sub: argparse._SubParsersAction, max_mb: int) -> None:
    """Register the `questionnaire` command group (called from common.build_parser)."""
    qp = sub.add_parser("questionnaire", help="send the questionnaire out as XLSX, read it back, what to answer next")
    qs = qp.add_subparsers(dest="action", required=True)

    def common(sp: argparse.ArgumentParser, inventory_flag: bool) -> None:
        if inventory_flag:
            sp.add_argument("--inventory", required=True, help="the inventory the workbooks were made from")
        else:
            sp.add_argument("inventory")
        sp.add_argument("--answers", help="current answers (YAML or JSON)")
        sp.add_argument("--max-mb", type=int, default=max_mb)

    ex = qs.add_parser("export", help="one XLSX per recipient")
    common(ex, False)
    ex.add_argument("--by", choices=["owner", "business_unit", "vendor"], required=True)
    ex.add_argument("out_dir")
    ex.set_defaults(func=cmd_export)
    im = qs.add_parser("import", help="read returned workbooks; write the merged answers")
    im.add_argument("files", nargs="+", metavar="FILE")
    common(im, True)
    im.add_argument("--out", required=True, help="write the merged answers (YAML) here")
    im.add_argument("--json", metavar="OUT", help="changes and refused cells as JSON ('-' = stdout)")
    im.set_defaults(func=cmd_import)
    nx = qs.add_parser("next", help="the unanswered questions that could move scores most")
    common(nx, False)
    nx.add_argument("--top", type=int, default=20)
    nx.add_argument("--json", metavar="OUT")
    nx.set_defaults(func=cmd_next)
