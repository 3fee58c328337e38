"""A real browser: JupyterLab (a plain ``jupyter lab`` in this environment, whose settings come from
the files the workbook installs) driven by Playwright in Debian's chromium.

For each pattern notebook: open a copy (fresh name prefix, this test's local AWS, no stored
outputs) with Lab's "File > Open from Path…" in the one Lab page the tests share (a page load of
Lab costs Chromium about 5 s of CPU), run the cells up to the picker with Lab's "Run All Above Selected Cell", choose a
generated file through the browser's file chooser, run the cells up to Verify, check the object
in the bucket with boto3, keep a screenshot, then run the Clean up section ("Run Selected Cell and
All Below" on its heading), check nothing is left, and close the notebook with "File > Close
and Shut Down Notebook…". The Try it cells between Verify and Clean up
are left out here: papermill and nbval run them (tests/test_notebooks.py, the .ipynb files), and
the picker is what only a browser can test.

Screenshots go to ``$WORKBOOK_ARTIFACTS`` or ``tests/artifacts/`` (git ignores it), in
``browser/``. The browser is ``/usr/bin/chromium`` (``$WORKBOOK_CHROMIUM`` to change it):
``make test`` and ``.ci/run`` install it with apt; Playwright never downloads one.
"""
import hashlib
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import time
import uuid

import nbformat
import pytest
import requests

import helpers as wb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "workbook-browser-token"
CHROMIUM = os.environ.get("WORKBOOK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.path.join(os.environ.get("WORKBOOK_ARTIFACTS") or os.path.join(ROOT, "tests", "artifacts"),
                         "browser")
# The machine's network is closed: without these Chromium keeps calling home and fills the log.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
    "--metrics-recording-only", "--password-store=basic", "--use-mock-keychain",
]
# Test-only Lab user settings: every cell in the page (cells are found by index), and no
# dialog when the page closes with unsaved changes.
USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}
STEP_TIMEOUT = 120
# notebook -> size of the picked file (03 needs more than three 5 MiB parts: it stops after two)
NOTEBOOKS = {
    "01_api_gateway_s3_proxy.ipynb": 3 * 1024 * 1024 + 17,
    "02_presigned_urls.ipynb": 3 * 1024 * 1024 + 29,
    "03_multipart_uploads.ipynb": 16 * 1024 * 1024 + 5,
    "04_cloudfront_lambda_edge.ipynb": 3 * 1024 * 1024 + 41,
    # signs a learner in to a Cognito user pool above the picker; uploads under uploads/{sub}/
    "06_authenticating_uploaders.ipynb": 3 * 1024 * 1024 + 43,
}
VERIFIED = re.compile(r"identical( file)?: True")
# The cells of the notebook on show: Lab keeps other open notebooks in the page, hidden.
CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chromium():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"The browser test needs Debian's chromium at {CHROMIUM}, and it is not there. Install "
            "it as root with `sh tools/ensure_chromium.sh` (or `apt-get install chromium`); "
            "`make test` and `.ci/run` do this themselves when they can. Another build: set "
            "$WORKBOOK_CHROMIUM to its path. (Never `playwright install`.)", pytrace=False)
    return CHROMIUM


def plain_jupyter_lab(root, home, runtime, log_path, env=None):
    """``jupyter lab`` as anyone starts it in this environment: only the flags a host passes
    (no browser, a port, a token, as root --allow-root), no workbook setting on the command line,
    so the websocket limit and the news pop-up come from the installed settings files.
    Returns (process, base URL, open log file)."""
    port = free_port()
    env = {**os.environ, "HOME": str(home), "JUPYTER_RUNTIME_DIR": str(runtime), **(env or {})}
    command = [os.path.join(os.path.dirname(sys.executable), "jupyter"), "lab", "--no-browser",
               f"--port={port}", f"--ServerApp.token={TOKEN}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = open(log_path, "w")
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{base}/api/status", params={"token": TOKEN}, timeout=2).ok:
                return proc, base, log
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
            pytest.fail("JupyterLab did not start: " + pathlib.Path(log_path).read_text()[-2000:])
        time.sleep(0.5)


@pytest.fixture(scope="module")
def lab(local_aws, tmp_path_factory):
    """A plain ``jupyter lab`` on a temporary folder of notebooks (each test passes its local AWS
    to its notebook as a parameter; ``make lab``'s launcher is tested in test_lab.py)."""
    root = tmp_path_factory.mktemp("lab-root")
    home = tmp_path_factory.mktemp("lab-home")
    for name, values in USER_SETTINGS.items():
        path = home / ".jupyter" / "lab" / "user-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    proc, base, log = plain_jupyter_lab(
        root, home, tmp_path_factory.mktemp("lab-runtime"), tmp_path_factory.mktemp("lab-log") / "lab.log",
        env={"WORKBOOK_ENDPOINT_URL": local_aws.endpoint_url})
    yield {"base": base, "root": root}
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("chromium-home")
    profile = tmp_path_factory.mktemp("chromium-profile")
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_CACHE_HOME": str(home / ".cache")}
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=chromium, headless=True, args=CHROMIUM_ARGS, env=env,
            viewport={"width": 1280, "height": 1000}, accept_downloads=False)
        yield context
        context.close()


@pytest.fixture(scope="module")
def lab_page(browser, lab):
    """One JupyterLab page for the module's tests: each opens its notebook in it and closes it."""
    page = browser.new_page()
    page.goto(f"{lab['base']}/lab?token={TOKEN}&reset")
    page.locator("#jp-main-dock-panel").wait_for(timeout=60_000)
    yield page
    page.close()


def open_notebook(page, name, cell_count):
    """Open ``name`` (a path under Lab's root) as a learner can: File > Open from Path…; returns
    the locator of its cells once they are all in the page and its kernel is idle."""
    menu(page, "File", "Open from Path…")
    page.locator(".jp-Dialog input").fill(name)
    page.keyboard.press("Enter")
    page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel").filter(
        has_text=re.compile(rf"^{re.escape(name)}$")).wait_for(timeout=60_000)
    cells = notebook_cells(page, cell_count)
    assert cells.count() == cell_count
    return cells


def notebook_cells(page, cell_count):
    """The locator of the cells of the notebook on show, once ``cell_count`` of them are in the
    page and its kernel is idle."""
    cells = page.locator(CELLS)
    cells.nth(cell_count - 1).wait_for(state="attached", timeout=60_000)
    wait_ran(page, [], "kernel start")
    return cells


def close_notebook(page):
    """File > Close and Shut Down Notebook…, answered Ok (best effort: a failed test may have left
    Lab in any state)."""
    try:
        menu(page, "File", "Close and Shut Down Notebook…")
        page.locator(".jp-Dialog .jp-mod-accept").click(timeout=10_000)
        page.locator(".jp-Dialog").wait_for(state="detached", timeout=10_000)
    except Exception as error:
        print(f"could not close the notebook: {error}")


def notebook_copy(name, folder, *, endpoint_url, prefix):
    """The notebook without stored outputs, with this test's endpoint and prefix as parameters."""
    nb = nbformat.read(os.path.join(ROOT, "notebooks", name), as_version=4)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    parameters = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    parameters.source += f"\nendpoint_url = {endpoint_url!r}\nname_prefix = {prefix!r}"
    nbformat.write(nb, os.path.join(folder, name))
    return nb


def landmarks(nb):
    """Indexes of the picker cell, the choose_file cell, the Verify cell and the Clean up heading."""
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    picker = next(i for i in code if "wb.show_picker(" in nb.cells[i].source)
    choose = next(i for i in code if i > picker and "wb.choose_file(" in nb.cells[i].source)
    verify = next(i for i in code if i > choose and re.search(r'print\("identical', nb.cells[i].source))
    clean_up = next(i for i, c in enumerate(nb.cells)
                    if i > verify and c.cell_type == "markdown" and c.source.startswith("## Clean up"))
    return code, picker, choose, verify, clean_up


STATE_JS = """(indexes) => {
  const cells = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')];
  const prompt = (c) => (c && c.querySelector('.jp-InputPrompt') || {textContent: ''}).textContent.trim();
  const status = [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')]
    .map((e) => e.textContent).find((t) => t.includes(' | ')) || '';
  const errors = cells.map((c) => [...c.querySelectorAll('.jp-OutputArea-output')]
    .map((o) => o.textContent).join('\\n')).filter((t) => t.includes('Traceback (most recent call last)'));
  const dialogs = [...document.querySelectorAll('.jp-Dialog')].map((d) => d.textContent);
  return {count: cells.length, prompts: indexes.map((i) => prompt(cells[i])),
          busy: cells.some((c) => prompt(c) === '[*]:'), status, errors, dialogs};
}"""


# Scroll the notebook so that an element ends a little above the bottom of the window.
SHOW_AT_BOTTOM = """(e) => {
  e.scrollIntoView({block: 'end'});
  const scroller = e.closest('.jp-WindowedPanel-outer');
  if (scroller) scroller.scrollTop += 40;
}"""


def wait_ran(page, indexes, what):
    """Until every cell in ``indexes`` has an execution count and the status bar says Idle."""
    deadline = time.monotonic() + STEP_TIMEOUT
    state = {}
    while time.monotonic() < deadline:
        state = page.evaluate(STATE_JS, list(indexes))
        if state["errors"]:
            raise AssertionError(f"{what}: a cell failed:\n" + state["errors"][0][-3000:])
        if state["dialogs"]:
            raise AssertionError(f"{what}: a dialog is in the way: {state['dialogs']}")
        done = all(re.fullmatch(r"\[\d+\]:", p) for p in state["prompts"])
        if done and not state["busy"] and state["status"].endswith("| Idle"):
            return state
        time.sleep(0.25)
    raise AssertionError(f"{what}: cells not run after {STEP_TIMEOUT} s: {state}")


def output_text(page, index):
    return page.locator(CELLS).nth(index).locator(".jp-OutputArea").inner_text()


def select(page, first, last=None):
    """Select cells ``first``..``last`` in command mode, as a mouse does: click, shift+click."""
    cells = page.locator(CELLS)
    cells.nth(first).locator(".jp-InputPrompt").click()
    if last is not None and last != first:
        cells.nth(last).locator(".jp-InputPrompt").click(modifiers=["Shift"])


def menu(page, top, item):
    page.locator(".lm-MenuBar-itemLabel").get_by_text(top, exact=True).click()
    page.locator(".lm-Menu-itemLabel").get_by_text(item, exact=True).click()


def bucket_objects(aws, prefix):
    s3 = aws("s3")
    found = {}
    for bucket in s3.list_buckets()["Buckets"]:
        if bucket["Name"].startswith(prefix):
            for item in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
                found[(bucket["Name"], item["Key"])] = item["Size"]
    return found


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_pick_a_file_in_the_browser_and_upload_it(name, lab_page, lab, local_aws, aws, tmp_path):
    number = name[:2]
    prefix = f"br{number}-{uuid.uuid4().hex[:6]}"
    nb = notebook_copy(name, lab["root"], endpoint_url=local_aws.endpoint_url, prefix=prefix)
    code, picker, choose, verify, clean_up = landmarks(nb)
    picked = pathlib.Path(wb.make_sample_file(
        tmp_path / f"picked-{number}-{uuid.uuid4().hex[:6]}.bin", NOTEBOOKS[name], seed=int(number)))
    digest = wb.sha256_file(picked)
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, name.replace(".ipynb", ".png"))
    for stale in (shot, shot.replace(".png", "-failed.png")):
        if os.path.exists(stale):
            os.remove(stale)
    page = lab_page
    started, times = time.monotonic(), {}
    try:
        cells = open_notebook(page, name, len(nb.cells))
        times["loaded"] = time.monotonic() - started

        # Everything up to the picker: setup and steps, then the picker cell itself.
        select(page, picker)
        menu(page, "Run", "Run All Above Selected Cell")
        wait_ran(page, [i for i in code if i < picker], "cells above the picker")
        select(page, picker)
        page.keyboard.press("Shift+Enter")
        wait_ran(page, [picker], "picker cell")
        times["picker shown"] = time.monotonic() - started

        # The widget's <input type=file> is not in the page: click its button, answer the chooser.
        button = cells.nth(picker).locator("button.widget-upload")
        with page.expect_file_chooser() as chooser:
            button.click()
        assert not chooser.value.is_multiple()
        chooser.value.set_files(str(picked))
        page.wait_for_function("(b) => /\\(1\\)\\s*$/.test(b.textContent)", arg=button.element_handle())
        cells.nth(picker).get_by_text(f"Chosen: {picked.name} ({picked.stat().st_size:,} bytes).").wait_for()

        times["file picked"] = time.monotonic() - started
        # From choose_file to Verify, as selected cells (Shift+Enter runs a selection).
        select(page, choose, verify)
        page.keyboard.press("Shift+Enter")
        wait_ran(page, [i for i in code if choose <= i <= verify], "upload and verify")
        assert picked.name in output_text(page, choose), output_text(page, choose)
        verified = output_text(page, verify)
        assert VERIFIED.search(verified), verified

        # The object is in the bucket, byte for byte the picked file.
        objects = bucket_objects(aws, prefix)
        ours = [(b, k) for (b, k), size in objects.items()
                if k.endswith(picked.name) and size == picked.stat().st_size]
        assert ours, f"no object named like {picked.name} in {objects}"
        body = aws("s3").get_object(Bucket=ours[0][0], Key=ours[0][1])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == digest

        # The installed settings turned Lab's news question off: no pop-up covers the notebook.
        assert not page.locator(".jp-Notification-Toast, .Toastify__toast").filter(
            has_text=re.compile("news", re.I)).count()
        cells.nth(verify).scroll_into_view_if_needed()
        cells.nth(verify).locator(".jp-OutputArea").evaluate(SHOW_AT_BOTTOM)
        page.screenshot(path=shot)
        times["verified"] = time.monotonic() - started

        # Clean up, from its heading to the end.
        select(page, clean_up)
        menu(page, "Run", "Run Selected Cell and All Below")
        wait_ran(page, [i for i in code if i > clean_up], "the Clean up section")
        assert "left behind: {}" in output_text(page, code[-1])
        target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
        assert not any(wb.find_resources(target, prefix).values())
        assert not bucket_objects(aws, prefix)
        assert not [b for b in aws("s3").list_buckets()["Buckets"] if b["Name"].startswith(prefix)]
    except BaseException:
        try:
            page.screenshot(path=shot.replace(".png", "-failed.png"), full_page=True)
        except Exception as error:  # keep the test's own failure, not the screenshot's
            print(f"no failure screenshot: {error}")
        raise
    finally:
        times["done"] = time.monotonic() - started
        print(f"{name} (s): " + ", ".join(f"{k} {v:.1f}" for k, v in times.items()))
        close_notebook(page)
        for session in requests.get(f"{lab['base']}/api/sessions", params={"token": TOKEN}).json():
            requests.delete(f"{lab['base']}/api/sessions/{session['id']}", params={"token": TOKEN})


PICKER_NOTEBOOK = [
    "import hashlib\nimport ipywidgets as widgets\npicker = widgets.FileUpload()\npicker",
    "chosen = picker.value[0]\ncontent = bytes(chosen['content'])\n"
    "print(f\"{chosen['name']} {chosen['size']} {len(content)} {hashlib.sha256(content).hexdigest()}\")",
]


def test_a_plain_jupyter_lab_takes_a_20_mib_file_in_the_picker(lab_page, lab, tmp_path):
    """FileUpload sends the chosen file to the kernel in one websocket message; Jupyter's default
    limit (10 MiB) would drop a 20 MiB one without a word. The installed server settings raise it
    to 256 MiB for any Lab in the environment: the file arrives whole."""
    name = f"picker-{uuid.uuid4().hex[:6]}.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in PICKER_NOTEBOOK]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, os.path.join(lab["root"], name))
    picked = pathlib.Path(wb.make_sample_file(tmp_path / "twenty.bin", 20 * 1024 * 1024 + 7, seed=20))
    page = lab_page
    try:
        cells = open_notebook(page, name, 2)
        select(page, 0)
        page.keyboard.press("Shift+Enter")
        wait_ran(page, [0], "picker cell")
        button = cells.nth(0).locator("button.widget-upload")
        with page.expect_file_chooser() as chooser:
            button.click()
        chooser.value.set_files(str(picked))
        page.wait_for_function("(b) => /\\(1\\)\\s*$/.test(b.textContent)", arg=button.element_handle())
        select(page, 1)
        page.keyboard.press("Shift+Enter")
        wait_ran(page, [1], "check cell")
        size = picked.stat().st_size
        assert output_text(page, 1).split() == [picked.name, str(size), str(size), wb.sha256_file(picked)]
    except BaseException:
        os.makedirs(ARTIFACTS, exist_ok=True)
        try:
            page.screenshot(path=os.path.join(ARTIFACTS, "picker-20mib-failed.png"), full_page=True)
        except Exception as error:
            print(f"no failure screenshot: {error}")
        raise
    finally:
        close_notebook(page)
        for session in requests.get(f"{lab['base']}/api/sessions", params={"token": TOKEN}).json():
            requests.delete(f"{lab['base']}/api/sessions/{session['id']}", params={"token": TOKEN})
