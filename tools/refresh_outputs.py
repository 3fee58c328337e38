"""Run notebooks top to bottom against a fresh local AWS and store their outputs in place.

    python tools/refresh_outputs.py notebooks/01_api_gateway_s3_proxy.ipynb

nbval then checks later runs against these outputs (tests/sanitize.cfg masks ids, ports, times).
The notebooks run as the tests run them: signed in as an IAM user holding exactly
helpers.workbook_policy() (conftest.py's CI learner, made here the same way), not as the root.
Each notebook's text twin is synced first (an edit made there is what runs) and again after (the
cells are the same, so the twin is unchanged; JupyterLab's jupytext opens a pair whose .ipynb is
the newer file as long as both hold the same cells).
"""
from __future__ import annotations

import os
import re
import sys

import nbclient
import nbformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def refresh(paths: list[str]) -> None:
    import localaws as local
    from navlinks import paired, sync

    server = local.start(port=0)
    os.environ["WORKBOOK_ENDPOINT_URL"] = server.endpoint_url
    os.environ.update(as_learner(server.endpoint_url))
    try:
        for path in paths:
            pairs = paired(os.path.dirname(os.path.abspath(path)))
            if pairs:
                sync(path)
            nb = nbformat.read(path, as_version=4)
            client = nbclient.NotebookClient(
                nb, kernel_name="python3", timeout=600,
                resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
            client.execute()
            nbformat.write(nb, path)
            if pairs:
                sync(path)
            print(f"refreshed {path}")
    finally:
        server.stop()


LEARNER = "s3wb-ci-learner"  # the same name as conftest.py's, so stored outputs match the tests'


def as_learner(endpoint_url: str) -> dict[str, str]:
    """The keys of an IAM user holding exactly workbook_policy(), created as root, once its
    policy is in force; as $WORKBOOK_ACCESS_KEY_ID / $WORKBOOK_SECRET_ACCESS_KEY."""
    import time

    import boto3
    from botocore.exceptions import ClientError

    import helpers as wb

    def client(service, key, secret):
        return boto3.client(service, endpoint_url=endpoint_url, region_name="us-east-1",
                            aws_access_key_id=key, aws_secret_access_key=secret)

    keys = wb.create_workbook_user(None, LEARNER, iam=client("iam", "test", "test"))
    deadline = time.monotonic() + 60
    while True:  # IAM is eventually consistent: wait until the new policy applies
        try:
            client("s3", keys["access_key_id"], keys["secret_access_key"]).list_buckets()
            break
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return {"WORKBOOK_ACCESS_KEY_ID": keys["access_key_id"],
            "WORKBOOK_SECRET_ACCESS_KEY": keys["secret_access_key"]}


if __name__ == "__main__":
    refresh(sys.argv[1:] or sorted(
        os.path.join(ROOT, "notebooks", name) for name in os.listdir(os.path.join(ROOT, "notebooks"))
        if re.fullmatch(r"\d{2}_.+\.ipynb", name)))
