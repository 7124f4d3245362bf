"""OS errors met while reading a user's file, as one plain-words message of the caller's error type."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def reading(path: Path | str, error: type[Exception]) -> Iterator[None]:
    """Raise `error` naming the path and what went wrong instead of an OSError traceback."""
    try:
        yield
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise error(f"{path}: permission denied") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
