"""The inbox: `INBOX/<dataset>/<any name>.csv | .xlsx | .parquet`, the files a night delivers.

Links are never followed: a symbolic link in the inbox (to a file or a folder, inside the inbox or out of
it) is a delivery of its own kind (`kind="symlink"`) that ingestion rejects by name, without opening its
target; so is anything that is not a regular file (a named pipe would block the reader forever). The
inbox folder itself may be a link: the operator chose it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

FILE = "file"
SYMLINK = "symlink"
SPECIAL = "special"  # a named pipe, socket or device


@dataclass(frozen=True)
class InboxFile:
    dataset: str
    path: Path
    file: str  # relative to the inbox, "<dataset>/<name>", the file's identity across deliveries
    kind: str = FILE  # FILE | SYMLINK | SPECIAL


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _kind(mode: int) -> str | None:
    """The kind of delivery an entry is, from its own (not followed) mode; None for a folder."""
    if stat.S_ISLNK(mode):
        return SYMLINK
    if stat.S_ISDIR(mode):
        return None
    return FILE if stat.S_ISREG(mode) else SPECIAL


def discover(inbox: Path) -> list[InboxFile]:
    """Files of the inbox, sorted. Hidden entries and folders starting with '_' are not deliveries.

    Files in a folder that is not a contract dataset are returned with that folder as dataset: they will
    be rejected with a clear reason rather than silently ignored. A link where a dataset folder belongs is
    returned as one delivery of that name, of kind SYMLINK; nothing under it is listed.
    """
    found: list[InboxFile] = []
    for top in sorted(inbox.iterdir()):
        if top.name.startswith((".", "_")):
            continue
        kind = _kind(top.lstat().st_mode)
        if kind == SYMLINK:
            found.append(InboxFile(top.name, top, top.name, SYMLINK))
        if kind is not None:  # a plain file beside the dataset folders is not a delivery
            continue
        found += _walk(inbox, top)
    return found


def _walk(inbox: Path, folder: Path) -> list[InboxFile]:
    """Every file under a dataset folder, without entering hidden folders or following links."""
    found: list[InboxFile] = []
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if _hidden(entry.name):
                continue
            path = Path(entry.path)
            kind = _kind(entry.stat(follow_symlinks=False).st_mode)
            if kind is None:
                found += _walk(inbox, path)
            else:
                found.append(
                    InboxFile(folder.relative_to(inbox).parts[0], path, path.relative_to(inbox).as_posix(), kind)
                )
    return found


HASH_CHUNK = 8 << 20

# Digests `HashAhead` computed before ingestion asked, by path, with the identity of the file they were computed
# from (`_identity`): used by `sha256_of` only while the open file still has that identity.
_ahead: dict[Path, tuple[tuple[int, ...], str]] = {}


def _identity(st: os.stat_result) -> tuple[int, ...]:
    """What changes when a file is replaced or written: device, inode, size, modification and change times (the
    change time cannot be set back by anyone)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _open_unfollowed(path: Path, flags: int = 0) -> int:
    return os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | flags)


def sha256_of(path: Path) -> str:
    """The file's sha256; it is opened without following a link (O_NOFOLLOW): a file swapped for a link
    after `discover` raises OSError instead of being read. A digest `HashAhead` computed of this very file
    (the same identity now, open) is taken instead of reading it again."""
    with os.fdopen(_open_unfollowed(path), "rb") as f:
        known = _ahead.get(path)
        if known is not None and known[0] == _identity(os.fstat(f.fileno())):
            return known[1]
        digest = hashlib.sha256()
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class HashAhead:
    """The regular files of the inbox hashed in a background thread until `stop()`: while `fundwatch run` waits
    for Prefect's temporary server, whose start keeps one core busy and leaves the run's other core idle (ADR
    0031). Ingestion then reads each digest computed (`sha256_of`) instead of reading the file a second time.

    A file whose identity changed while it was hashed, or that was not finished when `stop` came, gets no digest;
    nothing fails here: a file that cannot be read is read, and reported, by ingestion as ever."""

    def __init__(self, inbox: Path) -> None:
        _ahead.clear()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._work, args=(inbox,), name="fundwatch-hash-ahead", daemon=True)
        self._thread.start()

    def _work(self, inbox: Path) -> None:
        try:
            files = [item.path for item in discover(inbox) if item.kind == FILE]
        except OSError:
            return
        for path in files:
            try:
                digest = self._hash(path)
            except OSError:
                continue
            if digest is None:
                return
            _ahead[path] = digest

    def _hash(self, path: Path) -> tuple[tuple[int, ...], str] | None:
        # not blocking: a file swapped for a named pipe since it was listed must not hold the run up
        with os.fdopen(_open_unfollowed(path, os.O_NONBLOCK), "rb") as f:
            opened = os.fstat(f.fileno())
            if not stat.S_ISREG(opened.st_mode):
                raise OSError(f"not a regular file: {path.name}")
            before = _identity(opened)
            digest = hashlib.sha256()
            while chunk := f.read(HASH_CHUNK):
                if self._stopping.is_set():
                    return None
                digest.update(chunk)
            if _identity(os.fstat(f.fileno())) != before:
                raise OSError(f"changed while hashed: {path.name}")
        return before, digest.hexdigest()

    def stop(self) -> None:
        """Stop after the chunk in hand (8 MB); the digests finished stay for `sha256_of`."""
        self._stopping.set()
        self._thread.join()


def link_digest(path: Path) -> str:
    """The sha256 of what a link says (its target's name), never of the target's content."""
    return hashlib.sha256(os.fsencode(os.readlink(path))).hexdigest()
