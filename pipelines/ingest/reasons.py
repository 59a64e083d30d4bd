"""Reasons a person reads: never more of a file than a short, sanitised excerpt.

A reason is stored (`ingested_files.reason`, `quarantine.reason`) and printed on a terminal. Whatever part of
it comes from a file (a header name, a value) or from a library's message (pyarrow quotes the row it failed
on) goes through `excerpt`: at most `EXCERPT_CHARS` characters, line breaks and tabs as spaces, every other
control or format character (terminal escapes, bidirectional overrides, zero-width characters) removed. A
5 MB header line therefore becomes 120 characters, and a reason never moves a terminal's cursor.
"""

from __future__ import annotations

import unicodedata

EXCERPT_CHARS = 120
REASON_CHARS = 600  # the whole reason of a file: fixed words plus excerpts

# Categories removed: Cc control, Cf format, Cs surrogate, Co private use, Cn unassigned, Zl/Zp separators.
_REMOVED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_SPACES = {"\t", "\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028", "\u2029"}


def excerpt(text: object, limit: int = EXCERPT_CHARS) -> str:
    """`text` on one line, without control or format characters, cut to `limit` characters ('…' at the cut)."""
    raw = str(text)
    head = raw[: limit * 4 + 1]  # bound the work on a huge text: more than enough for `limit` kept characters
    kept = []
    for ch in head:
        if ch in _SPACES:
            kept.append(" ")
        elif ch.isascii() and ch.isprintable():
            kept.append(ch)
        elif unicodedata.category(ch) not in _REMOVED:
            kept.append(ch)
    clean = " ".join("".join(kept).split())
    if len(clean) > limit or len(raw) > len(head):
        return clean[: limit - 1].rstrip() + "…"
    return clean


def quoted(name: str) -> str:
    """A header name or value inside a reason: its excerpt in single quotes."""
    return f"'{excerpt(name)}'"
