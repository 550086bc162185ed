"""Write a file all at once: a reader sees either the old file, or no file, or the whole new one."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from . import checks

NEW_FILE_MODE = 0o644  # rw-r--r--, what a plain ``open(path, "wb")`` gives under the usual umask 022


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[IO[bytes]]:
    """Open a temporary file beside ``path`` for binary writing; on success move it onto ``path``.

    The bytes go to a hidden temporary file in the same folder (``.NAME.XXXX.tmp``), which is
    flushed, synced and then renamed onto ``path`` with :func:`os.replace`, a single atomic step
    on POSIX and Windows. If the body raises, the temporary file is removed and ``path`` is left
    as it was. A file that already exists keeps its permission bits; a new one gets ``0o644``.

    Example::

        with atomic_write("figures/mountains.npy") as f:
            np.save(f, image)
    """
    path = checks.path("path", path, "path='figures/x.png'")
    if path.is_dir():
        raise ValueError(f"path {str(path)!r} is a folder; give the path of a file to write.")
    if not path.parent.is_dir():
        raise ValueError(
            f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist; create it first."
        )
    tmp = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with tmp:
            yield tmp
            tmp.flush()
            os.fsync(tmp.fileno())
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = NEW_FILE_MODE
        os.chmod(tmp.name, mode)
        os.replace(tmp.name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp.name)
        raise


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """``Path(path).write_bytes(data)``, but atomic (see :func:`atomic_write`)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, got {checks.given(data)}; for example text.encode().")
    with atomic_write(path) as f:
        f.write(data)
    return Path(path)


def stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """The temporary files that killed writes of ``path`` left beside it (``.NAME.XXXXXXXX.tmp``).

    :func:`atomic_write` removes its temporary file when its body raises, but a process killed
    with SIGKILL (or by a power cut) mid-write cannot: the file stays, as large as the part written.
    """
    path = checks.path("path", path, "path='checkpoints/train_ddp.pt'")
    pattern = re.compile(r"\." + re.escape(path.name) + r"\.[A-Za-z0-9_]{8}\.tmp")
    try:
        entries = list(path.parent.iterdir())
    except OSError:  # no such folder (yet): nothing was left there
        return []
    return sorted(p for p in entries if pattern.fullmatch(p.name) and p.is_file() and not p.is_symlink())


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove :func:`stale_temporaries` of ``path``; returns what was removed.

    Call it when a program starts, before it writes ``path`` again, and only where no other
    process may be writing ``path`` at the same time (its temporary file would be removed).
    """
    removed = []
    for tmp in stale_temporaries(path):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed
