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


def sha256_of(path: Path) -> str:
    """The file's sha256; it is opened without following a link (O_NOFOLLOW): a file swapped for a link
    after `discover` raises OSError instead of being read."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def link_digest(path: Path) -> str:
    """The sha256 of what a link says (its target's name), never of the target's content."""
    return hashlib.sha256(os.fsencode(os.readlink(path))).hexdigest()
