"""`python -m risk_models library diff|validate`: compare and check scenario library packs;
`scenarios calibrate`: fit outage frequency and duration from incident histories.

Exit codes: 0 valid / compared, 1 `validate` found problems in the pack, 2 usage, unreadable
or invalid files (plain message on stderr, never a traceback)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from risk_models.config.loader import ConfigError, Library, load_library, load_scenarios
from risk_models.config.palette import usd
from risk_models.config.schema import ScenariosFile
from risk_models.engine.pack_effect import portfolio_effect
from risk_models.io.escape import terminal_text as term
from risk_models.scenarios.calibrate import Options, calibrate
from risk_models.scenarios.diff import diff_packs, has_changes
from risk_models.scenarios.incidents import IMPACTS, IncidentFileError, read_incident_file
from risk_models.scenarios.pack import pack_age, pack_label
from risk_models.scenarios.validate import validate_pack


def _lib(args: argparse.Namespace) -> Library:
    return load_library(args.config) if args.config else load_library()


def _pack(path: str, lib: Library) -> ScenariosFile:
    return load_scenarios(Path(path), set(lib.channels.channels), set(lib.models.vendors))


def cmd_validate_pack(args: argparse.Namespace) -> int:
    lib = _lib(args)
    problems = validate_pack(args.file, lib)
    if problems:
        print(f"{term(args.file)}: {len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  {term(p)}", file=sys.stderr)
        return 1
    sf = _pack(args.file, lib)
    n_out = sum(len(e.outcomes) for e in sf.events)
    age = pack_age(sf)
    print(f"{term(args.file)}: valid scenario pack {term(pack_label(sf))} by {term(sf.maintainer)} — "
          f"{len(sf.events)} events, {n_out} outcomes, as of {sf.as_of:%d %b %Y} ({age.text()}), "
          f"{sf.horizon_months}-month horizon")
    if age.warning():
        print(f"warning: {age.warning()}", file=sys.stderr)
    return 0


def print_diff(d: dict, out) -> None:
    o, n = d["old"], d["new"]
    print(f"Scenario library {term(o['label'])} (as of {o['as_of']}) -> {term(n['label'])} (as of {n['as_of']})",
          file=out)
    for c in d["pack_changes"]:
        print(f"  pack {c['field']}: {term(c['before'] or '(none)')} -> {term(c['after'] or '(none)')}", file=out)
    if not has_changes(d):
        print("  no changes to events or outcomes", file=out)
    sections = (("Events added", d["events_added"]), ("Events removed", d["events_removed"]))
    for title, rows in sections:
        if rows:
            print(f"{title} ({len(rows)}):", file=out)
            for e in rows:
                print(f"  + {term(e['label'])} [{e['id']}]" if title.endswith("added") else
                      f"  - {term(e['label'])} [{e['id']}]", file=out)
    if d["events_changed"]:
        print(f"Events changed ({len(d['events_changed'])}):", file=out)
        for e in d["events_changed"]:
            parts = e["changes"] + [f"{len(e['sources_added'])} source(s) added"] * bool(e["sources_added"]) \
                + [f"{len(e['sources_removed'])} source(s) removed"] * bool(e["sources_removed"])
            print(f"  ~ {term(e['label'])} [{e['id']}]: {'; '.join(parts)}", file=out)
            for s in e["sources_added"]:
                print(f"      + source {term(s)}", file=out)
            for s in e["sources_removed"]:
                print(f"      - source {term(s)}", file=out)
    for title, key, sign in (("Outcomes added", "outcomes_added", "+"), ("Outcomes removed", "outcomes_removed", "-")):
        if d[key]:
            print(f"{title} ({len(d[key])}):", file=out)
            for r in d[key]:
                print(f"  {sign} {term(r['label'])} [{r['id']}, event {r['event']}] P {r['probability']:.0%}", file=out)
    if d["outcomes_changed"]:
        print(f"Outcomes changed ({len(d['outcomes_changed'])}):", file=out)
        for r in d["outcomes_changed"]:
            print(f"  ~ {term(r['label'])} [{r['id']}]: {'; '.join(r['changes'])}", file=out)
            for b in r["impacts_before"]:
                print(f"      before: {term(b)}", file=out)
            for a in r["impacts_after"]:
                print(f"      after:  {term(a)}", file=out)


def print_effect(e: dict, out) -> None:
    print(f"Effect on the portfolio ({e['deployments']} deployments, default probabilities, same seed):", file=out)
    for label, key in (("Expected annual loss", "expected_annual_loss_usd"), ("VaR 95", "var95_usd")):
        p = e["portfolio"][key]
        print(f"  {label}: {usd(p['before'])} -> {usd(p['after'])} ({'+' if p['delta'] >= 0 else '-'}"
              f"${abs(p['delta']):,.0f})", file=out)
    print("  Ratings: " + ", ".join(f"{r} {v['before']} -> {v['after']}" for r, v in e["ratings"].items()), file=out)
    moved = e["ratings_moved"]
    print(f"  Ratings moved: {len(moved)} deployment(s)", file=out)
    for m in moved:
        print(f"    {term(m['deployment_id'])} {term(m['name'][:40])}: {m['rating_before']} -> {m['rating_after']} "
              f"(score {m['score_before']:.1f} -> {m['score_after']:.1f})", file=out)


def cmd_diff(args: argparse.Namespace) -> int:
    from risk_models.cli.common import UserError, load_inputs, write_bytes  # local: cli imports this module

    if args.answers and not args.inventory:
        raise UserError("--answers needs --inventory (the answers belong to an inventory's deployments)")
    lib = _lib(args)
    old, new = _pack(args.old, lib), _pack(args.new, lib)
    d = diff_packs(old, new, lib)
    if args.inventory:
        ns = argparse.Namespace(config=args.config, file=args.inventory, answers=args.answers, max_mb=args.max_mb)
        _, result, answers, problems = load_inputs(ns)
        if problems or result.errors:
            print(f"note: {len(problems) + len(result.errors)} input problem(s) in {term(args.inventory)}; "
                  "rejected rows are not assessed (run `validate` for the list)", file=sys.stderr)
        d["effect"] = portfolio_effect(result, answers, lib, old, new, trials=args.trials, seed=args.seed)
    if args.json:
        text = json.dumps(d, indent=2, ensure_ascii=False) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            write_bytes(args.json, text.encode("utf-8"))
    out = sys.stderr if args.json == "-" else sys.stdout
    print_diff(d, out)
    if "effect" in d:
        print_effect(d["effect"], out)
    return 0


def _when(text: str | None, flag: str, end: bool = False) -> dt.datetime | None:
    """A --since/--until date (2025-01-01) or date-time; a bare --until date includes that day."""
    from risk_models.cli.common import UserError  # local: cli imports this module

    if text is None:
        return None
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{flag} {text!r}: not a date; expected e.g. 2025-01-01") from None
    if end and len(text) == 10:
        t += dt.timedelta(days=1)
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _pct(p: float | None) -> str:
    return "—" if p is None else f"{p:.0%}"


def _interval(pair, fmt) -> str:
    return "—" if not pair or pair[0] is None else f"{fmt(pair[0])} – {fmt(pair[1])}"


def _hours(h: float | None) -> str:
    return "—" if h is None else f"{h:,.1f} h"


def print_calibration(c: dict, out) -> None:
    impacts = f"impact {c['min_impact']} or worse" + (f", at least {c['min_hours']:g} h" if c["min_hours"] else "")
    comps = f", components {', '.join(c['components'])}" if c["components"] else ""
    level = f"{c['level']:.0%}"
    print(f"Outage frequency — {term(c['event_label'])} (baseline event), incidents of {impacts}{term(comps)}; "
          f"{level} intervals (exact Poisson):", file=out)
    head = (f"{'Channel':<16} {'Incidents':>9}  {'Period covered':<27} {'Per year':>8} {level + ' interval':>15}  "
            f"{'P(≥1 a year)':>12} {level + ' interval':>15} {'Pack':>6}  Pack vs fit")
    print(head, file=out)
    print("-" * len(head), file=out)
    for f in c["channels"]:
        period = f"{dt.date.fromisoformat(f['period_start']):%d %b %Y} – {dt.date.fromisoformat(f['period_end']):%d %b %Y}"
        print(f"{term(f['channel_label']):<16} {f['incidents_counted']:>4} of {f['incidents_in_file']:<2}  {period:<27} "
              f"{f['rate_per_year']:>8.2f} {_interval(f['rate_interval'], lambda x: f'{x:.2f}'):>15}  "
              f"{_pct(f['p_year']):>12} {_interval(f['p_year_interval'], _pct):>15} {_pct(f['pack_p_year']):>6}  "
              f"{f['frequency_verdict']}", file=out)
    print(f"\nOutage duration (resolved incidents counted above; lognormal fit, {level} interval of the median):",
          file=out)
    head = (f"{'Channel':<16} {'Resolved':>8}  {'Median':>9}  {'Lognormal median':>16} {level + ' interval':>19}  "
            f"{'Lognormal mean':>14}  {'Pack':>7}  Pack vs fit")
    print(head, file=out)
    print("-" * len(head), file=out)
    for f in c["channels"]:
        d = f["duration"]
        print(f"{term(f['channel_label']):<16} {d['n']:>8}  {_hours(d['median_hours']):>9}  "
              f"{_hours(d['lognormal_median_hours']):>16} {_interval(d['lognormal_median_interval'], _hours):>19}  "
              f"{_hours(d['lognormal_mean_hours']):>14}  {_hours(f['pack_outage_hours']):>7}  {f['duration_verdict']}",
              file=out)
    for f in c["channels"]:
        print(f"Sources for {term(f['channel_label'])}: {term('; '.join(f['sources']))}", file=out)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from risk_models.cli.common import UserError, same_file_key  # local: cli imports this module

    if args.json and args.json != "-" and same_file_key(args.json) in {same_file_key(f) for f in args.incidents}:
        raise UserError(f"--json {args.json}: refusing to overwrite an --incidents file; choose another file name")
    lib = _lib(args)
    options = Options(event=args.event, min_impact=args.min_impact, min_hours=args.min_hours,
                      components=tuple(args.component or ()), since=_when(args.since, "--since"),
                      until=_when(args.until, "--until", end=True))
    try:
        histories = [h for f in args.incidents for h in read_incident_file(Path(f), lib, args.channel)]
        result = calibrate(histories, lib, options)
    except IncidentFileError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            try:
                Path(args.json).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise UserError(f"{args.json}: cannot write ({exc.strerror})") from None
    print_calibration(result, sys.stderr if args.json == "-" else sys.stdout)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    lp = sub.add_parser("library", help="scenario library packs: compare (diff) and check (validate)")
    ls = lp.add_subparsers(dest="action", required=True)
    d = ls.add_parser("diff", help="what changed from pack OLD to pack NEW, and the effect on an inventory")
    d.add_argument("old")
    d.add_argument("new")
    d.add_argument("--inventory", metavar="FILE", help="show the effect on this inventory (CSV, XLSX or JSON)")
    d.add_argument("--answers", metavar="A", help="questionnaire answers for --inventory (YAML or JSON)")
    d.add_argument("--json", metavar="F", help="write the comparison as JSON ('-' = stdout)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--trials", type=int, default=10_000)
    d.add_argument("--max-mb", type=int, default=20)
    d.set_defaults(func=cmd_diff)
    v = ls.add_parser("validate", help="check a pack: schema, unique ids, outcome sums, known channels/vendors/"
                      "jurisdictions/features, dated sources")
    v.add_argument("file")
    v.set_defaults(func=cmd_validate_pack)

    sp = sub.add_parser("scenarios", help="scenario evidence: calibrate outage frequency and duration from incidents")
    ss = sp.add_subparsers(dest="action", required=True)
    c = ss.add_parser("calibrate", help="fit outage frequency and duration per channel from status-page incident "
                      "histories and compare them with the baseline events")
    c.add_argument("--incidents", nargs="+", required=True, metavar="FILE",
                   help="Statuspage incidents.json files and/or post-incident review CSVs (start, end, service, "
                        "region, impact)")
    c.add_argument("--channel", help="the channel of every file (default: from the status page name or the "
                   "service column)")
    c.add_argument("--event", default="provider_outage", help="the per-channel baseline event to compare with")
    c.add_argument("--min-impact", default="major", choices=IMPACTS, help="count incidents of this impact or worse")
    c.add_argument("--min-hours", type=float, default=0.0, help="count only incidents lasting at least this long")
    c.add_argument("--component", action="append", metavar="NAME",
                   help="count only incidents affecting this status-page component (repeatable), e.g. API")
    c.add_argument("--since", metavar="DATE", help="start of the period observed (default: the first incident)")
    c.add_argument("--until", metavar="DATE", help="end of the period observed (default: the page's last update)")
    c.add_argument("--json", metavar="F", help="write the fit as JSON ('-' = stdout)")
    c.set_defaults(func=cmd_calibrate)


__all__ = ["ConfigError", "register"]
