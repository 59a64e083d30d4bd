"""The inbox: `INBOX/<dataset>/<any name>.csv | .xlsx | .parquet`, the files a night delivers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class InboxFile:
    dataset: str
    path: Path
    file: str  # relative to the inbox, "<dataset>/<name>", the file's identity across deliveries


def discover(inbox: Path) -> list[InboxFile]:
    """Files of the inbox, sorted. Hidden entries and folders starting with '_' are not deliveries.

    Files in a folder that is not a contract dataset are returned with that
    folder as dataset: they will be rejected with a clear reason rather than
    silently ignored.
    """
    found: list[InboxFile] = []
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir()):
        if folder.name.startswith((".", "_")):
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if any(part.startswith(".") for part in path.relative_to(folder).parts):
                continue
            found.append(InboxFile(folder.name, path, path.relative_to(inbox).as_posix()))
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()
