"""`history`: list, show, diff, export and import saved assessments."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from risk_models.cli.common import (
    UserError,
    assessed,
    cli_actor,
    library_from,
    open_engine,
    term,
    write_json,
)
from risk_models.io.safe_yaml import load_user_json
from risk_models.scenarios.pack import pack_label_of


def _saved(engine, assessment_id: int):
    from risk_models.storage.repository import load
    try:
        return load(engine, assessment_id)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from None


def cmd_history(args: argparse.Namespace) -> int:
    from risk_models.storage import repository as repo
    writes = {"save": "save assessments", "import": "import assessments", "delete": "delete assessments"}
    actor = cli_actor(args.user, writes[args.action]) if args.action in writes else None  # before any work
    engine = open_engine()
    if actor is not None:
        cli_actor(args.user, writes[args.action], engine)
    if args.action == "save":
        a = assessed(args)
        new_id = repo.save_assessment(engine, a, args.label, args.author, args.org or Path(args.file).stem,
                                      actor=actor)
        print(f"saved assessment {new_id} ({args.label!r}, {len(a.frame)} deployments)")
    elif args.action == "list":
        rows = repo.list_assessments(engine)
        if args.json:
            write_json(rows, args.json)
        out = sys.stderr if args.json == "-" else sys.stdout
        print(f"{'id':>4}  {'created (UTC)':<20} {'label':<24} {'deployments':>11} {'high/crit':>9} "
              f"{'expected loss':>14} {'VaR 95':>14}", file=out)
        for r in rows:  # labels may hold escape sequences (typed or imported): never sent raw to the terminal
            print(f"{r['id']:>4}  {r['created_at'][:19]:<20} {term(r['label'][:24]):<24} {r['deployments'] or 0:>11} "
                  f"{r['high_or_critical'] or 0:>9} {r['expected_annual_loss_usd'] or 0:>14,.0f} "
                  f"{r['var95_usd'] or 0:>14,.0f}", file=out)
    elif args.action == "show":
        saved = _saved(engine, args.id)
        doc = {"id": saved.id, "label": saved.label, "author": saved.author,
               "created_at": saved.created_at.isoformat(), "content_hash": saved.content_hash, **saved.payloads}
        if args.json:
            write_json(doc, args.json)
        out = sys.stderr if args.json == "-" else sys.stdout
        sim = saved.results["simulation"]
        print(f"assessment {saved.id} {saved.label!r} by {saved.author or '-'} at {saved.created_at:%Y-%m-%d %H:%M} "
              f"UTC: {len(saved.results['deployments'])} deployments, expected annual loss "
              f"${sim['expected_annual_loss_usd']:,.0f}, VaR 95 ${sim['var95_usd']:,.0f}", file=out)
        pack = repo.saved_pack(saved)
        print(f"scenario library: {term(pack_label_of(pack))}, as of {pack['as_of']}"
              + (f", hash {pack['hash'][:12]}…" if pack["hash"] else " (pack not recorded: saved before packs)"),
              file=out)
    elif args.action == "diff":
        d = repo.diff(_saved(engine, args.id1), _saved(engine, args.id2))
        if args.json:
            write_json(d, args.json)
        _print_diff(d, sys.stderr if args.json == "-" else sys.stdout)
    elif args.action == "export":
        write_json(repo.export_document(_saved(engine, args.id)), args.out)
        print(f"exported assessment {args.id} to {args.out}")
    elif args.action == "import":
        try:
            data = load_user_json(Path(args.file).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"{args.file}: file not found") from None
        except IsADirectoryError:
            raise UserError(f"{args.file}: is a directory, not a file") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError(f"{args.file}: not valid JSON ({exc})") from None
        try:
            new_id, stored = repo.import_export(engine, data, trust=args.trust, lib=library_from(args),
                                                actor=actor)
        except ValueError as exc:
            raise UserError(f"{args.file}: {exc}") from None
        print(f"imported as assessment {new_id}" if stored else
              f"already stored as assessment {new_id} (same content); nothing imported")
    elif args.action == "check":
        damaged = repo.check(engine)
        for d in damaged:
            print(f"assessment {d['id']}: damaged — {term(d['problem'])}")
        print(f"{len(repo.list_assessments(engine))} assessment(s) checked, {len(damaged)} damaged"
              + ("; delete damaged ones with `history delete ID --yes`" if damaged else ""))
        return 1 if damaged else 0
    elif args.action == "delete":
        if not args.yes:
            raise UserError("deleting cannot be undone: repeat with --yes to confirm")
        if not repo.delete_assessment(engine, args.id, actor=actor):
            raise UserError(f"no saved assessment with id {args.id}")
        print(f"deleted assessment {args.id}")
    return 0


def _print_diff(d: dict, out) -> None:
    print(f"from {d['from']['id']} {d['from']['label']!r} to {d['to']['id']} {d['to']['label']!r}", file=out)
    for k, v in d["portfolio"].items():
        print(f"  {k}: {v['before']:,.0f} -> {v['after']:,.0f} ({v['delta']:+,.0f})", file=out)
    print(term(f"  deployments added: {', '.join(d['added']) or '-'}; removed: {', '.join(d['removed']) or '-'}"),
          file=out)
    for c in d["changed"]:
        print(f"  {term(c['deployment_id'])}: score {c['score_before']:.1f} -> {c['score_after']:.1f} "
              f"({c['score_delta']:+.1f}), rating {c['rating_before']} -> {c['rating_after']}, "
              f"cell L{c['cell_before'][0]}xI{c['cell_before'][1]} -> L{c['cell_after'][0]}xI{c['cell_after'][1]}",
              file=out)
    for a in d["answer_changes"]:
        print(term(f"  answer {a['deployment_id']}.{a['question_id']}: {a['before']} -> {a['after']}"), file=out)
    pb, pa = d["scenario_pack"]["before"], d["scenario_pack"]["after"]
    if pb["hash"] != pa["hash"] or pb["as_of"] != pa["as_of"]:
        print(f"  scenario library: {term(pack_label_of(pb))} (as of {pb['as_of']}) -> {term(pack_label_of(pa))} "
              f"(as of {pa['as_of']})", file=out)
    for s in d["scenario_changes"]:
        print(term(f"  probability {s['outcome_id']}: {s['before']} -> {s['after']}"), file=out)
