"""Open the workbook in JupyterLab with the local AWS running: ``python -m helpers.lab``.

- starts the local AWS on 127.0.0.1:4566 (or reuses one there) and stops it on exit if it
  started it; kernels find it through ``$WORKBOOK_ENDPOINT_URL``;
- raises Jupyter's websocket message limit to 256 MiB: the FileUpload widget sends a file in
  one message, and the default 10 MiB limit drops larger files without a word;
- turns off JupyterLab's news and update pop-up (settings override in this environment).

Extra arguments go to ``jupyter lab`` (e.g. ``--no-browser --port 8899``; a
``--ServerApp.root_dir=...`` replaces the notebooks folder).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile

from ._config import ENDPOINT_ENV, ensure_local_aws, local_endpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEBSOCKET_MAX_MESSAGE_SIZE = 256 * 1024 * 1024
SETTINGS_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def write_settings_overrides(prefix: str = sys.prefix) -> str:
    """Lab reads overrides.json from the environment's share/jupyter/lab/settings folder."""
    folder = os.path.join(prefix, "share", "jupyter", "lab", "settings")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "overrides.json")
    current: dict = {}
    if os.path.exists(path):
        with open(path) as handle:
            current = json.load(handle)
    current.update(SETTINGS_OVERRIDES)
    with open(path, "w") as handle:
        json.dump(current, handle, indent=2)
    return path


ROOT_DIR_OPTIONS = ("--ServerApp.root_dir", "--root-dir", "--notebook-dir", "--ServerApp.notebook_dir")


def lab_command(extra: list[str]) -> list[str]:
    command = [
        sys.executable, "-m", "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.tornado_settings=" + json.dumps(
            {"websocket_max_message_size": WEBSOCKET_MAX_MESSAGE_SIZE}),
    ]
    # The notebooks folder, unless the caller chose another (Jupyter refuses two root dirs).
    if not any(arg.split("=", 1)[0] in ROOT_DIR_OPTIONS for arg in extra):
        command.append(f"--ServerApp.root_dir={os.path.join(ROOT, 'notebooks')}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command + extra


class _Terminated(Exception):
    """SIGTERM reached the launcher."""


def _wait_or_kill(lab: subprocess.Popen, timeout: float = 30) -> int:
    try:
        return lab.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        lab.kill()
        return lab.wait()


def main(argv: list[str] | None = None) -> int:
    extra = list(sys.argv[1:] if argv is None else argv)
    endpoint = local_endpoint()
    log_path = os.path.join(tempfile.gettempdir(), "s3wb-local-aws.log")
    started = ensure_local_aws(endpoint, log_path=log_path)
    print(f"The local AWS is {'started' if started['started'] else 'already running'} at {endpoint}.",
          flush=True)
    write_settings_overrides()
    env = {**os.environ, ENDPOINT_ENV: endpoint}
    lab = subprocess.Popen(lab_command(extra), env=env)

    def terminated(*_: object) -> None:
        raise _Terminated

    # Stopped with SIGTERM (a process manager, a test, `kill`): stop Lab and the local AWS this
    # launcher started too, instead of leaving them running without it.
    signal.signal(signal.SIGTERM, terminated)
    try:
        return lab.wait()
    except KeyboardInterrupt:
        lab.send_signal(signal.SIGINT)
        return _wait_or_kill(lab)
    except _Terminated:
        lab.terminate()
        return _wait_or_kill(lab)
    finally:
        if started["started"]:
            os.kill(started["pid"], signal.SIGTERM)
            print("Stopped the local AWS.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
