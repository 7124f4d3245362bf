"""The documentation stays true to the code and to itself.

- docs/cli.md is generated from the argparse definitions (`risk_models.cli.main.build_parser()`);
  the test fails when it is out of date. Regenerate it with `.venv/bin/python -m tests.test_docs`.
- Every relative link (and image) in README.md and docs/*.md names a file that exists, and every
  `#anchor` names a heading of that file.
- README.md stays short (at most 200 lines): reference material lives in docs/.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI_DOC = ROOT / "docs" / "cli.md"
REGENERATE = ".venv/bin/python -m tests.test_docs"
HELP_COLUMNS = "100"  # argparse wraps help to the terminal width: fix it so the output is stable
README_MAX_LINES = 200

CLI_INTRO = f"""\
# Command-line reference

<!-- Generated from risk_models.cli.main.build_parser() by tests/test_docs.py: do not edit by hand.
     After changing a command, regenerate with `{REGENERATE}`;
     tests/test_docs.py::test_cli_reference_is_current fails while this file is out of date. -->

Every command of the app is also a command line: `.venv/bin/python -m risk_models COMMAND ...`, installed
as `ai-vendor-risk COMMAND ...` too. The global options `--config` and `--user` come before the command
(`ai-vendor-risk --user ann history submit 7`).

**Exit codes:** **0** success; **1** the input has problems or a check found some (invalid rows or
answers, refused workbook cells, billing rows that could not be placed, register findings, damaged saved
assessments, a broken audit chain), each listed with where it is and what is allowed; **2** usage,
configuration or file errors (a missing, binary or too large file, a bad `DATABASE_URL`): one plain
message on stderr, never a traceback. Where an option writes JSON, `-` means stdout.

Worked examples with real output are in the topic guides: [inventory](inventory.md) (`validate`,
`template`), [assessing and reporting](reports.md) (`assess`), [fallbacks and exit plans](fallbacks.md)
(`exit-plan`, `whatif`), [saved assessments](history.md) and [team deployment](team-deploy.md)
(`history`), [questionnaire](questionnaire.md), [scenario library](scenario-library.md) (`library`),
[DORA register](dora-register.md) (`register`, `due`) and [discovery](discovery.md) (`discover`).

Below: the `--help` of every command and subcommand, as printed at {HELP_COLUMNS} columns.
"""


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each direct subcommand, in definition order (aliases once)."""
    for action in parser._actions:  # argparse keeps no public list of subparsers
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    yield name, helps.get(name, ""), sub


def _walk(parser: argparse.ArgumentParser, depth: int = 0, summary: str = "") \
        -> Iterator[tuple[int, str, argparse.ArgumentParser]]:
    yield depth, summary, parser
    for _name, text, sub in _subcommands(parser):
        yield from _walk(sub, depth + 1, text)


@contextlib.contextmanager
def _columns(value: str) -> Iterator[None]:
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = before


def cli_reference() -> str:
    """docs/cli.md: a fixed introduction, a contents list, then each command's `--help`."""
    from risk_models.cli.main import build_parser
    with _columns(HELP_COLUMNS):
        commands = [(depth, summary, p.prog, p.format_help()) for depth, summary, p in _walk(build_parser())]
    contents = ["## Commands", ""]
    sections = []
    for depth, summary, prog, help_text in commands:
        contents.append(f"{'  ' * depth}- [`{prog}`](#{_slug(prog)})" + (f": {summary}" if summary else ""))
        sections += [f"{'#' * min(depth + 2, 6)} {prog}", ""]
        if summary:
            sections += [summary[:1].upper() + summary[1:] + ("" if summary.endswith(".") else "."), ""]
        sections += ["```text", help_text.rstrip(), "```", ""]
    return CLI_INTRO + "\n" + "\n".join(contents) + "\n\n" + "\n".join(sections).rstrip() + "\n"


def write_cli_reference() -> Path:
    CLI_DOC.write_text(cli_reference(), encoding="utf-8")
    return CLI_DOC


# --- links ------------------------------------------------------------------------------------------
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
MD_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_REF = re.compile(r"""<(?:img|a)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip()).lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out = set()
    for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M):
        slug = _slug(m.group(1))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def broken_links(path: Path) -> list[str]:
    """Relative links and image sources of one Markdown file that name no file or no heading."""
    text = INLINE_CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    problems = []
    for target in [m.group(1) for m in MD_LINK.finditer(text)] + [m.group(1) for m in HTML_REF.finditer(text)]:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
            continue  # http(s), mailto: not checked here (no network)
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(ROOT)}: ({target})"
        if not dest.exists():
            problems.append(f"{where}: no such file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            problems.append(f"{where}: no heading with the anchor #{anchor} in {dest.relative_to(ROOT)}")
    return problems


# --- tests ------------------------------------------------------------------------------------------
def test_cli_reference_is_current():
    expected = cli_reference()
    current = CLI_DOC.read_text(encoding="utf-8") if CLI_DOC.exists() else ""
    assert current == expected, (
        f"docs/cli.md is out of date with the argparse definitions of risk_models.cli: regenerate it with "
        f"`{REGENERATE}` and commit the result")


def test_cli_reference_covers_every_command():
    text = CLI_DOC.read_text(encoding="utf-8")
    from risk_models.cli.main import build_parser
    for _depth, _summary, parser in _walk(build_parser()):
        assert f"\n```text\nusage: {parser.prog}" in text.replace("\r\n", "\n"), parser.prog


def test_every_relative_link_resolves():
    problems = [p for path in doc_files() for p in broken_links(path)]
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_link_checker_sees_a_broken_link(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "there.md").write_text("# A heading\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[ok](there.md#a-heading) [gone](missing.md) [bad anchor](there.md#nope) "
                    '<img src="nothing.png"> [web](https://example.com) `[code](not-a-link.md)`\n'
                    "```\n[fenced](also-not-a-link.md)\n```\n", encoding="utf-8")
    found = broken_links(page)
    assert len(found) == 3, found
    assert any("missing.md" in p for p in found) and any("#nope" in p for p in found)
    assert any("nothing.png" in p for p in found)


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move reference material to docs/")


REPO_PATH = re.compile(r"(?<![\w./-])(?:risk_models|dashboard|bench|config|tests|scripts|docs)/[\w./-]*[\w/]")


def test_docs_name_only_modules_that_exist():
    """Paths like `risk_models/engine/score.py` or `config/demo/profile.yaml` and dotted names like
    `risk_models.report.options` in the docs name files that exist (code moves; the docs must follow)."""
    problems = []
    for path in doc_files():
        text = path.read_text(encoding="utf-8")
        for m in REPO_PATH.finditer(text):
            if not (ROOT / m.group(0)).exists():
                problems.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
        for m in re.finditer(r"\brisk_models(?:\.\w+)+", text):
            parts = m.group(0).split(".")
            # the longest prefix that is a module or package; what follows must be a name in it
            for n in range(len(parts), 0, -1):
                base = ROOT.joinpath(*parts[:n])
                if base.with_suffix(".py").exists() or (base / "__init__.py").exists():
                    break
            else:
                problems.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
                continue
            rest = parts[n:]
            if len(rest) > 1:
                problems.append(f"{path.relative_to(ROOT)}: {m.group(0)} (no module {'.'.join(parts[:n + 1])})")
            elif rest:
                source = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
                if not re.search(rf"^(?:def|class)\s+{rest[0]}\b|^{rest[0]}\s*[:=]",
                                 source.read_text(encoding="utf-8"), re.M):
                    problems.append(f"{path.relative_to(ROOT)}: {m.group(0)} (no {rest[0]} in {source.name})")
    assert not problems, "the docs name modules that do not exist:\n" + "\n".join(problems)


if __name__ == "__main__":
    print(f"wrote {write_cli_reference().relative_to(ROOT)}")
