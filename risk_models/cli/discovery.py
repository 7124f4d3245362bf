"""`discover focus|mlbom`: draft deployments from FOCUS billing exports or a CycloneDX ML-BOM.

Writes the draft as an inventory CSV (`--out`); with `--against INVENTORY` also prints what merging
it would change (added deployments, spend or model updates — never removals) and `--merged OUT`
writes the merged register. Exit 0 ok; 1 some rows could not be placed (listed; the draft is still
written) or nothing AI was found (nothing written); 2 usage, configuration or file errors.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from risk_models.cli import common
from risk_models.config.domain import INVENTORY_COLUMNS
from risk_models.config.loader import Library, load_library
from risk_models.discovery.draft import NOTE, draft_frame, draft_text, merge_into_raw
from risk_models.discovery.focus import FocusFileError, read_focus
from risk_models.discovery.rules import DiscoveryFile, load_discovery
from risk_models.discovery.summary import no_ai_message, summary_lines, unplaced_lines
from risk_models.inventory.read import escape_text, import_inventory, read_file, validate_table
from risk_models.inventory.versions import FIELD_LABELS
from risk_models.io.safe_yaml import UnsafeInputError, load_user_yaml

LINE = "_line"




def read_rates(path: str) -> dict[str, float]:
    """Currency -> USD per unit, from a YAML/JSON mapping such as {EUR: 1.08, GBP: 1.27}."""
    try:
        data = load_user_yaml(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, UnsafeInputError) as exc:
        raise common.UserError(f"--rates {path}: cannot read ({exc})") from None
    if not isinstance(data, dict) or not data:
        raise common.UserError(f"--rates {path}: expected a mapping of currency code to USD per unit, e.g. EUR: 1.08")
    out = {}
    for k, v in data.items():
        if not re.fullmatch(r"[A-Za-z]{3}", str(k)) or isinstance(v, bool) or not isinstance(v, int | float) \
                or not np.isfinite(v) or v <= 0:
            raise common.UserError(f"--rates {path}: {k!s}: {v!r} — each entry must be a 3-letter currency code "
                                   "with a positive number of USD per unit, e.g. EUR: 1.08")
        out[str(k).upper()] = float(v)
    return out


def _lib(args: argparse.Namespace) -> tuple[Library, DiscoveryFile]:
    lib = load_library(args.config) if args.config else load_library()
    path = Path(args.config) / "discovery.yaml" if args.config else None
    return lib, load_discovery(path, set(lib.channels.channels))


def write_draft_csv(draft: pd.DataFrame, out: str) -> None:
    text = draft_text(draft)
    for c in ("deployment_id", "name", "business_unit", "use_case", "owner", "model", "region", NOTE):
        text[c] = escape_text(text[c])
    common.write_bytes(out, text[[*INVENTORY_COLUMNS, NOTE]].to_csv(index=False).encode("utf-8"))








def _merge_report(args: argparse.Namespace, draft: pd.DataFrame, lib: Library, update: tuple[str, ...]) -> None:
    raw, lines = read_file(args.against)
    raw = raw.copy()
    raw.columns = [c if c != "" else "unnamed" for c in raw.columns]
    from risk_models.inventory.read import normalise_header
    raw.columns = normalise_header(list(raw.columns))
    raw[LINE] = lines
    merged, what = merge_into_raw(raw, draft, LINE, update)
    print(f"Against {common.term(args.against)}: {len(what['added'])} new deployment(s), {len(what['updated'])} updated "
          f"({', '.join(FIELD_LABELS.get(c, c).lower() for c in update)}), {len(what['unchanged'])} unchanged; none removed "
          "(deployments the draft does not mention stay as they are).")
    for d in what["added"]:
        print(f"  new: {common.term(d)}")
    for d in what["updated"]:
        print(f"  updated: {common.term(d)}")
    if args.merged:
        cols = [c for c in merged.columns if c != LINE]
        text = merged[cols].copy()
        for c in ("deployment_id", "name", "business_unit", "use_case", "owner", "model", "region"):
            if c in text:
                text[c] = escape_text(text[c].astype(str))
        common.write_bytes(args.merged, text.to_csv(index=False).encode("utf-8"))
        check = validate_table(merged[cols], merged[LINE].to_numpy(), lib)
        print(f"wrote {args.merged}: {len(check.frame)} valid deployment(s), {len(check.rejected_lines)} rejected")


def cmd_focus(args: argparse.Namespace) -> int:
    lib, disc = _lib(args)
    if args.months is not None and args.months < 1:
        raise common.UserError(f"--months {args.months}: must be 1 or more")
    rates = read_rates(args.rates) if args.rates else None
    outs = {common.same_file_key(o): o for o in (args.out, args.merged) if o}
    for f in args.files:
        if common.same_file_key(f) in outs:
            raise common.UserError(f"{outs[common.same_file_key(f)]}: refusing to overwrite the input billing file; "
                                   "choose another file name")
    try:
        imp = read_focus(args.files, disc, key=args.key, months=args.months, rates=rates)
    except FocusFileError as exc:
        raise common.UserError(str(exc)) from None
    for line in summary_lines(imp, lib):
        print(common.term(line))
    if imp.ai_rows == 0:
        print("error: " + no_ai_message(imp), file=sys.stderr)
        return 1
    draft = draft_frame(imp, disc, lib)
    if imp.unplaced:
        print(f"{imp.unplaced_rows:,} AI row(s) could not be placed:", file=sys.stderr)
        for line in unplaced_lines(imp):
            print(common.term(line), file=sys.stderr)
    if draft.empty:
        print("error: no AI row could be placed; nothing was written", file=sys.stderr)
        return 1
    write_draft_csv(draft, args.out)
    print(f"wrote {args.out}: {len(draft)} draft deployment(s), annual spend ${draft['annual_spend_usd'].sum():,.2f}; "
          f"criticality '{disc.defaults.criticality.value}' and data sensitivity "
          f"'{disc.defaults.data_sensitivity.value}' are defaults to review")
    if args.against:
        _merge_report(args, draft, lib, ("annual_spend_usd",))
    return 1 if imp.unplaced else 0


def cmd_mlbom(args: argparse.Namespace) -> int:
    from risk_models.discovery.mlbom import MlbomError, mlbom_draft, read_mlbom  # CycloneDX: only here
    lib, disc = _lib(args)
    p = Path(args.file)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise common.UserError(f"{args.file}: cannot read ({exc.strerror or exc})") from None
    try:
        models = read_mlbom(data, p.name, disc)
    except MlbomError as exc:
        raise common.UserError(str(exc)) from None
    if not models:
        print(f"error: {p.name}: no machine-learning-model components in the BOM; nothing was written", file=sys.stderr)
        return 1
    current = import_inventory(args.against, lib).frame if args.against else pd.DataFrame(columns=["deployment_id"])
    draft = mlbom_draft(models, current, disc, lib)
    write_draft_csv(draft, args.out)
    print(f"{len(models)} model component(s); wrote {args.out}: {len(draft)} draft row(s)")
    for _, r in draft.iterrows():
        print(f"  {common.term(r['deployment_id'])}: {common.term(r[NOTE])}")
    if args.against:
        _merge_report(args, draft, lib, ("model",))
    return 0


def add_parser(sub) -> None:
    d = sub.add_parser("discover", help="draft deployments from cloud billing (FOCUS) or an ML-BOM (CycloneDX)")
    ds = d.add_subparsers(dest="action", required=True)
    f = ds.add_parser("focus", help="FOCUS 1.0-1.2 billing exports (CSV, CSV.GZ or Parquet)")
    f.add_argument("files", nargs="+", metavar="FILE")
    f.add_argument("--key", default="resource", help="group charges by resource (default), subaccount or tag:NAME")
    f.add_argument("--months", type=int, help="use only the last N billing periods of the export(s)")
    f.add_argument("--rates", metavar="FILE", help="exchange rates to USD (YAML: EUR: 1.08) for non-USD billing")
    f.add_argument("--out", required=True, help="the draft inventory CSV to write")
    f.add_argument("--against", metavar="INVENTORY", help="the current register: print what merging the draft changes")
    f.add_argument("--merged", metavar="OUT", help="with --against: write the merged register (CSV)")
    f.set_defaults(func=cmd_focus)
    m = ds.add_parser("mlbom", help="CycloneDX 1.5/1.6 ML-BOM (JSON)")
    m.add_argument("file")
    m.add_argument("--out", required=True, help="the draft inventory CSV to write")
    m.add_argument("--against", metavar="INVENTORY", help="the current register: match its deployments")
    m.add_argument("--merged", metavar="OUT", help="with --against: write the merged register (CSV)")
    m.set_defaults(func=cmd_mlbom)
