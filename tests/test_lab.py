"""`python -m helpers.lab` (what `make lab` runs): Lab starts with the kernelspec of this
environment, no news pop-up, and a websocket limit that lets FileUpload send files over 10 MiB."""
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
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


@pytest.fixture(scope="module")
def lab(local_aws, tmp_path_factory):
    proc, base = start_lab(local_aws.endpoint_url, tmp_path_factory.mktemp("lab"))
    yield base
    proc.terminate()
    proc.wait(timeout=60)


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


def test_lab_news_and_update_popups_are_off(lab):
    settings = requests.get(f"{lab}/lab/api/settings/@jupyterlab/apputils-extension:notification",
                            params={"token": TOKEN}).json()
    # overrides.json changes the defaults Lab serves for the plugin's settings
    defaults = {k: v.get("default") for k, v in settings["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false"
    assert defaults["checkForUpdates"] is False


def test_a_websocket_message_over_10_mib_reaches_the_kernel(lab):
    """What FileUpload does with a 12 MiB file: one websocket message. The default limit
    (10 MiB) would drop it and close the connection."""
    from tornado.websocket import websocket_connect

    kernel = requests.post(f"{lab}/api/kernels", params={"token": TOKEN}, json={"name": "python3"}).json()
    url = lab.replace("http", "ws") + f"/api/kernels/{kernel['id']}/channels?token={TOKEN}"
    payload = "a" * (12 * 1024 * 1024)

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
        assert asyncio.run(exchange()).strip() == str(len(payload))
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
