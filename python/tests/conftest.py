import os
import shutil

import pytest


@pytest.fixture(autouse=True, scope="session")
def qclab_executable():
    """The tests run the real executable: QCLAB_SWIFT_BIN, or qclab on PATH (scripts/test.sh sets it)."""
    path = os.environ.get("QCLAB_SWIFT_BIN") or shutil.which("qclab")
    if not path:
        pytest.fail("set QCLAB_SWIFT_BIN to the qclab executable (swift build; .build/debug/qclab)")
    return path


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "lvc_engine: runs LinearVibronicCoupling or finite-difference gradient jobs in the executable "
        "(the engine side of issue 22 §1-2)",
    )
