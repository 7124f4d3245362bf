"""What every command group shares: terminal-safe text, errors the user can fix, writing outputs, and
reading the inputs (library, settings, inventory, answers) from the parsed arguments."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from risk_models.cli import report as cli_report
from risk_models.config.domain import RowError
from risk_models.config.loader import Library, load_library, load_profile, parse_model, with_assumptions, with_profile
from risk_models.config.schema import AssumptionsFile
from risk_models.engine.assessment import assess
from risk_models.inventory.read import DEFAULT_MAX_USD, ImportResult, import_inventory
from risk_models.io.atomic import write_atomic
from risk_models.io.escape import terminal_text as term
from risk_models.questionnaire.answers import read_answers_file, validate_answers


class UserError(Exception):
    """A problem the user can fix; printed without a traceback, exit 2."""


def write_json(obj: object, out: str) -> None:
    # allow_nan=False: a report never holds NaN/Infinity (standard JSON readers reject them)
    try:
        text = json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False, allow_nan=False) + "\n"
    except ValueError as exc:
        raise UserError(f"{out}: not written: the result holds a number JSON cannot represent ({exc})") from None
    if out == "-":
        sys.stdout.write(text)
    else:
        write_bytes(out, text.encode("utf-8"))


def write_bytes(out: str, data: bytes) -> None:
    try:
        write_atomic(out, data)  # whole or not at all: a crash or full disk keeps the previous file
    except OSError as exc:
        raise UserError(f"{out}: cannot write ({exc.strerror or exc})") from None


def format_error(e: RowError) -> str:
    where = f"line {e.line}" if e.line is not None else "answers"
    who = f" ({term(e.deployment_id)})" if e.deployment_id else ""
    col = f" column {e.column}" if e.column else ""
    val = f": value {e.value!r}" if e.value is not None else ""
    return f"  {where}{who}{term(col)}{val} — {term(e.message)}"  # messages may quote user text


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def load_settings(lib: Library, args: argparse.Namespace) -> Library:
    """The organisation profile, assessment date and loss assumptions given on the command line, if any."""
    if getattr(args, "profile", None):
        lib = with_profile(lib, load_profile(Path(args.profile), lib.regimes))
    if getattr(args, "as_of", None):  # the assessment date, over the profile's
        lib = with_profile(lib, lib.profile.model_copy(update={"reporting_date": args.as_of}))
    lib = cli_report.with_logo(lib, getattr(args, "logo", None))
    if getattr(args, "assumptions", None):
        lib = with_assumptions(lib, parse_model(Path(args.assumptions), AssumptionsFile))
    return lib


def load_inputs(args: argparse.Namespace) -> tuple[Library, ImportResult, dict, list[RowError]]:
    lib = load_settings(load_library(args.config) if args.config else load_library(), args)
    result = import_inventory(args.file, lib, max_bytes=args.max_mb * 1024 * 1024,
                              max_usd=getattr(args, "max_usd", DEFAULT_MAX_USD))
    for notice in result.notices:  # e.g. which XLSX sheet was read and which were not
        print(f"note: {args.file}: {notice}", file=sys.stderr)
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


def library_from(args: argparse.Namespace) -> Library:
    return load_library(args.config) if args.config else load_library()


def cli_actor(user: str | None, doing: str, engine=None):
    """Who a CLI write acts as: the `--user` name (default the OS user) with the admin role, in single-user
    mode only. In team mode nobody signs in on the CLI, so `--user` would let anyone claim any identity
    (and approve as a second person): writes are refused, read commands still work. Team mode is what
    this shell says (AI_VENDOR_RISK_TEAM, secrets.toml) or what the database says (`engine`: someone has
    signed in to the app in team mode on it)."""
    from risk_models.auth.config import team_mode_outside_the_app
    from risk_models.auth.roles import local_user
    try:
        team = "AI_VENDOR_RISK_TEAM or [team] in secrets.toml" if team_mode_outside_the_app() else None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if team is None and engine is not None:
        from risk_models.storage.team import team_mode_since
        since = team_mode_since(engine)
        if since is not None:
            team = f"this database is used in team mode since {since[0]:%Y-%m-%d} (first sign-in: {term(since[1])})"
    if team:
        raise UserError(f"team mode is on ({team}): the command line cannot prove who you are, so it does not "
                        f"{doing}; sign in to the app to do it (--user names the person only in single-user mode)")
    return local_user(user)


def open_engine():
    from risk_models.storage.db import make_engine
    return make_engine()


def same_file_key(path: str) -> str:
    """Identity of a path for 'same file' checks (symlinks and relative forms resolved)."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return str(Path(path).absolute())


def assessed(args: argparse.Namespace):
    """The inputs of the command line assessed (rejected rows are left out, with a note)."""
    lib, result, answers, answer_errors = load_inputs(args)
    if result.errors or answer_errors:
        print(f"note: {len(result.errors) + len(answer_errors)} input problem(s); rejected rows are not assessed "
              "(run `validate` for the list)", file=sys.stderr)
    return assess(result, answers, lib, trials=args.trials, seed=args.seed)
