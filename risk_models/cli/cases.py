"""`cases`: the litigation and regulatory exposure case by case, and the dates to watch.

  cases list [FILE] [--answers A] [--json OUT]   every case of the scenario pack (with FILE: reached
                                                 deployments, expected loss, loss if adverse, best option)
  cases show EVENT FILE [--answers A]            one case: timeline, sources, reached deployments, the
                                                 stress of its adverse outcome (as `assess --stress`)
  cases calendar OUT.ics [--inventory FILE] [--within DAYS]
                                                 the dates to watch as an iCalendar file
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from risk_models.cli.common import UserError, assessed, library_from, load_settings, write_bytes, write_json
from risk_models.config.loader import Library
from risk_models.io.escape import terminal_text as term
from risk_models.report.calendar import calendar_bytes
from risk_models.report.cases import (
    CaseRecord,
    case_records,
    milestone_items,
    next_milestone,
    sorted_items,
    stress_case,
    watch_dates,
)
from risk_models.report.json_report import stress_delta


def _money(x: float) -> str:
    return f"-${-x:,.0f}" if x < 0 else f"${x:,.0f}"


def _next(c: CaseRecord) -> str:
    m = c.next_milestone
    return f"{m.date:%d %b %Y} {m.label}{' (expected)' if m.expected else ''}" if m else "no date announced"


def _library(args: argparse.Namespace) -> Library:
    return load_settings(library_from(args), args)


def cmd_list(args: argparse.Namespace) -> int:
    if not args.file:  # the pack alone: cases and their dates
        lib = _library(args)
        today = lib.reference_date
        rows = [{"event_id": e.id, "label": e.label, "forum": e.case.forum if e.case else None,
                 "status": e.case.status if e.case else None,
                 "next": m.model_dump(mode="json") if (m := next_milestone(e, today)) else None}
                for e in lib.scenarios.events]
        if args.json:
            write_json({"reference_date": today.isoformat(), "cases": rows}, args.json)
        for r in rows:
            nxt = f"{r['next']['date']} {r['next']['label']}" if r["next"] else "no date announced"
            print(f"{term(r['label'])}\n    {term(r['forum'] or '—')}; next: {term(nxt)}")
        return 0
    a = assessed(args)
    cases = case_records(a)
    if args.json:
        write_json({"reference_date": a.lib.reference_date.isoformat(),
                    "cases": [c.model_dump(mode="json") for c in cases]}, args.json)
    out = sys.stderr if args.json == "-" else sys.stdout
    print(f"{len(cases)} cases (scenario pack as of {a.lib.scenarios.as_of:%d %b %Y}); expected annual loss "
          "attributable to each, and the change if its adverse outcome happens:", file=out)
    for c in cases:
        best = f"; best option: {term(c.best_option.label)}" if c.best_option else ""
        print(f"  {term(c.label)}\n    {term(c.forum)}{' ' + term(c.reference) if c.reference else ''} — "
              f"{len(c.reached)} deployment(s); expected loss {_money(c.expected_loss_usd)}; if adverse "
              f"{_money(c.loss_if_adverse_usd)}; next: {term(_next(c))}{best}", file=out)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    a = assessed(args)
    event = next((e for e in a.lib.scenarios.events if e.id == args.event), None)
    if event is None:
        known = ", ".join(e.id for e in a.lib.scenarios.events)
        raise UserError(f"no case {args.event!r} in the scenario pack; known: {known}")
    c = next(c for c in case_records(a) if c.event_id == event.id)
    print(f"{term(c.label)}\n{term(c.forum)}{' ' + term(c.reference) if c.reference else ''}")
    print(f"Status ({c.status_as_of:%d %b %Y}): {term(c.status)}" if c.status_as_of else f"Status: {term(c.status)}")
    print("Timeline:")
    for m in c.milestones or []:
        print(f"  {m.date:%d %b %Y}{' (expected)' if m.expected else ''} {term(m.label)} — {term(m.source.url)}")
    if not c.milestones:
        print("  no date announced")
    print("Outcomes:")
    for o in c.outcomes:
        print(f"  {o.probability:.0%} {term(o.label)}")
    print(f"Reaches {len(c.reached)} deployment(s); expected loss {_money(c.expected_loss_usd)}:")
    for r in c.reached[:20]:
        print(f"  {term(r.deployment_id)} {term(r.name)} [{term(r.path)}] {_money(r.expected_loss_usd)}; "
              f"if adverse {_money(r.loss_if_adverse_usd)}")
    if c.adverse_outcome:
        d = stress_delta(a, stress_case(a, c.adverse_outcome), [c.adverse_outcome])["portfolio"]
        el = d["expected_annual_loss_usd"]
        print(f"Stress {c.adverse_outcome}: expected annual loss {_money(el['before'])} -> {_money(el['after'])}; "
              f"VaR 95 {_money(d['var95_usd']['before'])} -> {_money(d['var95_usd']['after'])}; high or critical "
              f"{d['high_or_critical']['before']} -> {d['high_or_critical']['after']}")
    print("Sources:")
    for s in c.sources:
        print(f"  {s.date:%d %b %Y} {term(s.title)} — {term(s.url)}")
    return 0


def cmd_calendar(args: argparse.Namespace) -> int:
    if args.within < 1 or args.within > 3660:
        raise UserError(f"--within {args.within}: give a number of days from 1 to 3660")
    if args.file:
        a = assessed(args)
        items, org = watch_dates(a, args.within), args.org or a.lib.profile.name
    else:
        lib = _library(args)
        start = lib.reference_date
        items, org = sorted_items(milestone_items(lib, start, start + dt.timedelta(days=args.within))), \
            args.org or lib.profile.name
    write_bytes(args.out, calendar_bytes(items, org))
    print(f"{args.out}: {len(items)} date(s) in the next {args.within} days")
    return 0


def _inputs(sp: argparse.ArgumentParser, settings, max_mb: int, file: str) -> None:
    """The assessment's inputs; the inventory as a required or optional positional, or as --inventory."""
    settings(sp)
    if file == "option":
        sp.add_argument("--inventory", dest="file", metavar="FILE",
                        help="the inventory: adds contract notice deadlines and contract ends")
    else:
        sp.add_argument("file", nargs=None if file == "required" else "?",
                        help="the inventory (CSV, XLSX or JSON)" + ("" if file == "required" else
                                                                  "; without it, the cases and dates only"))
    sp.add_argument("--answers", help="questionnaire answers (YAML or JSON)")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--trials", type=int, default=10_000)
    sp.add_argument("--max-mb", type=int, default=max_mb)


def add_parser(sub, settings, max_mb: int) -> None:
    c = sub.add_parser("cases", help="litigation and regulatory exposure case by case; the dates to watch")
    cs = c.add_subparsers(dest="action", required=True)

    ls = cs.add_parser("list", help="every case of the scenario pack (with FILE: exposure per case)")
    _inputs(ls, settings, max_mb, "optional")
    ls.add_argument("--json", metavar="OUT", help="write the cases as JSON ('-' = stdout)")
    ls.set_defaults(func=cmd_list)

    sh = cs.add_parser("show", help="one case: timeline, sources, reached deployments, stress of its adverse outcome")
    sh.add_argument("event", help="the case's event id (see `cases list`)")
    _inputs(sh, settings, max_mb, "required")
    sh.set_defaults(func=cmd_show)

    cal = cs.add_parser("calendar", help="the dates to watch as an iCalendar file")
    cal.add_argument("out", metavar="OUT.ics")
    cal.add_argument("--within", type=int, default=90, metavar="DAYS", help="days from the assessment date (default 90)")
    cal.add_argument("--org", help="organisation name for the calendar's title")
    _inputs(cal, settings, max_mb, "option")
    cal.set_defaults(func=cmd_calendar)
