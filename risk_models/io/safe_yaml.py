"""Loading user-supplied YAML and JSON without letting the file exhaust memory or the stack.

A 473-byte YAML file of nested aliases ("billion laughs") expands to gigabytes once anything
walks it, and deeply nested JSON or YAML is a RecursionError. None of our user files needs
aliases, so they are refused outright (one clear message with the line), and nesting deeper
than MAX_DEPTH is refused before any value is built."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import yaml

MAX_DEPTH = 64  # our deepest legitimate document (an assessment export) nests about 10 levels
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)
_CHUNK = 1 << 20


class UnsafeInputError(ValueError):
    """A user file was refused before it was expanded (aliases, nesting too deep, bad syntax)."""


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it


def _check_events(text: str) -> None:
    """Refuse aliases and nesting deeper than MAX_DEPTH from the parser's events, before any node
    or value is built (libyaml's parser: ~10x faster than composing in Python)."""
    try:
        _walk_events(text)
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" not in str(exc):  # libyaml's own limit (1,000) met while scanning ahead
            raise
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise UnsafeInputError(f"line {line}: nested deeper than {MAX_DEPTH} levels") from None


def _walk_events(text: str) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise UnsafeInputError(
                f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not allowed "
                "in uploaded files; write the values out in full")
        if isinstance(event, yaml.CollectionStartEvent | yaml.ScalarEvent) and depth + 1 > MAX_DEPTH:
            raise UnsafeInputError(f"line {event.start_mark.line + 1}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def load_user_yaml(text: str) -> Any:
    """yaml.safe_load for files a user supplies: no aliases, bounded nesting."""
    try:
        _check_events(text)
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a SafeLoader
    except UnsafeInputError:
        raise
    except RecursionError:
        raise UnsafeInputError(f"nested deeper than {MAX_DEPTH} levels") from None
    except yaml.YAMLError as exc:
        raise UnsafeInputError(f"not valid YAML ({_one_line(exc)})") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2026-13-45
        raise UnsafeInputError(f"not valid YAML: an impossible value ({_one_line(exc)})") from None


def json_depth_ok(text: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether brackets nest at most `limit` deep, counted outside strings (vectorised scan)."""
    s = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    # Drop string contents first so brackets inside values do not count.
    if '"' in s:
        s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', s)
    raw = np.frombuffer(s.encode("utf-8"), dtype=np.uint8)
    depth = 0
    for i in range(0, len(raw), _CHUNK):  # in chunks: memory stays small for a 20 MB file of brackets
        part = raw[i:i + _CHUNK]
        running = np.cumsum(np.isin(part, _OPEN).astype(np.int32) - np.isin(part, _CLOSE).astype(np.int32)) + depth
        if int(running.max()) > limit:
            return False
        depth = int(running[-1])
    return True


def load_user_json(text: str | bytes) -> Any:
    """json.loads for files a user supplies: nesting bounded, no NaN/Infinity."""
    if not json_depth_ok(text):
        raise UnsafeInputError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise UnsafeInputError(f"JSON nested deeper than {MAX_DEPTH} levels") from None


def _no_constant(name: str) -> Any:
    raise UnsafeInputError(f"JSON contains {name}, which is not a number standard JSON allows")


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
