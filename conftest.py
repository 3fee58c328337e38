"""One local AWS per pytest process (each xdist worker has its own), on a free loopback port.

It starts in pytest_configure, before any notebook kernel, so that notebooks run by nbval find
it through $WORKBOOK_ENDPOINT_URL exactly as a learner's kernel finds the one `make lab` starts.
"""
import os

import pytest

# Never let boto3 look for credentials on an instance metadata address: loopback only.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

_server = None


def _is_xdist_controller(config) -> bool:
    return not hasattr(config, "workerinput") and (config.getoption("numprocesses", None) or 0) != 0


def pytest_configure(config):
    global _server
    if _is_xdist_controller(config):
        return
    from helpers import local

    _server = local.start(port=0)
    os.environ["WORKBOOK_ENDPOINT_URL"] = _server.endpoint_url


def pytest_unconfigure(config):
    if _server is not None:
        _server.stop()


@pytest.fixture(scope="session")
def local_aws():
    """The running local AWS (helpers.local.server.Server)."""
    assert _server is not None
    return _server
