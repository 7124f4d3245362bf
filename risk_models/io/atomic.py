"""Outputs written whole or not at all.

Every file the product writes (reports, exports, answers, keys) goes to a temporary file in the target's
own directory, is flushed to disk, and is then renamed over the target in one step. A crash, `kill -9`,
a full disk or a file-size limit mid-write leaves the previous file as it was (plus at most a hidden
`.NAME.*.part` file), never a truncated one. The rename is atomic because the temporary file is on the
same file system as the target."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

NAME_MAX = 255  # bytes per path component on Linux, macOS and Windows file systems


def _umask() -> int:
    """The process umask without changing it for other threads (read from /proc where it exists)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def name_problem(path: Path | str) -> str | None:
    """Why `path` cannot be a file name on this system (None when it can): checked before any work."""
    name = Path(path).name
    if len(os.fsencode(name)) > NAME_MAX:
        return f"the file name is too long ({len(name)} characters; at most {NAME_MAX} bytes)"
    return None


def _fsync_dir(directory: Path) -> None:
    # the rename itself survives a power loss only once the directory entry is on disk
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _SyncingWriter:
    """A file handle that has what was written so far flushed to disk in the background every `every`
    bytes, so the final fsync of a large output (the 200 MB report of 20,000 deployments) has little
    left to do. One flush at a time; the final fsync still decides (it raises what the disk says)."""

    def __init__(self, fh: BinaryIO, every: int) -> None:
        self._fh, self._every, self._since = fh, every, 0
        self._syncing: threading.Thread | None = None

    def write(self, data: bytes) -> int:
        n = self._fh.write(data)
        self._since += len(data)
        if self._since >= self._every and not (self._syncing and self._syncing.is_alive()):
            self._fh.flush()
            self._since = 0
            self._syncing = threading.Thread(target=_quiet_fdatasync, args=(self._fh.fileno(),), daemon=True)
            self._syncing.start()
        return n

    def writelines(self, lines) -> None:
        for data in lines:
            self.write(data)

    def finish(self) -> None:
        if self._syncing:
            self._syncing.join()

    def __getattr__(self, name: str):
        return getattr(self._fh, name)


def _quiet_fdatasync(fd: int) -> None:
    with contextlib.suppress(OSError):  # the final fsync reports a disk problem
        os.fdatasync(fd)


@contextlib.contextmanager
def atomic_file(path: Path | str, private: bool = False, exclusive: bool = False,
                sync_every: int = 0) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces `path` only when the block ends without error.

    `private`: mode 0600 (keys) instead of the umask's default. `exclusive`: never replace an existing
    file (FileExistsError instead; two first uses create one key, not two). `sync_every`: flush to disk
    in the background every so many bytes (large outputs)."""
    path = Path(path)
    problem = name_problem(path)
    if problem:
        raise OSError(36, problem, str(path))  # ENAMETOOLONG, before a temporary file is made
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name[:60]}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            writer = _SyncingWriter(fh, sync_every) if sync_every else None
            try:
                yield writer or fh  # type: ignore[misc]
            finally:
                if writer:
                    writer.finish()
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600 if private else 0o666 & ~_umask())
        if exclusive:
            os.link(tmp, path)  # fails if `path` exists: no check-then-write race
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def write_atomic(path: Path | str, data: bytes, private: bool = False, exclusive: bool = False) -> None:
    """`data` as the whole content of `path`, or `path` unchanged (see atomic_file)."""
    with atomic_file(path, private=private, exclusive=exclusive) as fh:
        fh.write(data)
