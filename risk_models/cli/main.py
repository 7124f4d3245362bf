"""Command line: `python -m risk_models validate|assess|exit-plan|whatif|template ...`. (Over 500 lines: the
parser of every command group is built here — docs/cli.md is generated from it — beside the handlers of
the commands that have no group of their own.)

Exit codes: 0 success, 1 some input rows invalid, 2 usage, configuration or file errors
(plain message on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import gc
import json
import math
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from risk_models.auth.roles import PermissionDenied
from risk_models.cli import report as cli_report
from risk_models.cli.common import (
    UserError,
    assessed,
    date_arg,
    format_error,
    load_inputs,
    same_file_key,
    term,
    write_bytes,
    write_json,
)
from risk_models.cli.history import cmd_history
from risk_models.cli.scenarios import register as register_library_commands
from risk_models.cli.team import TeamUsageError, add_history_commands
from risk_models.config.domain import RowError
from risk_models.config.labels import human, label_maps
from risk_models.config.loader import (
    ConfigError,
    Library,
    load_library,
    with_scenarios,
)
from risk_models.config.palette import run_cost_usd, usd
from risk_models.engine.assessment import assess, top_outcome_label
from risk_models.engine.score import stressed_probabilities
from risk_models.fallbacks.exit_plan import exit_plan, exit_plan_markdown
from risk_models.fallbacks.recommend import recommendations_of
from risk_models.fallbacks.whatif import WhatIfError, top_plan, whatif
from risk_models.inventory.plausibility import plausibility_warnings
from risk_models.inventory.read import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_USD,
    ImportResult,
    InventoryFileError,
)
from risk_models.inventory.template import template_csv, template_xlsx
from risk_models.io.atomic import atomic_file, name_problem
from risk_models.io.escape import md_file_escape, terminal_text
from risk_models.report.json_report import (
    document_header,
    report,
    stress_delta,
    write_report,
)
from risk_models.report.render import render_export
from risk_models.scenarios.pack import pack_age, pack_label_of
from risk_models.storage.errors import StorageError

WARNINGS_SHOWN = 20  # a terminal shows the first ones; the JSON report (and --json of validate) has all


def _print_warnings(warnings: list[RowError], out) -> None:
    if warnings:
        print(f"Warnings ({len(warnings)}; the rows are kept, check them):", file=out)
        for w in warnings[:WARNINGS_SHOWN]:
            print(format_error(w), file=out)
        if len(warnings) > WARNINGS_SHOWN:
            print(f"  … and {len(warnings) - WARNINGS_SHOWN:,} more (all of them are in the JSON output)", file=out)


def cmd_validate(args: argparse.Namespace) -> int:
    lib, result, answers, answer_errors = load_inputs(args)
    channels = result.frame["channel"].value_counts().sort_index()
    warnings = plausibility_warnings(result.frame, lib, answers)
    report = {
        "valid_rows": len(result.frame),
        "rejected": [e.model_dump() for e in result.errors],
        "warnings": [w.model_dump() for w in warnings],
        "channels": {k: int(v) for k, v in channels.items()},
        "comment_lines": result.comment_lines,
        "notices": result.notices,
        "answers": {"answered_deployments": len(answers),
                    "errors": [e.model_dump() for e in answer_errors]},
    }
    if args.against:
        from risk_models.cli.register import register_diff_report
        report["against"] = register_diff_report(args, result, answers, answer_errors)
    if args.json:
        write_json(report, args.json)
    out = sys.stderr if args.json == "-" else sys.stdout
    rejected_rows = len(result.rejected_lines) or (1 if result.errors else 0)
    print(f"{args.file}: {result.total_rows} rows, {len(result.frame)} valid, {rejected_rows} rejected", file=out)
    if result.comment_lines:
        print(f"Comment rows skipped ('# ' in deployment_id): lines {', '.join(map(str, result.comment_lines))}",
              file=out)
    if len(channels):
        print("Deployments per channel: " + ", ".join(f"{lib.channel_label(k)} {v}" for k, v in channels.items()),
              file=out)
    if result.errors:
        print(f"Rejected ({len(result.errors)} problems):", file=out)
        for e in result.errors:
            print(format_error(e), file=out)
    _print_warnings([RowError(**w) for w in report["warnings"]], out)
    if args.answers:
        print(f"Answers: {len(answers)} deployments answered, {len(answer_errors)} problems", file=out)
        for e in answer_errors:
            print(format_error(e), file=out)
    if args.against:
        from risk_models.cli.register import print_register_diff
        print_register_diff(report["against"], out)
    return 1 if (result.errors or answer_errors) else 0


def cmd_assess(args: argparse.Namespace) -> int:
    with _batch_gc():
        return _assess_command(args)


def _assess_command(args: argparse.Namespace) -> int:
    lib, result, answers, answer_errors = load_inputs(args)
    if args.scenarios:
        lib = with_scenarios(lib, Path(args.scenarios))
    problems = result.errors + answer_errors
    if problems and not args.skip_invalid:
        print(f"{len(problems)} problem(s) in the input; fix them or use --skip-invalid:", file=sys.stderr)
        for e in problems:
            print(format_error(e), file=sys.stderr)
        return 1
    if args.trials < 100:
        raise UserError("--trials must be at least 100")
    base = assess(result, answers, lib, trials=args.trials, seed=args.seed)
    return _report_assessment(args, lib, result, answers, answer_errors, base)


def _report_assessment(args: argparse.Namespace, lib: Library, result: ImportResult, answers: dict, answer_errors: list,
                       base) -> int:
    org = args.org or lib.profile.name or Path(args.file).stem
    extra: dict = {}
    if args.stress:
        try:
            probs = stressed_probabilities(lib, args.stress)
        except KeyError as exc:
            raise UserError(str(exc.args[0])) from None
        stressed = assess(result, answers, lib, probs, trials=args.trials, seed=args.seed)
        extra["stress"] = stress_delta(base, stressed, args.stress)
    if args.sensitivity:
        from risk_models.cli.sensitivity import sensitivity_record
        extra["sensitivity"] = sensitivity_record(base)
    if answer_errors:
        extra["answers_rejected"] = [e.model_dump() for e in answer_errors]
    header_of = functools.cache(lambda: document_header(base, org, extra))  # built while the records are
    if bool(getattr(args, "providers", None)) != bool(getattr(args, "contracts", None)):
        raise UserError("--providers and --contracts go together (the CTPP section needs both files)")
    failed: list[str] = []
    if any(getattr(args, k) for k in ("pdf", "xlsx", "csv", "md", "parquet")):
        from risk_models.cli.dora import ctpp_for_report, reviews_for_report
        from risk_models.report.cases import cases_block
        rep = report(base, header=header_of()) | {"reviews": reviews_for_report(base), "cases": cases_block(base),
                                             "ctpp": ctpp_for_report(base, args)}
        comparison = cli_report.enrich(rep, base, args, org)  # labels, --apply-top plan, --compare
        failed = _write_exports(rep, args, comparison) + _write_parquet(rep, args.parquet)
    if args.json:
        _stream_json(base, org, header_of, args.json)
    header = header_of()
    _print_summary(base, header, sys.stderr if args.json == "-" else sys.stdout)
    if args.sensitivity:
        from risk_models.cli.sensitivity import print_sensitivity
        print_sensitivity(header["sensitivity"], sys.stderr if args.json == "-" else sys.stdout)
    for message in failed:  # the other files were written; say which one was not, exit 2
        print(f"error: {term(message)}", file=sys.stderr)
    return 2 if failed else 0


def _stream_json(a, org: str, header, out: str) -> None:
    """The JSON report, written as it is generated (flat memory for large inventories)."""
    if out == "-":
        sys.stdout.flush()
        write_report(a, sys.stdout.buffer, org, header=header)
        sys.stdout.buffer.flush()
        return
    try:
        # kill -9 mid-stream keeps the previous report, not half of a new one; on disk as it is written
        with atomic_file(out, sync_every=32 << 20) as fh:
            write_report(a, fh, org, header=header)
    except OSError as exc:
        raise UserError(f"{out}: cannot write ({exc.strerror or exc})") from None


def _write_exports(rep: dict, args: argparse.Namespace, comparison: dict | None = None) -> list[str]:
    """Write every requested export; one failing never stops the others. Returns the failures."""
    failed = []
    for kind in ("pdf", "xlsx", "csv", "md"):
        out = getattr(args, kind)
        if out:
            try:
                form = "csv-ids" if kind == "csv" and getattr(args, "ids", False) else kind
                write_bytes(out, render_export(form, rep, args.paper, comparison))
            except UserError as exc:
                failed.append(str(exc))
            except Exception as exc:  # a renderer bug must not cost the user the other files
                failed.append(f"{out}: the {kind.upper()} export failed ({type(exc).__name__}: {exc}); "
                              "the other files were written")
    if failed:
        _collect_quietly()  # after the except blocks: their tracebacks no longer hold the renderer's frames
    return failed


def _collect_quietly() -> None:
    """A renderer that failed mid-write (openpyxl on a full disk) leaves generators whose clean-up raises the
    same error again; Python would print that as a traceback. The failure is already reported once."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _unraisable: None
    try:
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _write_parquet(rep: dict, out: str | None) -> list[str]:
    """The Parquet tables of `--parquet DIR`; a failure is reported like another export's."""
    if not out:
        return []
    from risk_models.report.parquet import write_parquet
    try:
        write_parquet(rep, Path(out))
    except OSError as exc:
        return [f"{out}: cannot write the Parquet tables ({exc.strerror or exc})"]
    return []


def _print_summary(a, header: dict, out) -> None:
    sim = header["simulation"]
    t = a.residual.table
    ratings = {r: int((t["rating"] == r).sum()) for r in ("critical", "high", "medium", "low")}
    print(f"{len(t)} deployments assessed on {a.lib.reference_date:%d %b %Y} (scenario library as of "
          f"{header['scenario_library']['as_of']}); "
          + ", ".join(f"{v} {k}" for k, v in ratings.items()), file=out)
    pack = header.get("scenario_pack")
    if pack:
        age = pack_age(dt.date.fromisoformat(pack["as_of"]), max_age_days=pack["max_age_days"])
        print(f"Scenario library: {term(pack_label_of(pack))}, as of {age.as_of:%d %b %Y} ({age.text()}; "
              f"warning limit {age.max_age_days} days)", file=out)
        if age.warning():
            print(f"warning: {age.warning()}", file=sys.stderr)
    print(f"Expected annual loss ${sim['expected_annual_loss_usd']:,.0f}; VaR 95 ${sim['var95_usd']:,.0f}; "
          f"VaR 99 ${sim['var99_usd']:,.0f} ({sim['trials']:,} trials, seed {sim['seed']})", file=out)
    iv = sim.get("intervals")
    if iv:  # the uncertainty of the probabilities and severities behind those figures
        span = {k: f"{usd(iv[k]['low'])}–{usd(iv[k]['high'])}" for k in ("expected_annual_loss_usd", "var95_usd")}
        print(f"Uncertainty ({iv['level']:.0%} intervals): expected annual loss {span['expected_annual_loss_usd']}; "
              f"VaR 95 {span['var95_usd']}".replace("%", " %", 1), file=out)
    if "lenses" in header:
        print("Of which " + "; ".join(f"{v['label'].lower()} ${v['expected_annual_loss_usd']:,.0f}"
                                      for v in header["lenses"].values()), file=out)
    labels = label_maps(a.lib)
    for axis, c in header["concentration"].items():
        sp = c["spend"]
        print(f"Concentration by {human('axis', axis).lower()} (spend): HHI {sp['hhi']:,.0f} ({sp['band']}), "
              f"top {human(axis, sp['top'], labels)} {sp['top_share']:.0f}%", file=out)
    print("Top exposures:", file=out)
    for i in t.sort_values("score", ascending=False, kind="stable").index[:10]:
        top = top_outcome_label(a, int(i)) or "-"
        row = a.frame.iloc[int(i)]
        print(f"  {t.at[i, 'score']:5.1f} {t.at[i, 'rating']:<8} {term(row['deployment_id'])} "
              f"{term(row['name'][:40])} [{a.lib.channel_label(row['channel'])}] — {top}", file=out)
    _print_decisions(a, out)
    _print_warnings([RowError(**w) for w in header["inventory"]["warnings"]], out)
    if header["inventory"]["rejected"]:
        print(f"Rejected rows (not assessed): {len(header['inventory']['rejected'])} problem(s)", file=out)
        for e in header["inventory"]["rejected"]:
            print(format_error(RowError(**e)), file=out)
    if "stress" in header:
        pf = header["stress"]["portfolio"]["expected_annual_loss_usd"]
        print(f"Stress {', '.join(header['stress']['outcomes'])}: expected annual loss ${pf['before']:,.0f} -> "
              f"${pf['after']:,.0f} ({pf['delta']:+,.0f})", file=out)


def _print_decisions(a, out) -> None:
    """The committee's decisions: exits ranked by expected loss avoided per dollar spent once, with the
    run-cost change beside it (never added in)."""
    rec = recommendations_of(a)
    dec = rec.decisions()
    if not dec:
        print("Decisions asked of the committee: none (no exit lowers the expected loss of any deployment)", file=out)
        return
    print("Decisions asked of the committee (ranked by expected loss avoided per $1 spent once; run cost apart):",
          file=out)
    for n, (i, k) in enumerate(dec, start=1):
        r = rec.record(k, i)
        print(f"  {n}. Approve {term(r['label'])} for {term(str(a.frame['deployment_id'].iat[i]))} "
              f"{term(str(a.frame['name'].iat[i])[:40])}: loss avoided {usd(r['expected_loss_reduction_usd'])} a year; "
              f"one-off {usd(r['one_off_cost_usd'])}; effort {r['effort_weeks'][0]:g}–{r['effort_weeks'][1]:g} "
              f"person-weeks; ${r['loss_avoided_per_usd']:,.2f} avoided per $1 spent once; "
              f"run cost change {run_cost_usd(r['run_cost_delta_usd'])} a year", file=out)


def cmd_exit_plan(args: argparse.Namespace) -> int:
    a = assessed(args)
    ids = list(a.frame["deployment_id"])
    if args.deployment not in ids:
        raise UserError(f"deployment {args.deployment!r} is not among the valid rows of {args.file}")
    plan = exit_plan(a, recommendations_of(a), ids.index(args.deployment))
    text = json.dumps(plan, indent=2, ensure_ascii=False, default=str) + "\n" if args.format == "json" \
        else exit_plan_markdown(plan, md_file_escape)  # a file or terminal, not a Markdown renderer: no backslashes
    if args.out:
        write_bytes(args.out, text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return 0


def _parse_apply(items: list[str]) -> dict[str, list[str]]:
    plan: dict[str, list[str]] = {}
    for item in items:
        dep, sep, opt = item.rpartition("=")
        if not sep or not dep or not opt:
            raise UserError(f"--apply {item!r}: expected DEPLOYMENT_ID=OPTION_ID")
        plan.setdefault(dep, []).append(opt)
    return plan


def cmd_whatif(args: argparse.Namespace) -> int:
    if bool(args.apply) == bool(args.apply_top):
        raise UserError("give either --apply ID=OPTION (repeatable) or --apply-top RATING")
    a = assessed(args)
    rec = recommendations_of(a)
    try:
        plan = top_plan(a, rec, args.apply_top) if args.apply_top else _parse_apply(args.apply)
        result = whatif(a, rec, plan)
    except WhatIfError as exc:
        raise UserError(str(exc)) from None
    result.pop("scores_after"), result.pop("frame_after")
    if args.json:
        write_json(result, args.json)
    out = sys.stderr if args.json == "-" else sys.stdout
    b, f = result["before"], result["after"]
    print(f"Applied {sum(len(v) for v in plan.values())} option(s) to {len(plan)} deployment(s)", file=out)
    print(f"{'':28}{'before':>16}{'after':>16}", file=out)
    for label, key in (("expected annual loss (USD)", "expected_annual_loss_usd"), ("VaR 95 (USD)", "var95_usd"),
                       ("VaR 99 (USD)", "var99_usd"), ("mean score", "mean_score")):
        print(f"{label:28}{b[key]:>16,.0f}{f[key]:>16,.0f}" if "usd" in key else
              f"{label:28}{b[key]:>16.1f}{f[key]:>16.1f}", file=out)
    for r in ("critical", "high", "medium", "low"):
        print(f"{r + ' deployments':28}{b['ratings'][r]:>16}{f['ratings'][r]:>16}", file=out)
    for axis in ("channel", "model_vendor"):
        hb, ha = b["concentration"][axis]["spend"], f["concentration"][axis]["spend"]
        print(f"{'HHI ' + axis:28}{hb['hhi']:>10,.0f} ({hb['band'][:4]}){ha['hhi']:>10,.0f} ({ha['band'][:4]})",
              file=out)
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    lib = load_library(args.config) if args.config else load_library()
    fmt = args.format or ("xlsx" if args.out.lower().endswith(".xlsx") else "csv")
    data = template_xlsx(lib) if fmt == "xlsx" else template_csv(lib)
    write_bytes(args.out, data)
    print(f"wrote {fmt.upper()} template to {args.out}")
    return 0


def settings(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--profile", metavar="FILE", help="organisation profile (YAML: name, jurisdictions, regimes); "
                    "default config/profile.yaml")
    sp.add_argument("--assumptions", metavar="FILE", help="loss assumptions (YAML like config/assumptions.yaml)")
    sp.add_argument("--as-of", type=date_arg, metavar="YYYY-MM-DD",
                    help="the assessment date contracts, notice periods and reviews are measured against "
                         "(default: the profile's assessment date, else today)")
    cli_report.add_logo_argument(sp)


def _max_usd(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-usd", type=float, default=DEFAULT_MAX_USD, metavar="AMOUNT",
                   help=f"largest amount a money cell may hold (default {DEFAULT_MAX_USD:,.0f}); larger = a row error")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ai-vendor-risk", description="AI vendor-risk assessment")
    p.add_argument("--config", help="directory with the YAML libraries (default: the bundled config/)")
    p.add_argument("--user", help="who you are for the audit trail and reviews, in single-user mode (default: the OS "
                   "user; admin role); in team mode the CLI writes nothing")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check an inventory file (CSV, XLSX or JSON)")
    v.add_argument("file")
    v.add_argument("--answers", help="questionnaire answers (YAML or JSON)")
    v.add_argument("--json", metavar="OUT", help="write the result as JSON ('-' = stdout)")
    v.add_argument("--against", metavar="OLD", help="the current inventory: also print what FILE changes (register diff)")
    v.add_argument("--max-mb", type=int, default=DEFAULT_MAX_BYTES // (1024 * 1024),
                   help="file size limit in MB (default 20)")
    _max_usd(v)
    v.set_defaults(func=cmd_validate)

    a = sub.add_parser("assess", help="score, simulate and report on an inventory")
    a.add_argument("file")
    a.add_argument("--answers", help="questionnaire answers (YAML or JSON)")
    a.add_argument("--scenarios", help="an edited copy of scenarios.yaml")
    a.add_argument("--json", metavar="OUT", help="write the JSON report ('-' = stdout)")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--trials", type=int, default=10_000)
    a.add_argument("--skip-invalid", action="store_true", help="assess the valid rows, list the rejected ones")
    a.add_argument("--stress", action="append", metavar="OUTCOME_ID", help="make this outcome certain (repeatable)")
    a.add_argument("--sensitivity", action="store_true",
                   help="move every assumption ×0.5 and ×1.5 one at a time and rank the effect on expected loss and "
                        "on critical deployments (also in --json and --pdf)")
    a.add_argument("--max-mb", type=int, default=DEFAULT_MAX_BYTES // (1024 * 1024))
    _max_usd(a)
    a.add_argument("--pdf", metavar="OUT", help="write the PDF executive summary")
    a.add_argument("--paper", choices=["a4", "letter"], default="a4")
    a.add_argument("--xlsx", metavar="OUT", help="write the XLSX workbook")
    a.add_argument("--csv", metavar="OUT", help="write a CSV of deployments with scores (labelled, for people)")
    a.add_argument("--ids", action="store_true", help="with --csv: the machine form for pipelines (snake_case "
                                                      "columns, ids and raw values, as in the JSON report)")
    a.add_argument("--md", metavar="OUT", help="write a Markdown summary")
    a.add_argument("--parquet", metavar="DIR", help="write deployments, drivers, fallbacks and exit-plan steps as "
                                                    "Parquet tables into DIR (for BI tools)")
    a.add_argument("--org", help="organisation name for reports (default: the profile's name, else the file name)")
    a.add_argument("--providers", metavar="P", help="with --contracts: providers file, for the PDF's section on the "
                                                    "critical ICT third-party providers")
    a.add_argument("--contracts", metavar="C", help="with --providers: contracts file (deployments linked to them)")
    cli_report.add_arguments(a)
    settings(a)
    a.set_defaults(func=cmd_assess)

    def inputs(sp: argparse.ArgumentParser) -> None:
        settings(sp)
        sp.add_argument("file")
        sp.add_argument("--answers", help="questionnaire answers (YAML or JSON)")
        sp.add_argument("--seed", type=int, default=0)
        sp.add_argument("--trials", type=int, default=10_000)
        sp.add_argument("--max-mb", type=int, default=DEFAULT_MAX_BYTES // (1024 * 1024))
        _max_usd(sp)

    e = sub.add_parser("exit-plan", help="exit plan for one deployment (Markdown or JSON)")
    inputs(e)
    e.add_argument("--deployment", required=True, metavar="ID")
    e.add_argument("--format", choices=["md", "json"], default="md")
    e.add_argument("--out", help="write to this file instead of stdout")
    e.set_defaults(func=cmd_exit_plan)

    w = sub.add_parser("whatif", help="apply fallback options and compare before/after")
    inputs(w)
    w.add_argument("--apply", action="append", metavar="ID=OPTION", help="apply an option to a deployment (repeatable)")
    w.add_argument("--apply-top", metavar="RATING", help="apply the top recommendation to every deployment rated "
                   "RATING or worse (low, medium, high, critical)")
    w.add_argument("--json", metavar="OUT", help="write before/after as JSON ('-' = stdout)")
    w.set_defaults(func=cmd_whatif)

    h = sub.add_parser("history", help="saved assessments (SQLite by default; DATABASE_URL for another database)")
    hs = h.add_subparsers(dest="action", required=True)
    hsave = hs.add_parser("save", help="assess FILE and save the result")
    inputs(hsave)
    hsave.add_argument("--label", required=True)
    hsave.add_argument("--author", default="")
    hsave.add_argument("--org", help="organisation name (default: the file name)")
    hl = hs.add_parser("list")
    hl.add_argument("--json", metavar="OUT")
    hshow = hs.add_parser("show")
    hshow.add_argument("id", type=int)
    hshow.add_argument("--json", metavar="OUT")
    hd = hs.add_parser("diff")
    hd.add_argument("id1", type=int)
    hd.add_argument("id2", type=int)
    hd.add_argument("--json", metavar="OUT")
    he = hs.add_parser("export")
    he.add_argument("id", type=int)
    he.add_argument("out")
    hi = hs.add_parser("import")
    hi.add_argument("file")
    hi.add_argument("--trust", action="store_true",
                    help="import an unsigned export or one signed by another installation")
    hs.add_parser("check", help="list stored assessments that are damaged (the others stay usable)")
    hdel = hs.add_parser("delete")
    hdel.add_argument("id", type=int)
    hdel.add_argument("--yes", action="store_true", help="confirm the deletion")
    add_history_commands(hs)
    h.set_defaults(func=cmd_history)

    from risk_models.cli.questionnaire import add_parser as add_questionnaire
    add_questionnaire(sub, DEFAULT_MAX_BYTES // (1024 * 1024))

    t = sub.add_parser("template", help="write an empty inventory template")
    t.add_argument("--format", choices=["csv", "xlsx"])
    t.add_argument("out")
    t.set_defaults(func=cmd_template)

    register_library_commands(sub)
    from risk_models.cli.dora import add_parsers as add_dora
    add_dora(sub, inputs, DEFAULT_MAX_BYTES // (1024 * 1024))
    from risk_models.cli.discovery import add_parser as add_discovery
    add_discovery(sub)
    from risk_models.cli.cases import add_parser as add_cases
    add_cases(sub, settings, DEFAULT_MAX_BYTES // (1024 * 1024))
    return p


MAX_TRIALS = 1_000_000  # 10^8 trials was a MemoryError; a million gives VaR 99 to well under 1 %
OUTPUTS = ("json", "pdf", "xlsx", "csv", "md", "parquet", "out", "merged")
INPUTS = ("file", "answers", "scenarios", "providers", "contracts", "reviews", "against")


def _check_args(args: argparse.Namespace) -> None:
    """Refuse bad numbers and output paths before any work (one line each, exit 2)."""
    if getattr(args, "seed", None) is not None and not 0 <= args.seed < 2**63:
        raise UserError(f"--seed {args.seed}: must be a whole number from 0 to {2**63 - 1}")
    max_usd = getattr(args, "max_usd", None)
    if max_usd is not None and not (math.isfinite(max_usd) and max_usd > 0):
        raise UserError(f"--max-usd {max_usd}: must be a positive amount")
    if getattr(args, "max_mb", None) is not None and args.max_mb <= 0:
        raise UserError(f"--max-mb {args.max_mb}: must be a positive number of MB")
    trials = getattr(args, "trials", None)
    if trials is not None and not 100 <= trials <= MAX_TRIALS:
        raise UserError(f"--trials {trials:,}: must be from 100 to {MAX_TRIALS:,}")
    inputs = {same_file_key(getattr(args, k)): k for k in INPUTS if getattr(args, k, None)}
    if args.command == "history":
        from risk_models.storage.db import database_url, sqlite_path
        db = sqlite_path(database_url())
        if db is not None:
            inputs[same_file_key(str(db))] = "the assessment database"
    seen: dict[str, str] = {}
    for k in OUTPUTS:
        out = getattr(args, k, None)
        if not out or out == "-":
            continue
        flag = f"--{k}" if not (k == "out" and args.command in ("history", "template")) else "the output"
        p = Path(out)
        problem = name_problem(p)
        if problem:
            raise UserError(f"{flag} {out[:60]}…: {problem}; choose a shorter name")
        try:
            is_dir, parent_exists = p.is_dir(), p.parent.is_dir()
        except OSError as exc:  # e.g. a directory name longer than the file system allows
            raise UserError(f"{flag} {out[:60]}…: cannot be written ({exc.strerror or exc})") from None
        if k == "parquet":  # a directory of tables: an existing one is written into, a file is refused
            if p.exists() and not is_dir:
                raise UserError(f"{flag} {out}: cannot write the Parquet tables into a file; give a directory")
        elif is_dir:
            raise UserError(f"{flag} {out}: is a directory; give a file name, e.g. {p / ('report.' + _ext(k))}")
        if not parent_exists:
            raise UserError(f"{flag} {out}: the directory {p.parent} does not exist")
        key = same_file_key(out)
        if key in inputs:
            what = inputs[key]
            raise UserError(f"{flag} {out}: refusing to overwrite the input "
                            f"{what if what.startswith('the ') else '(' + what + ')'}; choose another file name")
        if key in seen:
            raise UserError(f"{flag} and {seen[key]} name the same file {out}; give each output its own file")
        seen[key] = flag


def _ext(kind: str) -> str:
    return {"out": "json"}.get(kind, kind)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return _run(args)


@contextlib.contextmanager
def _batch_gc() -> Iterator[None]:
    """`assess` is a batch that allocates hundreds of thousands of objects, few of them in cycles: the
    cyclic collector runs a hundred times less often (and skips what was loaded before), about 0.4 s of a
    20,000-row report. The previous settings come back afterwards (tests call main in-process)."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _run(args: argparse.Namespace) -> int:
    try:
        _check_args(args)
        return args.func(args)
    except (UserError, ConfigError, InventoryFileError, StorageError, cli_report.ReportArgsError, TeamUsageError,
            PermissionDenied) as exc:
        # messages may quote file names and headers: no escape sequences, line breaks kept
        print("error: " + terminal_text(exc, keep_newlines=True), file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
