"""One source of truth for versions: pyproject.toml; environment.yml only installs the package."""
import json
import os
import re
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pip_section(text):
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"\s*-\s*pip:\s*$", line))
    indent = None
    items = []
    for line in lines[start + 1:]:
        match = re.match(r"(\s*)-\s*(.+?)\s*$", line)
        if not match or (indent is not None and len(match.group(1)) != indent):
            break
        indent = len(match.group(1))
        items.append(match.group(2))
    return items


def test_environment_yml_installs_the_package_and_copies_no_versions():
    """pyproject.toml is the one list: environment.yml installs the package (which brings its
    pinned dependencies) and repeats none of them, so the two cannot drift."""
    with open(os.path.join(ROOT, "environment.yml")) as handle:
        listed = pip_section(handle.read())
    assert listed == ["-e ."], (
        "environment.yml's pip section should be only `-e .`: versions live in pyproject.toml")


def test_environment_yml_pins_the_python_pyproject_requires():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        requires = tomllib.load(handle)["project"]["requires-python"]
    with open(os.path.join(ROOT, "environment.yml")) as handle:
        python = re.search(r"-\s*python=(\d+\.\d+)", handle.read()).group(1)
    assert requires == ">=3.11" and python == "3.11"


# --- dependencies by role -----------------------------------------------------------------------

def _name(text):
    return re.sub(r"[-_.]+", "-", text).lower()


def runtime_closure(root="s3-upload-workbook"):
    """The installed distributions a plain `pip install .` brings: the requirements of the package
    without extras, then theirs (with the extras asked for, e.g. moto[server]), transitively."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen, todo = set(), [(root, frozenset())]
    while todo:
        name, extras = todo.pop()
        key = (_name(name), extras)
        if key in seen:
            continue
        seen.add(key)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # a requirement whose marker excluded it from this environment
        for line in requirements:
            requirement = Requirement(line)
            wanted = any(requirement.marker is None or requirement.marker.evaluate({"extra": extra})
                         for extra in (extras or {""}))
            if wanted:
                todo.append((requirement.name, frozenset(requirement.extras)))
    return {name for name, _ in seen}


def test_the_runtime_requirements_bring_no_test_tools():
    """A learner's, Binder's or a workshop's `pip install .` installs no test runner and no browser
    driver: those are in the `test` extra."""
    closure = runtime_closure()
    assert {"boto3", "jupyterlab", "jupytext", "moto", "werkzeug", "ipywidgets"} <= closure
    assert not closure & {"pytest", "hypothesis", "playwright", "pytest-xdist", "nbval", "import-linter"}
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        test_extra = tomllib.load(handle)["project"]["optional-dependencies"]["test"]
    assert {"pytest", "hypothesis", "playwright"} <= {_name(re.split(r"[=<>\[]", r)[0]) for r in test_extra}


def _third_party_imports(folder):
    import ast
    import sys

    found = {}
    for directory, _, names in os.walk(os.path.join(ROOT, folder)):
        for name in names:
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            with open(path) as handle:
                tree = ast.parse(handle.read(), path)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    # A function's sibling module (helpers/functions/x.py) goes into its zip with it.
                    sibling = os.path.isfile(os.path.join(directory, top + ".py"))
                    if top not in sys.stdlib_module_names and top not in ("helpers", "localaws") \
                            and not sibling:
                        found.setdefault(top, os.path.relpath(path, ROOT))
    return found


def test_every_module_the_code_imports_comes_with_the_runtime_requirements():
    """Every third-party module imported anywhere in helpers/ and localaws/ belongs to a declared
    runtime dependency or to what those bring (none is there only thanks to the test extra)."""
    from importlib import metadata

    closure = runtime_closure()
    owners = metadata.packages_distributions()
    imports = {**_third_party_imports("helpers"), **_third_party_imports("localaws")}
    assert {"boto3", "moto", "werkzeug"} <= set(imports)
    missing = {module: where for module, where in imports.items()
               if not {_name(d) for d in owners.get(module, [])} & closure}
    assert not missing, f"imported but not brought by [project].dependencies: {missing}"


def test_importing_helpers_loads_neither_moto_nor_werkzeug():
    """A learner's `import helpers` stays light: the emulator (moto, werkzeug) loads only in the
    process that runs the local AWS."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import sys, helpers; print(sorted({m.split('.')[0] for m in sys.modules} "
                               "& {'moto', 'werkzeug', 'localaws'}))"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- binder/ (repo2docker) ----------------------------------------------------------------------

BINDER_COMMAND = """
import json, os, time, urllib.request
url = os.environ["WORKBOOK_ENDPOINT_URL"] + "/_aws/health"
deadline = time.monotonic() + 60
health = None
while health is None and time.monotonic() < deadline:
    try:
        health = json.load(urllib.request.urlopen(url, timeout=2))
    except OSError:
        time.sleep(0.2)
children = []
for task in os.listdir("/proc/self/task"):
    with open(f"/proc/self/task/{task}/children") as handle:
        children += [int(pid) for pid in handle.read().split()]
print(json.dumps({"pid": os.getpid(), "health": health, "children": children}))
"""


def test_binder_start_launches_the_local_aws_then_runs_the_given_command(tmp_path):
    """repo2docker runs `binder/start <the notebook server's command>`: the local AWS starts in the
    background on $WORKBOOK_ENDPOINT_URL's port, answers /_aws/health, and the command replaces the
    script (exec, same pid); the local AWS keeps running after it (it lives as long as the session)."""
    import signal
    import socket
    import subprocess
    import sys
    import time

    import localaws

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "WORKBOOK_ENDPOINT_URL": endpoint, "TMPDIR": str(tmp_path),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    proc = subprocess.Popen([os.path.join(ROOT, "binder", "start"), "python", "-c", BINDER_COMMAND],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=120)
    started = [int(pid) for pid in re.findall(r'"children": \[([\d, ]*)\]', out)[0].replace(",", " ").split()]
    try:
        report = json.loads(out)
        assert proc.returncode == 0
        assert report["pid"] == proc.pid, "binder/start must exec the command"
        assert report["health"]["service"] == localaws.SERVICE_NAME
        assert len(started) == 1
        time.sleep(1)
        assert localaws.probe(endpoint), "the local AWS keeps running after the command"
        assert "running at" in (tmp_path / "s3wb-local-aws.log").read_text()
    finally:
        for pid in started:
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while localaws.probe(endpoint) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert localaws.probe(endpoint) is None


def test_binder_builds_the_python_the_package_asks_for_and_installs_the_settings():
    with open(os.path.join(ROOT, "binder", "runtime.txt")) as handle:
        assert handle.read().strip() == "python-3.11"
    with open(os.path.join(ROOT, "binder", "postBuild")) as handle:
        steps = [line for line in handle.read().splitlines() if line and not line.startswith("#")]
    assert steps == ["set -euo pipefail", "python -m pip install --no-cache-dir -e .",
                     "python tools/install_jupyter_config.py"]
    for name in ("start", "postBuild"):
        assert os.access(os.path.join(ROOT, "binder", name), os.X_OK), f"binder/{name} must be executable"
