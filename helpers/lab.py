"""Open the workbook in JupyterLab with the local AWS running: ``python -m helpers.lab``.

It only starts the local AWS on 127.0.0.1:4566 (or reuses one there) before Lab, and stops it
when Lab ends if it started it; kernels find it through ``$WORKBOOK_ENDPOINT_URL``. Lab opens on
the notebooks folder (as root, with ``--allow-root``, which Jupyter asks for).

The settings the workbook needs are files this package installs, read by any Lab in the
environment however it is started (``jupyter lab``, Binder, JupyterHub):
``etc/jupyter/jupyter_server_config.d/s3-upload-workbook.json`` (the websocket limit of 256 MiB
that FileUpload needs for files over 10 MiB) and
``share/jupyter/lab/settings/overrides.d/s3-upload-workbook.json`` (no news or update pop-up).

Extra arguments go to ``jupyter lab`` (e.g. ``--no-browser --port 8899``; a
``--ServerApp.root_dir=...`` replaces the notebooks folder).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile

from ._config import ENDPOINT_ENV, ensure_local_aws, local_endpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT_DIR_OPTIONS = ("--ServerApp.root_dir", "--root-dir", "--notebook-dir", "--ServerApp.notebook_dir")


def lab_command(extra: list[str]) -> list[str]:
    command = [sys.executable, "-m", "jupyterlab"]
    # The notebooks folder, unless the caller chose another (Jupyter refuses two root dirs).
    if not any(arg.split("=", 1)[0] in ROOT_DIR_OPTIONS for arg in extra):
        command.append(f"--ServerApp.root_dir={os.path.join(ROOT, 'notebooks')}")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
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
    # Tied to this launcher too: if it is killed outright (SIGKILL), the local AWS still goes.
    started = ensure_local_aws(endpoint, log_path=log_path, exit_with=os.getpid())
    print(f"The local AWS is {'started' if started['started'] else 'already running'} at {endpoint}.",
          flush=True)
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
