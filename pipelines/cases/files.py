"""Where the files of the 四定一限 commands go: inside the folder given (`--out`), never beside or above it.

A file name is built from validated parts only (a region code of six digits, a month YYYYMM, a year, a date),
and `file_in` checks, whatever the name, that the file lands directly in the folder once both are resolved:
no separator, no `..`, no symbolic link at the target that leads elsewhere. The checklist export
(`pipelines.cases.export`) and every report (`pipelines.cases.reports.output.write_report`) write through it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

REGION_CODE = re.compile(r"[0-9]{6}")  # 统筹区代码: six ASCII digits (GB/T 2260), e.g. 330100


class UnsafeOutput(ValueError):
    """A file name or part of one that would put a file outside its folder, or is not what it should be."""


def region_code(text: str) -> str:
    """The region code if it is six digits, else UnsafeOutput (it becomes part of a file name)."""
    if not isinstance(text, str) or not REGION_CODE.fullmatch(text):
        raise UnsafeOutput(f"统筹区代码须为6位数字 a region code is six digits (e.g. 330100), got {text!r}")
    return text


def file_in(folder: Path, name: str) -> Path:
    """`folder / name`, the folder created if need be; UnsafeOutput unless the file lands directly in it.

    Refused: an empty name, `.` or `..`, a name holding a path separator or NUL, a symbolic link at the
    target (it could lead anywhere), and anything whose resolved parent is not the resolved folder.
    The path is returned as given (not resolved), for messages the user recognises.
    """
    folder = Path(folder)
    separators = {os.sep, os.altsep} - {None}
    if not name or name in (".", "..") or "\0" in name or any(s in name for s in separators):
        raise UnsafeOutput(f"文件名无效 not a plain file name: {name!r}")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.is_symlink():
        raise UnsafeOutput(f"目标是符号链接，拒绝写入 refusing to write through a symbolic link: {target}")
    if target.resolve().parent != folder.resolve():
        raise UnsafeOutput(f"文件会写到输出目录之外 {target} would be written outside {folder}")
    return target
