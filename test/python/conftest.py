"""Fixtures shared by the linac Python tests.

Every test process compiles into one kernel cache folder, a pytest temporary folder shared by
the whole session, so that kernels compiled by one test are reused from disk by the others
and nothing is written to the user's cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def linac_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Points LINAC_CACHE_DIR at a session-wide temporary folder.

    `linac._linac` reads the variable at each compile, so setting it before the first test
    runs (nothing compiles at import or collection time) covers every compile of the session.
    """
    path = tmp_path_factory.mktemp("linac-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LINAC_CACHE_DIR", str(path))
        yield path


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded from the test's id, so each test sees fixed, distinct inputs."""
    seed = sum(ord(c) * (i + 1) for i, c in enumerate(request.node.nodeid)) % 2**32
    return np.random.default_rng(seed)
