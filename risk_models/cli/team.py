"""Team-mode commands under `history`: the audit trail (verify, export), the review workflow
(submit, approve, return) and the role table. In single-user mode the CLI acts as `--user` (default
the OS user) with the admin role; four-eyes still holds, so approving needs a second name. In team
mode the CLI writes nothing (nobody signs in on it): see `cli_actor`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from risk_models.auth.roles import PermissionDenied, parse_roles
from risk_models.cli.common import cli_actor, write_bytes
from risk_models.io.escape import terminal_text


class TeamUsageError(ValueError):
    """Bad option value: exit 2 with the message."""


def _term(text: object) -> str:
    return terminal_text(text, keep_newlines=True)


def _date(text: str, flag: str) -> dt.datetime:
    try:
        d = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise TeamUsageError(f"{flag} {text!r}: not a date; use YYYY-MM-DD (UTC) or YYYY-MM-DDTHH:MM") from None
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)


def cmd_audit(args: argparse.Namespace) -> int:
    from risk_models.storage import audit
    from risk_models.storage.db import make_engine
    engine = make_engine()
    if args.audit_action == "anchor":
        print(audit.current_anchor(engine))
        print("keep this line outside the database (a ticket, a log, an e-mail); later "
              "`history audit verify --anchor COUNT:HASH` fails if the trail was rewritten or truncated since",
              file=sys.stderr)
        return 0
    if args.audit_action == "verify":
        from risk_models.storage.trail import state_problems
        try:
            anchor = audit.parse_anchor(args.anchor) if args.anchor else None
        except ValueError as exc:
            raise TeamUsageError(f"--anchor: {exc}") from None
        count, brk = audit.verify(engine, anchor=anchor)
        if brk is not None:
            print(f"audit trail broken after {count} good entries: {terminal_text(brk.message)}", file=sys.stderr)
            return 1
        problems = state_problems(engine)
        for problem in problems:
            print(f"not in the audit trail: {terminal_text(problem)}", file=sys.stderr)
        if problems:
            print(f"audit trail chain intact ({count} entries), but {len(problems)} stored change(s) are not "
                  "accounted for by it", file=sys.stderr)
            return 1
        keyed = "; " + audit.seal_summary(audit.seals(engine))
        print(f"audit trail intact: {count} entries, every hash matches"
              + (f", the anchor {anchor[0]}:{anchor[1][:12]}… still holds" if anchor else "")
              + "; approvals, contents and roles match the trail" + keyed)
        return 0
    since = _date(args.since, "--since") if args.since else None
    until = _date(args.until, "--until") if args.until else None
    rows = audit.entries(engine, since=since, until=until, actor=args.user_filter, entity=args.entity)
    data = audit.to_csv(rows)
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_bytes(args.out, data)
        print(f"wrote {len(rows)} audit entries to {args.out}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from risk_models.storage import team
    from risk_models.storage.db import make_engine
    engine = make_engine()
    actor = cli_actor(args.user, f"{args.action} assessments for review", engine)
    fn = {"submit": team.submit, "approve": team.approve, "return": team.return_for_changes}[args.action]
    try:
        fn(engine, actor, args.id, args.comment or "")
    except KeyError as exc:
        raise TeamUsageError(str(exc.args[0])) from None
    except PermissionDenied as exc:
        raise TeamUsageError(str(exc)) from None
    done = {"submit": "submitted", "approve": "approved", "return": "returned"}[args.action]
    print(f"assessment {args.id} {done} by {_term(actor.name)}")
    return 0


def cmd_roles(args: argparse.Namespace) -> int:
    from risk_models.auth.roles import roles_text
    from risk_models.storage import team
    from risk_models.storage.db import make_engine
    engine = make_engine()
    if args.roles_action == "set":
        actor = cli_actor(args.user, "change the role table", engine)
        try:
            roles = parse_roles(args.roles, "ROLES")
            team.set_roles(engine, actor, args.username, roles, args.reason or "")
        except (ValueError, PermissionDenied) as exc:
            raise TeamUsageError(str(exc)) from None
        print(f"{_term(args.username)}: " + (roles_text(roles) if roles else "no stored role"))
        return 0
    for r in team.role_table(engine):
        labels = roles_text(parse_roles(r["roles"])) if r["roles"] else "-"
        print(f"{_term(r['username'])}: {labels} (set by {_term(r['updated_by'])} "
              f"{r['updated_at']:%Y-%m-%d %H:%M} UTC)")
    return 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    from risk_models.storage.db import current_revision, display_url, make_engine
    engine = make_engine()  # runs pending Alembic migrations (saved data kept)
    print(f"database {display_url(str(engine.url.render_as_string(hide_password=False)))} is at schema revision "
          f"{current_revision(engine)}")
    return 0


def add_history_commands(hs: argparse._SubParsersAction) -> None:
    """`history audit …`, `history submit|approve|return ID`, `history roles …`."""
    au = hs.add_parser("audit", help="the tamper-evident audit trail of every change")
    aus = au.add_subparsers(dest="audit_action", required=True)
    ve = aus.add_parser("verify", help="recompute the hash chain and check approvals, contents and roles against "
                        "it; exit 1 naming the first problem")
    ve.add_argument("--anchor", metavar="COUNT:HASH", help="an anchor printed earlier by `history audit anchor`: "
                    "fail if the trail was rewritten or truncated since")
    aus.add_parser("anchor", help="print the trail's end (COUNT:HASH) to keep outside the database")
    ex = aus.add_parser("export", help="write audit entries as CSV")
    ex.add_argument("--since", metavar="DATE", help="entries from this UTC date/time on (YYYY-MM-DD)")
    ex.add_argument("--until", metavar="DATE", help="entries before this UTC date/time")
    ex.add_argument("--by", dest="user_filter", metavar="USER", help="only this user's changes")
    ex.add_argument("--entity", help="only this kind: assessment, answer, register_row, scenario_probability, "
                    "assumption, role, status")
    ex.add_argument("--out", default="-", help="CSV file to write ('-' = stdout, the default)")
    au.set_defaults(func=cmd_audit)
    for name, text in (("submit", "submit a draft or returned assessment for approval"),
                       ("approve", "approve a submitted assessment (not your own: four-eyes)"),
                       ("return", "return a submitted assessment for changes, with a comment")):
        sp = hs.add_parser(name, help=text)
        sp.add_argument("id", type=int)
        sp.add_argument("--comment", required=name == "return", help="why (required to return)")
        sp.set_defaults(func=cmd_review)
    ro = hs.add_parser("roles", help="the role table (admin): who is viewer, assessor, approver, admin")
    ros = ro.add_subparsers(dest="roles_action", required=True)
    ros.add_parser("list")
    rs = ros.add_parser("set", help="set a user's stored roles (comma-separated; '' removes them)")
    rs.add_argument("username")
    rs.add_argument("roles")
    rs.add_argument("--reason")
    ro.set_defaults(func=cmd_roles)
    up = hs.add_parser("upgrade", help="bring the database schema to the newest revision (run as the owner role)")
    up.set_defaults(func=cmd_upgrade)
