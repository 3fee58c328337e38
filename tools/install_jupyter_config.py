"""Install the workbook's Jupyter settings into an environment: ``jupyter-config/`` mirrors the
environment's prefix, and each JSON file there is merged into the same place under ``sys.prefix``.

    python tools/install_jupyter_config.py            # install (make setup and binder/postBuild run it)
    python tools/install_jupyter_config.py --check    # exit 1 and name the files missing a setting

- ``etc/jupyter/jupyter_server_config.json``: every Jupyter server started in the environment
  (``jupyter lab``, JupyterHub's single-user server, Binder) lets websocket messages reach
  256 MiB, so the FileUpload widget can send files over the default 10 MiB. (Jupyter server reads
  only extension switches from ``jupyter_server_config.d/``, so this one file it is; settings
  already in it are kept.)
- ``share/jupyter/lab/settings/overrides.d/s3-upload-workbook.json``: JupyterLab's news and
  update pop-up is off.

``pip install .`` installs the same files (``[tool.setuptools.data-files]`` in pyproject.toml);
an editable install (``pip install -e .``) does not, hence this script.
"""
from __future__ import annotations

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(ROOT, "jupyter-config")


def files() -> list[str]:
    """The settings files, relative to the prefix they go to."""
    found = []
    for folder, _, names in os.walk(SOURCE):
        found += [os.path.relpath(os.path.join(folder, name), SOURCE) for name in names]
    return sorted(found)


def merged(current: dict, wanted: dict) -> dict:
    """``current`` with every key of ``wanted`` set (objects merged key by key)."""
    result = dict(current)
    for key, value in wanted.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def install(prefix: str = sys.prefix, *, check: bool = False) -> list[str]:
    """Merge the settings into ``prefix`` (or, with ``check``, only compare): the files that were
    missing a setting."""
    stale = []
    for relative in files():
        with open(os.path.join(SOURCE, relative)) as handle:
            wanted = json.load(handle)
        target = os.path.join(prefix, relative)
        current = {}
        if os.path.exists(target):
            with open(target) as handle:
                current = json.load(handle)
        result = merged(current, wanted)
        if result == current:
            continue
        stale.append(relative)
        if not check:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as handle:
                json.dump(result, handle, indent=2)
                handle.write("\n")
    return stale


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = install(check=check)
    for relative in stale:
        print(f"{'missing a setting' if check else 'installed'}: {os.path.join(sys.prefix, relative)}")
    if check and stale:
        print("run `python tools/install_jupyter_config.py` in this environment", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
