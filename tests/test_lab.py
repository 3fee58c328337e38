"""JupyterLab in this environment: the workbook's settings files (installed into the environment,
read by any Lab however it is started) give no news pop-up and a websocket limit that lets
FileUpload send files over 10 MiB; `python -m helpers.lab` (what `make lab` runs) only starts and
stops the local AWS around Lab, with the kernelspec of this environment."""
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import tomllib
import uuid

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "workbook-test-token"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(endpoint_url, folder):
    """`python -m helpers.lab` on a free port; returns (launcher process, base URL)."""
    port = free_port()
    env = {**os.environ, "WORKBOOK_ENDPOINT_URL": endpoint_url, "HOME": str(folder / "home"),
           "JUPYTER_RUNTIME_DIR": str(folder / "runtime")}
    log = open(folder / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers.lab", "--no-browser", f"--port={port}",
         f"--IdentityProvider.token={TOKEN}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/status", params={"token": TOKEN}, timeout=2).ok:
                return proc, base
        except requests.ConnectionError:
            time.sleep(0.5)
    proc.terminate()
    proc.wait(timeout=30)
    pytest.fail("JupyterLab did not start: " + (folder / "lab.log").read_text()[-2000:])


def start_plain_lab(folder, *extra):
    """``jupyter lab`` with only a host's flags (no browser, port, token, --allow-root as root):
    whatever the workbook needs must come from the installed settings files."""
    port = free_port()
    (folder / "root").mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(folder / "home"), "JUPYTER_RUNTIME_DIR": str(folder / "runtime")}
    command = [os.path.join(os.path.dirname(sys.executable), "jupyter"), "lab", "--no-browser",
               f"--port={port}", f"--ServerApp.token={TOKEN}", *extra]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = open(folder / "lab.log", "w")
    proc = subprocess.Popen(command, cwd=folder / "root", env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(f"{base}/api/status", params={"token": TOKEN}, timeout=2).ok:
                return proc, base
        except requests.ConnectionError:
            time.sleep(0.5)
    proc.terminate()
    proc.wait(timeout=30)
    pytest.fail("JupyterLab did not start: " + (folder / "lab.log").read_text()[-2000:])


@pytest.fixture(scope="module")
def lab(local_aws, tmp_path_factory):
    proc, base = start_lab(local_aws.endpoint_url, tmp_path_factory.mktemp("lab"))
    yield base
    proc.terminate()
    proc.wait(timeout=60)


@pytest.fixture(scope="module")
def plain_lab_and_root(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plain-lab")
    proc, base = start_plain_lab(folder)
    yield base, folder / "root"
    proc.terminate()
    proc.wait(timeout=60)


@pytest.fixture(scope="module")
def plain_lab(plain_lab_and_root):
    return plain_lab_and_root[0]


def test_stopping_the_launcher_with_sigterm_stops_jupyterlab_too(local_aws, tmp_path):
    """A process manager (or a test) stops `make lab` with SIGTERM: Lab must not outlive it."""
    proc, _ = start_lab(local_aws.endpoint_url, tmp_path)
    with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as handle:
        children = [int(pid) for pid in handle.read().split()]
    assert children, "the launcher runs JupyterLab as its child"
    proc.terminate()
    assert proc.wait(timeout=60) is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") and
                                               "zombie" not in _state(pid) for pid in children):
        time.sleep(0.2)
    assert not [pid for pid in children if os.path.exists(f"/proc/{pid}") and "zombie" not in _state(pid)]


def _state(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            return next((line for line in handle if line.startswith("State:")), "").lower()
    except OSError:
        return "gone zombie"


def test_lab_offers_the_kernel_installed_in_this_environment(lab):
    specs = requests.get(f"{lab}/api/kernelspecs", params={"token": TOKEN}).json()
    spec = specs["kernelspecs"]["python3"]["spec"]
    assert spec["argv"][0].startswith(sys.prefix)
    assert spec["argv"][0].startswith(os.path.join(ROOT, ".venv")) or not os.path.isdir(
        os.path.join(ROOT, ".venv"))


def test_a_plain_lab_has_the_news_and_update_popups_off(plain_lab):
    settings = requests.get(f"{plain_lab}/lab/api/settings/@jupyterlab/apputils-extension:notification",
                            params={"token": TOKEN}).json()
    # overrides.d/s3-upload-workbook.json changes the defaults Lab serves for the plugin's settings
    defaults = {k: v.get("default") for k, v in settings["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false"
    assert defaults["checkForUpdates"] is False


def test_a_websocket_message_over_10_mib_reaches_the_kernel_of_a_plain_lab(plain_lab):
    """What FileUpload does with a 12 MiB file: one websocket message. The default limit
    (10 MiB) would drop it and close the connection."""
    assert kernel_echo(plain_lab, 12 * 1024 * 1024) == 12 * 1024 * 1024


def test_without_the_installed_server_setting_the_same_message_is_dropped(tmp_path):
    """The same Lab with the setting emptied on its command line: Jupyter's default limit drops
    the message (so the test above passes because of the installed file)."""
    proc, base = start_plain_lab(tmp_path, "--ServerApp.tornado_settings={}")
    try:
        with pytest.raises(AssertionError, match="message too large"):
            kernel_echo(base, 12 * 1024 * 1024)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def kernel_echo(lab, size):
    """Send one execute_request of about ``size`` bytes over a kernel's websocket; the length
    the kernel printed."""
    from tornado.websocket import WebSocketClosedError, websocket_connect

    kernel = requests.post(f"{lab}/api/kernels", params={"token": TOKEN}, json={"name": "python3"}).json()
    url = lab.replace("http", "ws") + f"/api/kernels/{kernel['id']}/channels?token={TOKEN}"
    payload = "a" * size

    async def exchange():
        ws = await websocket_connect(url, max_message_size=64 * 1024 * 1024)
        session = uuid.uuid4().hex
        msg_id = uuid.uuid4().hex
        await ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": session,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": f"print(len('{payload}'))", "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
        while True:
            raw = await asyncio.wait_for(ws.read_message(), timeout=60)
            assert raw is not None, "the server closed the websocket: message too large"
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") == msg_id and msg["msg_type"] == "stream":
                ws.close()
                return msg["content"]["text"]

    try:
        try:
            return int(asyncio.run(exchange()).strip())
        except WebSocketClosedError:
            raise AssertionError("the server closed the websocket: message too large") from None
    finally:
        requests.delete(f"{lab}/api/kernels/{kernel['id']}", params={"token": TOKEN})


def test_a_root_dir_argument_replaces_the_notebooks_folder():
    """Jupyter refuses two root dirs: `make lab ARGS=--ServerApp.root_dir=...` (and the browser
    test, on a temporary copy of a notebook) must replace the default, not add a second one."""
    from helpers.lab import lab_command

    assert [a for a in lab_command([]) if "root_dir" in a] == [
        f"--ServerApp.root_dir={os.path.join(ROOT, 'notebooks')}"]
    assert [a for a in lab_command(["--ServerApp.root_dir=/tmp/x"]) if "root_dir" in a] == [
        "--ServerApp.root_dir=/tmp/x"]
    assert not [a for a in lab_command(["--notebook-dir", "/tmp/x"]) if "root_dir" in a]
    # the launcher passes no workbook setting: those are installed files
    assert not [a for a in lab_command([]) if "tornado" in a or "websocket" in a]


# --- the settings files ---------------------------------------------------------------------------

def test_the_workbook_settings_are_installed_where_jupyter_looks():
    """`make setup` (and binder/postBuild) put jupyter-config/ into the environment's prefix; that
    prefix's etc/jupyter and share/jupyter are among the paths Jupyter reads."""
    paths = json.loads(subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "jupyter"), "--paths", "--json"],
        capture_output=True, text=True, check=True).stdout)
    assert os.path.join(sys.prefix, "etc", "jupyter") in paths["config"]
    assert os.path.join(sys.prefix, "share", "jupyter") in paths["data"]
    with open(os.path.join(sys.prefix, "etc", "jupyter", "jupyter_server_config.json")) as handle:
        server = json.load(handle)
    assert server["ServerApp"]["tornado_settings"]["websocket_max_message_size"] == 256 * 1024 * 1024
    with open(os.path.join(sys.prefix, "share", "jupyter", "lab", "settings", "overrides.d",
                           "s3-upload-workbook.json")) as handle:
        overrides = json.load(handle)
    assert overrides["@jupyterlab/apputils-extension:notification"] == {
        "fetchNews": "false", "checkForUpdates": False}
    done = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "install_jupyter_config.py"),
                           "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_installer_keeps_settings_already_in_the_server_config(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import install_jupyter_config as installer

    target = tmp_path / "etc" / "jupyter" / "jupyter_server_config.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps({"ServerApp": {"tornado_settings": {"compress_response": True},
                                                "shutdown_no_activity_timeout": 600}}))
    assert sorted(installer.install(str(tmp_path), check=True)) == sorted(installer.files())
    assert sorted(installer.install(str(tmp_path))) == sorted(installer.files())
    server = json.loads(target.read_text())["ServerApp"]
    assert server["tornado_settings"] == {"compress_response": True,
                                         "websocket_max_message_size": 256 * 1024 * 1024}
    assert server["shutdown_no_activity_timeout"] == 600
    assert installer.install(str(tmp_path), check=True) == []


def test_pip_install_puts_the_same_files_in_the_same_places():
    """pyproject's data-files (what a non-editable `pip install .` installs) list every file of
    jupyter-config/, each to the folder it mirrors."""
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        data_files = tomllib.load(handle)["tool"]["setuptools"]["data-files"]
    listed = {os.path.join(folder, os.path.basename(path)): path
              for folder, paths in data_files.items() for path in paths}
    config = os.path.join(ROOT, "jupyter-config")
    mirrored = {os.path.relpath(os.path.join(d, n), config) for d, _, names in os.walk(config) for n in names}
    assert set(listed) == mirrored
    assert all(path == "jupyter-config/" + target for target, path in listed.items())



# --- Lab keeps each notebook and its text twin in step --------------------------------------------

def test_lab_reads_a_pair_from_either_file_and_saves_both(plain_lab_and_root):
    """Lab's jupytext with notebooks/jupytext.toml: opening the .ipynb gives the twin's cells
    (whichever is newer) with the stored outputs; saving from Lab writes both files."""
    import shutil

    import jupytext
    import nbformat

    base, root = plain_lab_and_root
    folder = root / "notebooks"
    folder.mkdir()
    shutil.copy(os.path.join(ROOT, "notebooks", "jupytext.toml"), folder)
    for ext in (".ipynb", ".py"):
        shutil.copy2(os.path.join(ROOT, "notebooks", "08_clean_up" + ext), folder)
    twin = folder / "08_clean_up.py"
    twin.write_text(twin.read_text().replace("## Parameters", "## Parameters, edited in the twin", 1))
    later = time.time() + 5
    os.utime(twin, (later, later))

    url = f"{base}/api/contents/notebooks/08_clean_up.ipynb"
    got = requests.get(url, params={"token": TOKEN, "content": 1})
    assert got.status_code == 200, got.text
    model = got.json()["content"]
    assert any("## Parameters, edited in the twin" in "".join(c["source"]) for c in model["cells"])
    assert any(c.get("outputs") for c in model["cells"] if c["cell_type"] == "code")

    model["cells"].insert(1, {"cell_type": "markdown", "id": "added-in-lab", "metadata": {},
                              "source": "Added in Lab."})
    saved = requests.put(url, params={"token": TOKEN}, json={"type": "notebook", "format": "json",
                                                             "content": model})
    assert saved.status_code == 200, saved.text
    assert "# Added in Lab." in twin.read_text()
    ipynb = nbformat.read(str(folder / "08_clean_up.ipynb"), as_version=4)
    assert ipynb.cells[1].source == "Added in Lab."
    assert [c.source for c in jupytext.read(str(twin)).cells] == [c.source for c in ipynb.cells]
