"""One local AWS per pytest process (each xdist worker has its own), on a free loopback port.

It starts in pytest_configure, before any notebook kernel, so that notebooks run by nbval find
it through $WORKBOOK_ENDPOINT_URL exactly as a learner's kernel finds the one `make lab` starts.

Notebooks run as a learner with least privilege would: an IAM user holding exactly
``helpers.workbook_policy()``, created as root in the local AWS the notebook talks to, whose keys
reach the kernel as $WORKBOOK_ACCESS_KEY_ID / $WORKBOOK_SECRET_ACCESS_KEY (``as_learner``; nbval's
kernels get them from the hook below, papermill's from tests/test_notebooks.py).
"""
import contextlib
import os
import re
import time

import pytest

# Never let boto3 look for credentials on an instance metadata address: loopback only.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

_server = None


def _is_xdist_controller(config) -> bool:
    return not hasattr(config, "workerinput") and (config.getoption("numprocesses", None) or 0) != 0


# AWS's waits at 1/20 of their length in the tests (the local AWS's own default is 1/10): the
# notebooks wait as on AWS, only shorter. A test that must see inside a window (a refusal while
# a resource is still InProgress, say) sets its own scale with monkeypatch.
SUITE_TIME_SCALE = "0.05"


def pytest_configure(config):
    global _server
    _register_reliability_markers(config)
    os.environ.setdefault("LOCALAWS_TIME_SCALE", SUITE_TIME_SCALE)
    if _is_xdist_controller(config):
        return
    # nbval's kernels listen on Unix sockets: a TCP port picked for a kernel can be taken by
    # another process of the suite before the kernel binds it (tests/kernel_transport.py).
    import nbval.kernel

    from tests.kernel_transport import KernelOverIpc
    nbval.kernel.KernelManager = KernelOverIpc
    import localaws as local

    _server = local.start(port=0)
    os.environ["WORKBOOK_ENDPOINT_URL"] = _server.endpoint_url


def pytest_unconfigure(config):
    if _server is not None:
        _server.stop()


LEARNER = "s3wb-ci-learner"
_learner_keys: dict = {}


def learner_environment(endpoint_url):
    """$WORKBOOK_ACCESS_KEY_ID and $WORKBOOK_SECRET_ACCESS_KEY of the CI learner in the local AWS
    at ``endpoint_url``: created as root (again, when a reset of the local AWS dropped it), and
    waited for until its policy is in force (IAM is eventually consistent, here as on AWS)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    import helpers as wb

    def client(service, keys):
        return boto3.client(service, endpoint_url=endpoint_url, region_name="us-east-1",
                            aws_access_key_id=keys[0], aws_secret_access_key=keys[1],
                            config=Config(retries={"max_attempts": 1}))

    keys = _learner_keys.get("keys")
    if keys:
        try:
            client("sts", keys).get_caller_identity()
        except ClientError:  # the local AWS was reset: the user is gone
            keys = None
    if not keys:
        root = client("iam", ("test", "test"))
        created = wb.create_workbook_user(None, LEARNER, iam=root)
        keys = (created["access_key_id"], created["secret_access_key"])
        _learner_keys["keys"] = keys
        deadline = time.monotonic() + 60
        while True:  # ListAllMyBuckets is in the policy: it works once the policy does
            try:
                client("s3", keys).list_buckets()
                break
            except ClientError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    return {"WORKBOOK_ACCESS_KEY_ID": keys[0], "WORKBOOK_SECRET_ACCESS_KEY": keys[1]}


@contextlib.contextmanager
def environment(values):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def as_learner():
    """``with as_learner(endpoint_url):`` kernels started inside run as the CI learner."""
    return lambda endpoint_url: environment(learner_environment(endpoint_url))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_setup(item):
    """nbval starts a notebook's kernel while setting up its first cell: it starts as the CI
    learner (the kernel keeps the environment it started with)."""
    if type(item).__module__.startswith("nbval") and _server is not None:
        with environment(learner_environment(_server.endpoint_url)):
            yield
    else:
        yield


@pytest.fixture(scope="session")
def local_aws():
    """The running local AWS (localaws.server.Server)."""
    assert _server is not None
    return _server


# --- how xdist shares the tests out ----------------------------------------------------------------
# Tests go one by one to whichever worker is free, except where a file's tests must stay
# together: the cells of a notebook (nbval runs them in order, in one kernel) and the tests of a
# file that share a module- or class-scoped fixture (an API, a JupyterLab, a browser, built once
# per file rather than once per worker). The controller never collects, so it tells those files
# by their text. (xdist's own `--dist loadgroup` does the same from marks, but it sets a node id
# attribute that pytest 9 no longer reads, so its groups fall apart.)
SHARED_STATE = re.compile(r'scope="(module|class)"|conformance_kit')
# What takes longest starts first, so that the run does not end with one worker finishing a
# notebook alone while the others are idle (most tests take a second; these take up to a
# minute, and a file kept together, such as the browser's, adds its tests up). Earlier = sooner.
START_FIRST = (
    "tests/test_browser.py",  # a JupyterLab and a browser, each pattern notebook in turn
    "tests/test_upload_page.py",  # notebook 05 in Lab, then its web page
    # each notebook under papermill, then under nbval: the ones with CloudFront and Cognito first
    *(f"tests/test_notebooks.py::test_notebook_{n}" for n in ("06", "07", "08", "05", "04")),
    "tests/test_notebooks.py",
    "notebooks/07", "notebooks/06", "notebooks/04", "notebooks/05",
    "notebooks/",
    "tests/test_lab.py",
    "tests/test_load.py",
    "tests/clients/",
    # single tests of ten seconds or more: not left for the end, where they would keep one
    # worker busy after the others are done (a file kept together is one unit anyway)
    "tests/test_bad_inputs.py::test_keys_over_1024",
    "tests/test_streaming.py::test_256_mib",
    "tests/test_security_review.py::test_stored_notebook_outputs_show_no_secrets",
    "tests/test_cloudfront_helpers.py",
    "tests/test_workbook_tools.py::test_delete_resources_orders",
    "tests/test_as_strict_as_aws.py",
)


def start_order(scope: str, tests: int, position: int) -> tuple:
    """Sort key of a scope (a file kept together, or one test): START_FIRST's order, then
    bigger groups first, then as collected."""
    rank = next((i for i, start in enumerate(START_FIRST) if scope.startswith(start)), len(START_FIRST))
    return (rank, -tests, position)


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    root = config.rootpath
    together: dict[str, bool] = {}

    def keeps_together(file: str) -> bool:
        if file not in together:
            path = root / file
            together[file] = file.endswith(".ipynb") or (
                path.suffix == ".py" and path.is_file()
                and SHARED_STATE.search(path.read_text(encoding="utf-8")) is not None)
        return together[file]

    class FileWhereShared(LoadScopeScheduling):
        _sorted = False

        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            return file if keeps_together(file) else nodeid

        def _assign_work_unit(self, node):
            # xdist hands out the queue's first unit: put the one to start next there.
            if not self._sorted:
                units = list(self.workqueue.items())
                order = sorted(range(len(units)),
                               key=lambda i: start_order(units[i][0], len(units[i][1]), i))
                self.workqueue.clear()
                self.workqueue.update(units[i] for i in order)
                self._sorted = True
            super()._assign_work_unit(node)

    return FileWhereShared(config, log)


# --- reliability counts -----------------------------------------------------------------------
# Tests marked bad_input, fault, load or fuzz are counted, and the terminal summary says how many
# bad inputs were tried, faults injected, uploads made under load and fuzz examples run. A test
# adds to a count with the `reliability` fixture (e.g. reliability("load", 64)); a marked test that
# records nothing counts 1. The counts travel in each report's user_properties, so the xdist
# controller adds up what every worker ran.
RELIABILITY = {"bad_input": "bad inputs tried", "fault": "faults injected",
               "load": "uploads under load", "fuzz": "fuzz examples"}
_counts = dict.fromkeys(RELIABILITY, 0)


def _register_reliability_markers(config):
    for marker, meaning in RELIABILITY.items():
        config.addinivalue_line("markers", f"{marker}: counted in the summary line ({meaning})")


@pytest.fixture
def reliability(request):
    """reliability(kind, n): add n to the summary count of kind (bad_input, fault, load, fuzz)."""
    def add(kind, n=1):
        assert kind in RELIABILITY, kind
        request.node.user_properties.append((f"reliability:{kind}", n))
    return add


_not_run: set = set()


def pytest_runtest_logreport(report):
    # Counted from the teardown report: it carries every user property the test recorded (also
    # those recorded by fixtures' teardown). A test whose setup failed or skipped tried nothing.
    if report.when == "setup" and not report.passed:
        _not_run.add(report.nodeid)
    if report.when != "teardown":
        return
    if report.nodeid in _not_run:
        _not_run.discard(report.nodeid)
        return
    recorded = [(name.split(":", 1)[1], n) for name, n in report.user_properties
                if isinstance(name, str) and name.startswith("reliability:")]
    if not recorded:
        recorded = [(kind, 1) for kind in RELIABILITY if kind in report.keywords]
    for kind, n in recorded:
        _counts[kind] += int(n)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput") or not any(_counts.values()):
        return
    terminalreporter.write_line(
        "reliability: " + ", ".join(f"{_counts[kind]} {meaning}" for kind, meaning in RELIABILITY.items()))
