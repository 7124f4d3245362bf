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
from risk_models.dora.spec import load_rates, load_review_policy, load_roi_spec
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
    from risk_models.dora.package import NAMINGS, package_name, write_eba_csv, write_xlsx  # openpyxl: only here
    from risk_models.dora.roi import build_register
    from risk_models.engine.assessment import assess
    lib, result, answers, answer_errors = load_inputs(args)
    spec = load_roi_spec(args.config) if args.config else load_roi_spec()
    book = load_book(Path(args.providers), Path(args.contracts), lib, spec.lists["ict_service_type"],
                     max_bytes=args.max_mb * 1024 * 1024)
    for n in book.notices:
        print(f"note: {term(n)}", file=sys.stderr)
    a = assess(result, answers, lib, trials=1000, seed=0)  # the register needs scores and fallbacks, not VaR
    rates = load_rates(args.rates) if args.rates else load_rates()
    from risk_models.providers.ctpp import load_ctpp
    ctpp = load_ctpp(args.ctpp) if args.ctpp else load_ctpp()
    reg = build_register(a, book, spec, args.reference_date or _default_reference(lib), rates=rates, ctpp=ctpp)
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
    if reg.unknown_links:
        print(f"note: the contracts name {len(reg.unknown_links)} deployment(s) that are not in the inventory: "
              f"{term(', '.join(reg.unknown_links[:20]))}", file=err)
    for used in reg.rates_used:
        print(f"note: amounts converted to {reg.base_currency} at the reference rate {used} "
              f"({rates.source.title})", file=err)
    if reg.findings:
        print(f"Validation report: {len(reg.findings)} finding(s):", file=err)
        for f in reg.findings:
            print("  " + term(f.text()), file=err)
    invalid = bool(bad_rows or book.errors)
    if args.strict and (invalid or reg.findings):
        print("--strict: nothing written while findings or rejected rows remain", file=err)
        return 1
    name = package_name(reg, spec, naming=args.naming)
    # the package's top folder carries the filing name whatever OUT is called: a supervisor reads it from there
    data = write_xlsx(reg, spec) if args.format == "xlsx" else write_eba_csv(reg, spec, root=name)
    write_bytes(args.out, data)
    counts = ", ".join(f"{k} {len(v)}" for k, v in reg.templates.items())
    rename = "" if args.format == "xlsx" or Path(args.out).name == f"{name}.zip" else " (give the file that name before filing it)"
    print(f"wrote {args.out} ({'EBA xBRL-CSV report package' if args.format == 'eba-csv' else 'XLSX'}, "
          f"reference date {reg.reference_date:%Y-%m-%d}; rows: {counts}); the filing name ({NAMINGS[args.naming]}) "
          f"is {name}.zip{rename}")
    if invalid:
        return 1
    if not data:
        raise UserError("nothing to write")
    return 0


def cmd_register_import(args: argparse.Namespace) -> int:
    """An EBA register package -> providers and contracts files; existing files are diffed first and
    replaced only with --replace (nothing is overwritten unseen)."""
    from risk_models.cli.common import UserError
    from risk_models.dora.import_package import PackageError, book_frames, diff, read_package
    from risk_models.inventory.read import InventoryFileError, read_file
    spec = load_roi_spec(args.config) if args.config else load_roi_spec()
    try:
        data = Path(args.package).read_bytes()
    except OSError as exc:
        raise UserError(f"{args.package}: cannot read ({exc.strerror or exc})") from None
    try:
        tables, params = read_package(data, spec.taxonomy.module)
        providers, contracts = book_frames(tables)
    except PackageError as exc:
        raise UserError(f"{args.package}: {exc}") from None
    outs = ((args.providers_out, providers, "provider_id", "provider(s)"),
            (args.contracts_out, contracts, "contract_ref", "contract(s)"))
    blocked = False
    for out, frame, key, what in outs:
        if Path(out).exists():
            try:
                old, _ = read_file(out)
            except InventoryFileError as exc:
                raise UserError(f"{out}: {exc}") from None
            old.columns = [str(c).strip() for c in old.columns]
            if key not in old.columns:
                raise UserError(f"{out}: has no {key} column; not a providers or contracts file")
            d = diff(old[~old[key].astype(str).str.startswith("#")], frame, key)
            print(f"{out}: {len(d['added'])} {what} added, {len(d['removed'])} removed, {len(d['changed'])} changed"
                  + "".join(f"\n  {k}: {', '.join(v[:20])}{' …' if len(v) > 20 else ''}" for k, v in d.items() if v))
            blocked |= not args.replace
    if blocked:
        print("existing files kept: check the differences above, then run again with --replace", file=sys.stderr)
        return 1
    for out, frame, _, what in outs:
        frame.to_csv(out, index=False)
        print(f"wrote {out} ({len(frame)} {what})")
    print(f"from the register of {params.get('entityID', '?')} as of {params.get('refPeriod', '?')}; amounts in "
          f"{params.get('baseCurrency', '?')}; deployments, provider vendors and CTPP designation are not in a "
          "register package: add them before `register export`")
    return 0


def cmd_register_draft(args: argparse.Namespace) -> int:
    """Providers and contracts files drafted from the inventory, to complete (CSV or XLSX with drop-downs)."""
    from risk_models.cli.common import UserError, format_error, load_inputs, write_bytes
    from risk_models.providers.draft import draft_book, template_csv, template_xlsx
    lib, result, _, _ = load_inputs(args)
    for e in result.errors:
        print(format_error(e), file=sys.stderr)
    out = Path(args.out_dir)
    if not out.is_dir():
        raise UserError(f"{out}: not a folder")
    spec = load_roi_spec(args.config) if args.config else load_roi_spec()
    entity = lib.profile.dora
    providers, contracts = draft_book(result.frame, lib, entity.currency if entity else "EUR")
    for name, frame, title in (("providers", providers, "Providers"), ("contracts", contracts, "Contracts")):
        path = out / f"{name}.{args.format}"
        if path.exists() and not args.replace:
            raise UserError(f"{path} exists: pass --replace to overwrite it")
        write_bytes(str(path), template_csv(frame) if args.format == "csv"
                    else template_xlsx(frame, spec.lists["ict_service_type"], title))
        print(f"wrote {path} ({len(frame)} drafted row(s))")
    print("complete the blank cells (LEI, country, dates, amounts, ICT service type), then `register export`: "
          "what stays blank is listed as a finding")
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
    e.add_argument("--naming", choices=["eba", "nbb"], default="eba",
                   help="the filing name of the package's top folder (and printed for the file): the "
                        "EBA filing rules' (default) or the Belgian NBB OneGate's, LEI_<LEI>.<IND|CON>_NBB_DOR_DORA_ROI "
                        "(a practitioners' convention: confirm it with the NBB before a first filing)")
    e.add_argument("--reference-date", type=date_arg, metavar="YYYY-MM-DD",
                   help="the register's reference date (default: the profile's reporting date, else 31 Dec last year)")
    e.add_argument("--rates", metavar="FILE", help="reference exchange rates replacing config/fx_rates.yaml (same layout: "
                   "currency, date, per_eur) to report every amount in the entity's currency")
    e.add_argument("--ctpp", metavar="FILE", help="the ESAs' list of designated critical ICT third-party providers "
                   "replacing config/ctpp.yaml (same layout; the list is updated yearly)")
    e.add_argument("--strict", action="store_true", help="write nothing while any finding (a missing mandatory value, "
                   "a contradiction between sources, a deployment without a contract) or rejected row remains")
    e.add_argument("out", metavar="OUT")
    e.set_defaults(func=cmd_register_export)

    dr = rs.add_parser("draft", help="draft providers and contracts files from an inventory (CSV or XLSX with "
                       "drop-downs) to complete")
    inputs(dr)
    dr.add_argument("--out-dir", required=True, metavar="DIR", help="folder to write providers.* and contracts.* in")
    dr.add_argument("--format", choices=["csv", "xlsx"], default="xlsx")
    dr.add_argument("--replace", action="store_true", help="overwrite existing files")
    dr.set_defaults(func=cmd_register_draft)

    im = rs.add_parser("import", help="read an EBA register package (this tool's or a GRC tool's) into providers "
                       "and contracts files")
    im.add_argument("package", metavar="PACKAGE.zip")
    im.add_argument("--providers-out", required=True, metavar="P", help="providers CSV to write")
    im.add_argument("--contracts-out", required=True, metavar="C", help="contracts CSV to write")
    im.add_argument("--replace", action="store_true", help="overwrite existing files (their differences are listed "
                    "first; without --replace nothing is overwritten)")
    im.set_defaults(func=cmd_register_import)

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


def ctpp_for_report(a, args: argparse.Namespace) -> dict | None:
    """The PDF's section on the critical ICT third-party providers (`assess --providers P --contracts C`);
    None without the files. Rejected provider or contract rows are left out, as on the Providers page."""
    if not getattr(args, "providers", None):
        return None
    from risk_models.cli.common import UserError
    from risk_models.dora.chain import supply_chain
    from risk_models.inventory.read import InventoryFileError
    from risk_models.providers.summary import ctpp_block
    try:
        book = load_book(Path(args.providers), Path(args.contracts), a.lib, load_roi_spec().lists["ict_service_type"])
    except InventoryFileError as exc:
        raise UserError(str(exc)) from None
    for e in book.errors:
        print(f"note: {e.text()} (left out of the CTPP section)", file=sys.stderr)
    return ctpp_block(a, book, supply_chain(a, book), a.lib.reference_date)


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
