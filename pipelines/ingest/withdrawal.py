"""Withdrawing a delivered file: its rows stop being in force (docs/adr/0011-redelivery-and-withdrawal.md).

The published database is never written in place (ADR 0008), so a withdrawal is a *request* that waits
beside it, in the queue folder `<db>.withdrawals/` (0700, one JSON file per request, 0600, written whole
by an atomic rename), until the next run applies it in its building copy under its writer lock:

* `request_withdrawal`   what `fundwatch withdraw` calls: the request, naming the version in force;
* `apply_withdrawals`    what a run calls before it ingests: every request waiting, applied or refused,
                         recorded in `withdrawals` (and, when applied, as a `withdrawn` event of the file in
                         `ingested_files`), its rows and quarantine rows removed.

A request is refused, never half-applied, when the file (or the same bytes under another name) is still
in the run's inbox — a file in the inbox is delivered, and would load again at once —, when no version of
it is in force, or when another version is in force than the one named. A request stays in the queue
until a run that has applied it is published: a run that fails applies it again next time. Reversal is
re-delivery: the same bytes delivered again load again as a new delivery.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from pipelines.ingest import registry
from pipelines.ingest.inbox import FILE, InboxFile, sha256_of
from pipelines.ingest.reasons import excerpt
from pipelines.warehouse.session import transaction
from schemas.datasets import BY_NAME

WITHDRAWN = "withdrawn"
REFUSED = "refused"
REASON_CHARS = 300  # the requester's words, as kept in a reason


def queue_path(db: Path) -> Path:
    """The folder of waiting requests beside the database: `<db>.withdrawals`."""
    return db.with_name(db.name + ".withdrawals")


@dataclass(frozen=True)
class Request:
    request_id: str
    dataset: str
    file: str  # "<dataset>/<name>", as in ingested_files
    sha256: str  # the version in force when the request was made
    reason: str
    requested_by: str
    requested_at: str  # ISO timestamp, seconds

    @classmethod
    def from_json(cls, text: str) -> Request:
        """The request a queue file holds; ValueError, KeyError or TypeError for anything else."""
        data = json.loads(text)
        request = cls(**{k: str(data[k]) for k in cls.__dataclass_fields__})
        dt.datetime.fromisoformat(request.requested_at)
        return request


@dataclass(frozen=True)
class Withdrawal:
    """What a run did with one request."""

    request_id: str
    dataset: str
    file: str
    outcome: str  # withdrawn | refused
    reason: str  # the requester's reason (withdrawn) or why it was refused (refused)
    rows_removed: int = 0
    quarantine_removed: int = 0


def file_identity(dataset: str, name: str) -> str:
    """`<dataset>/<name>` from a file named as `name` or as `<dataset>/name`; ValueError for a path that
    leaves the dataset folder."""
    parts = Path(name).parts
    if parts and parts[0] == dataset:
        parts = parts[1:]
    if not parts or Path(name).is_absolute() or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a file of the dataset folder: {name!r}")
    return "/".join((dataset, *parts))


def pending_requests(db: Path) -> list[tuple[Path, Request | None]]:
    """The requests waiting for `db`, oldest first; None for a file that is not a readable request."""
    folder = queue_path(db)
    if not folder.is_dir():
        return []
    found: list[tuple[Path, Request | None]] = []
    for path in sorted(folder.glob("*.json")):
        try:
            found.append((path, Request.from_json(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError, TypeError):
            found.append((path, None))
    return found


def request_withdrawal(
    db: Path, dataset: str, file: str, sha256: str, reason: str, by: str, now: dt.datetime | None = None
) -> Request:
    """Queue a request to withdraw version `sha256` of `file`; the next run applies it. Returns it."""
    at = (now or dt.datetime.now()).replace(microsecond=0)
    request = Request(uuid.uuid4().hex, dataset, file, sha256, reason, by, at.isoformat())
    folder = queue_path(db)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".request-", suffix=".tmp", dir=folder)  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(asdict(request), f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / f"{at:%Y%m%dT%H%M%S}-{request.request_id}.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return request


def copies_in_inbox(inbox: Iterable[InboxFile], file: str, sha256: str, size: int | None) -> list[str]:
    """Deliveries of the inbox that would bring `file`'s version back: the file itself (any bytes), or its
    exact bytes under another name of the same dataset (only files of the same size are hashed)."""
    dataset = file.split("/", 1)[0]
    found = []
    for item in inbox:
        if item.file == file:
            found.append(item.file)
        elif item.dataset == dataset and item.kind == FILE and size is not None:
            try:
                if item.path.lstat().st_size == size and sha256_of(item.path) == sha256:
                    found.append(item.file)
            except OSError:
                continue
    return found


def withdrawn_request_ids(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Request id -> the run that dealt with it, for every request dealt with (empty before the first)."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'withdrawals'").fetchone()
    if not exists or not exists[0]:
        return {}
    return dict(con.execute("SELECT request_id, run_id FROM withdrawals").fetchall())


def apply_withdrawals(
    con: duckdb.DuckDBPyConnection, run_id: str, db: Path, inbox: list[InboxFile]
) -> list[Withdrawal]:
    """Apply every request waiting for `db` in the building copy `con`, before ingestion; what was done.

    `inbox` is the run's `discover(inbox)`: a request whose file (or its bytes) is still delivered there is
    refused. A request already dealt with by a published run is only removed from the queue; one dealt
    with by this run (a second call) is left alone. Each request is one transaction.
    """
    dealt = withdrawn_request_ids(con)
    done: list[Withdrawal] = []
    for path, request in pending_requests(db):
        if request is None:
            path.rename(path.with_suffix(".invalid"))  # kept for the operator, never tried again
            done.append(Withdrawal(path.stem, "?", "?", REFUSED, "撤回请求无法读取 unreadable request file: ignored"))
            continue
        if request.request_id in dealt:
            if dealt[request.request_id] != run_id:
                path.unlink(missing_ok=True)  # applied by a run that was published
            continue
        with transaction(con):
            done.append(_apply(con, run_id, request, inbox))
    return done


def _refusal(con: duckdb.DuckDBPyConnection, request: Request, inbox: list[InboxFile]) -> str | None:
    if request.dataset not in BY_NAME or not request.file.startswith(f"{request.dataset}/"):
        return f"未知数据集 unknown dataset {request.dataset!r}"
    version = registry.version_in_force(con, request.dataset, request.file)
    if version is None:
        return "无生效版本 no version of the file is in force (never loaded, or withdrawn already)"
    if version[0] != request.sha256:
        return (
            "生效版本已变 another version is in force than the one named (a correction loaded since the "
            "request): withdraw again to withdraw it"
        )
    copies = copies_in_inbox(inbox, request.file, request.sha256, version[1])
    if copies:
        where = ", ".join(excerpt(c) for c in copies[:3])
        return (
            f"文件仍在收件箱 still delivered in the inbox ({where}): a file in the inbox would load again; "
            "remove it, then withdraw again"
        )
    return None


def _apply(con: duckdb.DuckDBPyConnection, run_id: str, request: Request, inbox: list[InboxFile]) -> Withdrawal:
    """One request, applied or refused, and recorded."""
    reason = excerpt(request.reason, REASON_CHARS)
    by = excerpt(request.requested_by)
    refusal = _refusal(con, request, inbox)
    rows = quarantined = 0
    if refusal is None:
        size = (registry.version_in_force(con, request.dataset, request.file) or ("", None))[1]
        rows, quarantined = registry.remove_all_file_rows(con, request.dataset, request.file)
        registry.record_file(
            con,
            run_id=run_id,
            dataset=request.dataset,
            file=request.file,
            sha256=request.sha256,
            size_bytes=size or 0,
            file_format=None,
            status=WITHDRAWN,
            rows_loaded=0,
            rows_quarantined=0,
            reason=(
                f"撤回 withdrawn at the request of {by} ({request.requested_at}): {reason}; "
                f"{rows} rows and {quarantined} quarantined rows removed"
            ),
        )
    con.execute(
        """
        INSERT INTO withdrawals (request_id, dataset, file, sha256, requested_by, requested_at, reason, run_id,
                                 applied_at, outcome, note, rows_removed, quarantine_removed)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            request.request_id,
            request.dataset,
            request.file,
            request.sha256,
            by,
            dt.datetime.fromisoformat(request.requested_at),
            reason,
            run_id,
            dt.datetime.now(),
            REFUSED if refusal else WITHDRAWN,
            refusal,
            rows,
            quarantined,
        ],
    )
    outcome = REFUSED if refusal else WITHDRAWN
    return Withdrawal(request.request_id, request.dataset, request.file, outcome, refusal or reason, rows, quarantined)
