"""`python -m risk_models register export ...` (the DORA register of information) and
`python -m risk_models due ...` (reviews overdue or due soon).

Exit codes: 0 written / listed, 1 rows of the inventory, providers or contracts are invalid (or
`--strict` refused to write while the register has findings), 2 usage, configuration or file errors.
(`cli_register.py` is the inventory register diff of `validate --against`; unrelated.)"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from risk_models.cli.common import date_arg
from risk_models.dora.review import STATUS_LABELS, due, due_records, merge_reviews, read_reviews, review_schedule
from risk_models.dora.spec import load_review_policy, load_roi_spec
from risk_models.engine.score import score
from risk_models.providers.records import load_book


def _default_reference(lib) -> dt.date:
    """The register's reference date: the profile's reporting date, else 31 December of the year
    before the assessment date (the ESAs' annual collection)."""
    if lib.profile.reporting_date:
        return lib.profile.reporting_date
    return dt.date(lib.reference_date.year - 1, 12, 31)


def cmd_register_export(args: argparse.Namespace) -> int:
    from risk_models.cli.common import UserError, format_error, load_inputs, term, write_bytes
    from risk_models.dora.roi import build_register, package_name, write_eba_csv, write_xlsx  # openpyxl: only here
    from risk_models.engine.assessment import assess
    lib, result, answers, answer_errors = load_inputs(args)
    spec = load_roi_spec(args.config) if args.config else load_roi_spec()
    book = load_book(Path(args.providers), Path(args.contracts), lib, spec.lists["ict_service_type"],
                     max_bytes=args.max_mb * 1024 * 1024)
    for n in book.notices:
        print(f"note: {term(n)}", file=sys.stderr)
    a = assess(result, answers, lib, trials=1000, seed=0)  # the register needs scores and fallbacks, not VaR
    reg = build_register(a, book, spec, args.reference_date or _default_reference(lib))
    bad_rows = result.errors + answer_errors
    err = sys.stderr
    if bad_rows:
        print(f"Inventory or answers: {len(bad_rows)} rejected cell(s) (those deployments are not in the register):",
              file=err)
        for e in bad_rows:
            print(format_error(e), file=err)
    if book.errors:
        print(f"Providers and contracts: {len(book.errors)} rejected cell(s) (those rows are not in the register):",
              file=err)
        for e in book.errors:
            print("  " + term(e.text()), file=err)
    if reg.unlinked:
        print(f"note: {len(reg.unlinked)} deployment(s) link to no contract and are not in the register: "
              f"{term(', '.join(reg.unlinked[:20]))}{' …' if len(reg.unlinked) > 20 else ''}", file=err)
    if reg.unknown_links:
        print(f"note: the contracts name {len(reg.unknown_links)} deployment(s) that are not in the inventory: "
              f"{term(', '.join(reg.unknown_links[:20]))}", file=err)
    if reg.findings:
        print(f"Validation report: {len(reg.findings)} finding(s):", file=err)
        for f in reg.findings:
            print("  " + term(f.text()), file=err)
    invalid = bool(bad_rows or book.errors)
    if args.strict and (invalid or reg.findings):
        print("--strict: nothing written while findings or rejected rows remain", file=err)
        return 1
    if args.format == "xlsx":
        data = write_xlsx(reg, spec)
    else:
        data = write_eba_csv(reg, spec, root=Path(args.out).stem if args.out.lower().endswith(".zip") else None)
    write_bytes(args.out, data)
    counts = ", ".join(f"{k} {len(v)}" for k, v in reg.templates.items())
    print(f"wrote {args.out} ({'EBA xBRL-CSV report package' if args.format == 'eba-csv' else 'XLSX'}, "
          f"reference date {reg.reference_date:%Y-%m-%d}; rows: {counts}); suggested package name "
          f"{package_name(reg)}")
    if invalid:
        return 1
    if not data:
        raise UserError("nothing to write")
    return 0


def _saved_inputs(lib):
    """The latest saved assessment's inventory and answers (for `due` without FILE)."""
    from risk_models.cli.common import UserError, open_engine
    from risk_models.storage import repository as repo
    engine = open_engine()
    rows = repo.list_assessments(engine)
    if not rows:
        raise UserError("no saved assessment yet: give an inventory FILE (and --answers), or save one with "
                        "`history save`")
    saved = repo.load(engine, rows[-1]["id"])
    result, answers, probs = repo.reopen(saved, lib)
    return result, answers, probs


def cmd_due(args: argparse.Namespace) -> int:
    from risk_models.cli.common import UserError, format_error, load_inputs, load_settings, term, write_json
    from risk_models.config.loader import load_library
    from risk_models.storage.db import StorageError
    if args.within < 0:
        raise UserError(f"--within {args.within}: must be 0 or more days")
    probs: dict[str, float] = {}
    if args.file:
        lib, result, answers, answer_errors = load_inputs(args)
        for e in result.errors + answer_errors:
            print(format_error(e), file=sys.stderr)
    else:
        lib = load_settings(load_library(args.config) if args.config else load_library(), args)
        result, answers, probs = _saved_inputs(lib)
    policy = load_review_policy(args.config) if args.config else load_review_policy()
    sources = []
    if args.reviews:
        from risk_models.inventory.read import InventoryFileError
        try:
            file_dates, errors = read_reviews(args.reviews)
        except InventoryFileError as exc:
            raise UserError(f"reviews file {args.reviews}: {exc}") from None
        for e in errors:
            print("  " + term(e.text()), file=sys.stderr)
        sources.append(file_dates)
    try:
        from risk_models.cli.common import open_engine
        from risk_models.storage.reviews import review_dates
        sources.append(review_dates(open_engine()))
    except StorageError as exc:
        print(f"note: saved reviews not read ({term(exc)})", file=sys.stderr)
    scores = score(result.frame, answers, lib, probs)
    today = args.as_of or lib.reference_date
    sched = review_schedule(result.frame, scores.table["rating"], merge_reviews(*sources), policy, today)
    rows = due(sched, args.within)
    records = due_records(rows)
    if args.json:
        write_json({"as_of": today.isoformat(), "within_days": args.within, "due": records}, args.json)
    out = sys.stderr if args.json == "-" else sys.stdout
    n_over = int(rows["status"].isin(["never", "overdue"]).sum())
    print(f"Reviews as of {today:%d %b %Y}: {n_over} overdue or never reviewed, {len(rows) - n_over} due within "
          f"{args.within} days (of {len(sched)} deployments; intervals by rating: "
          + ", ".join(f"{k} {v} months" for k, v in policy.interval_months.items()) + ")", file=out)
    for r in records:
        last = dt.date.fromisoformat(r["last_reviewed"]).strftime("%d %b %Y") if r["last_reviewed"] else "never"
        print(f"  {term(r['deployment_id']):<12} {term(r['name'])[:40]:<40} {r['rating']:<9} "
              f"last {last:<12} next {dt.date.fromisoformat(r['next_review']):%d %b %Y}  "
              f"{STATUS_LABELS[r['status']]}", file=out)
    return 0


def add_parsers(sub, inputs, max_mb: int) -> None:
    """`inputs`: cli.py's helper adding FILE, --answers, --profile and the size limits."""
    r = sub.add_parser("register", help="the DORA register of information (EBA xBRL-CSV report package or XLSX)")
    rs = r.add_subparsers(dest="action", required=True)
    e = rs.add_parser("export", help="write the register for an inventory, its providers and contracts")
    inputs(e)
    e.add_argument("--providers", required=True, metavar="P", help="providers file (CSV, XLSX or JSON)")
    e.add_argument("--contracts", required=True, metavar="C", help="contracts file (CSV, XLSX or JSON)")
    e.add_argument("--format", choices=["eba-csv", "xlsx"], default="eba-csv")
    e.add_argument("--reference-date", type=date_arg, metavar="YYYY-MM-DD",
                   help="the register's reference date (default: the profile's reporting date, else 31 Dec last year)")
    e.add_argument("--strict", action="store_true", help="write nothing while any finding or rejected row remains")
    e.add_argument("out", metavar="OUT")
    e.set_defaults(func=cmd_register_export)

    d = sub.add_parser("due", help="reviews overdue or due soon (interval by rating, config/review.yaml)")
    d.add_argument("file", nargs="?", help="inventory (default: the latest saved assessment)")
    d.add_argument("--answers", help="questionnaire answers (YAML or JSON)")
    d.add_argument("--reviews", metavar="R", help="earlier reviews: deployment_id,last_reviewed (CSV, XLSX or JSON)")
    d.add_argument("--within", type=int, default=30, metavar="DAYS", help="also list reviews due within DAYS (30)")
    d.add_argument("--as-of", type=date_arg, metavar="YYYY-MM-DD", help="the assessment date for the check (default: the profile's, else today)")
    d.add_argument("--json", metavar="OUT", help="write the list as JSON ('-' = stdout)")
    d.add_argument("--max-mb", type=int, default=max_mb)
    d.add_argument("--profile", metavar="FILE")
    d.add_argument("--assumptions", metavar="FILE")
    d.set_defaults(func=cmd_due)


def reviews_for_report(a) -> dict | None:
    """The reviews block of the PDF (`assess --pdf`): last reviews from the saved assessments; None
    when the assessment database cannot be read (the PDF then has no review section)."""
    from risk_models.dora.review import review_block
    from risk_models.storage.db import StorageError
    try:
        from risk_models.cli.common import open_engine
        from risk_models.storage.reviews import review_dates
        dates = review_dates(open_engine())
    except StorageError:
        return None
    return review_block(a.frame, a.residual.table["rating"], dates, load_review_policy(), a.lib.reference_date)
