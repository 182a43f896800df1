"""Shared fixtures. Real-data tests are marked ``realdata`` and read the dataset
mirror named by ``BIOREL_DATA_MIRROR`` (CI sets it to ../shared/datasets); when
no mirror is found they are skipped with that reason, which ``-ra`` prints."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def mirror_root() -> Path | None:
    env = os.environ.get("BIOREL_DATA_MIRROR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "datasets")
    for c in candidates:
        if c.is_dir():
            return c
    return None


@pytest.fixture(scope="session")
def mirror() -> Path:
    root = mirror_root()
    if root is None:
        if os.environ.get("CI"):  # in CI the real-data tests must run, never skip
            pytest.fail("CI: no dataset mirror found (BIOREL_DATA_MIRROR or ../shared/datasets)")
        pytest.skip("no dataset mirror: set BIOREL_DATA_MIRROR to a copy of the datasets folder")
    return root


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path
