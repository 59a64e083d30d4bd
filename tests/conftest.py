from __future__ import annotations

import datetime as dt

import pytest

AS_OF = dt.date(2026, 11, 27)


@pytest.fixture
def as_of() -> dt.date:
    return AS_OF
