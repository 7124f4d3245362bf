"""Run the command line in this process: `main([...])` with what `python -m risk_models` would give
(exit code, stdout, stderr), without starting an interpreter for every call.

A subprocess stays where the process itself is the point (the `python -m risk_models` entry point,
signals, resource limits, stdin); see test_cli.py for the entry-point smoke test.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from risk_models.cli.main import main


@dataclass(frozen=True)
class CliResult:
    """The fields of subprocess.CompletedProcess the tests read."""
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


class _Stream(io.TextIOWrapper):
    """A text stream with a binary `.buffer` (`--json -` writes bytes to sys.stdout.buffer), UTF-8, no
    newline translation: the text is exactly what a terminal or pipe would receive."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", newline="", write_through=True)

    def text(self) -> str:
        self.flush()
        return self.buffer.getvalue().decode("utf-8")


def _custom_config(argv: list[str], env: Mapping[str, str]) -> bool:
    return "--config" in argv or any(a.startswith("--config=") for a in argv) or "AI_VENDOR_RISK_CONFIG" in env


def _clear_config_caches() -> None:
    """The libraries are cached per process (keyed by directory, or by nothing for the default one);
    a fresh process would read a test's edited copy again."""
    from risk_models.config.loader import _load_library
    from risk_models.dora.spec import load_review_policy, load_roi_spec
    for cached in (_load_library, load_roi_spec, load_review_policy):
        cached.cache_clear()


@contextlib.contextmanager
def _process_like(env: Mapping[str, str] | None, cwd: Path | str | None) -> Iterator[None]:
    """Environment variables and working directory for one call, put back afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in (env or {}).items():
            mp.setenv(key, value)
        if cwd is not None:
            mp.chdir(cwd)
        yield


def run_cli(*args: str | os.PathLike, env: Mapping[str, str] | None = None,
            cwd: Path | str | None = None) -> CliResult:
    """`python -m risk_models ARGS` in this process. `env` adds to (or overrides) os.environ, as
    `subprocess.run(env={**os.environ, **env})` did. An unexpected exception propagates: the test fails
    with its traceback (a subprocess would have printed it and exited 1)."""
    argv = [os.fspath(a) for a in args]
    out, err = _Stream(), _Stream()
    fresh = _custom_config(argv, env or {})
    with _process_like(env, cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        if fresh:
            _clear_config_caches()
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage errors (2), --help (0)
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
        finally:
            if fresh:
                _clear_config_caches()
    return CliResult(argv, code, out.text(), err.text())
