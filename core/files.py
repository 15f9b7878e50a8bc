"""The one atomic write: a file is either its old content or its new content, never half of it."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def atomic_write(path: Path, data: str | bytes, *, encoding: str = "utf-8", newline: str | None = None) -> Path:
    """Write `data` to `path` through a temporary file in the same folder, then rename it into place.

    Readers (another run, an analyst's spreadsheet) see the old file or the new one. The temporary
    file is removed when the write fails (a full disk, say) and the error is raised.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # mode 0o666 less the umask, as a plain open() gives (tempfile.mkstemp would make it owner-only)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        if isinstance(data, bytes):
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        else:
            with os.fdopen(fd, "w", encoding=encoding, newline=newline) as fh:
                fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
