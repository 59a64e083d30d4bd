"""Hashing the inbox ahead, while `fundwatch run` waits for Prefect's temporary server (ADR 0031): ingestion takes a
digest computed ahead only for the very file it was computed from."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from pipelines.ingest import inbox
from pipelines.ingest.inbox import HashAhead, sha256_of


def deliver(folder: Path, name: str, text: str) -> Path:
    path = folder / "death_records" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hashed_ahead(folder: Path) -> dict[Path, str]:
    ahead = HashAhead(folder)
    ahead._thread.join(30)  # every file hashed (a run stops it when its server answers instead)
    ahead.stop()
    return {path: known for path, (_, known) in inbox._ahead.items()}


def test_a_digest_hashed_ahead_is_taken_for_the_same_file_and_not_for_one_written_or_replaced(tmp_path):
    a = deliver(tmp_path, "a.csv", "person_id,death_date,source\n")
    b = deliver(tmp_path, "b.csv", "person_id,death_date,source\n")
    c = deliver(tmp_path, "c.csv", "person_id,death_date,source\n")
    assert hashed_ahead(tmp_path) == {a: digest(a), b: digest(b), c: digest(c)}
    # taken, not recomputed: a digest planted for a's identity is what ingestion gets
    identity, _ = inbox._ahead[a]
    inbox._ahead[a] = (identity, "planted")
    assert sha256_of(a) == "planted"
    # b written since (one more row), c replaced by a file of the same size: each read again
    with b.open("a", encoding="utf-8") as f:
        f.write("110105194912310021,2024-03-05,police\n")
    replacement = tmp_path / "c.new"
    replacement.write_text("PERSON_ID,DEATH_DATE,SOURCE\n", encoding="utf-8")
    os.replace(replacement, c)
    assert (sha256_of(b), sha256_of(c)) == (digest(b), digest(c))


def test_only_regular_files_are_hashed_ahead_and_a_link_is_never_followed(tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("secret\n", encoding="utf-8")
    folder = tmp_path / "inbox"
    plain = deliver(folder, "d.csv", "person_id,death_date,source\n")
    (folder / "death_records" / "link.csv").symlink_to(outside)
    os.mkfifo(folder / "death_records" / "pipe.csv")  # would block a reader forever
    assert hashed_ahead(folder) == {plain: digest(plain)}


def test_a_file_not_finished_when_the_run_stops_it_gets_no_digest(tmp_path, monkeypatch):
    big = deliver(tmp_path, "big.csv", "x" * 1_000_000)
    monkeypatch.setattr(inbox, "HASH_CHUNK", 1)  # a million reads: far from done when stopped
    ahead = HashAhead(tmp_path)
    ahead.stop()
    assert big not in inbox._ahead
    assert sha256_of(big) == digest(big)


def test_an_inbox_that_cannot_be_listed_is_left_to_ingestion(tmp_path):
    ahead = HashAhead(tmp_path / "missing")
    ahead.stop()
    assert inbox._ahead == {}


@pytest.fixture(autouse=True)
def _forget_digests():
    yield
    inbox._ahead.clear()
