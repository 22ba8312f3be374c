"""Files the app writes for people to take away (exports, reports, error lists): owner-only.

An export holds customers' data, so it is created 0600 whatever the umask, written beside the
target under a temporary name and moved into place; the folder it lands in is left as it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

PRIVATE_MODE = 0o600


@contextmanager
def private_file(path: str | Path, mode: str = "wb", *, encoding: str | None = None,
                 newline: str | None = None) -> Iterator[IO[Any]]:
    """Open ``path`` for writing as a new 0600 file; it replaces ``path`` when the block ends
    without an error (nothing is left behind otherwise). ``mode`` is "wb" or "w" (text)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)  # an existing stale .part file keeps its mode otherwise
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as fh:
            fd = -1
            yield fh
        os.replace(tmp, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
