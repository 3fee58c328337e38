# make lab    JupyterLab on the workbook, with the local AWS running (sets itself up first)
# make test   every test: local AWS, helpers, notebooks (papermill and nbval), a real browser
# make aws    only the local AWS, on 127.0.0.1:4566
# Extra arguments: make lab ARGS="--no-browser"   make test ARGS="-k proxy"
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup chromium js lab test aws outputs bench clean

# The Jupyter settings (jupyter-config/) go into .venv each time: an editable install skips them.
setup: $(STAMP)
	@$(BIN)/python tools/install_jupyter_config.py

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

lab: setup
	$(BIN)/python -m helpers.lab $(ARGS)

# Debian's chromium for tests/test_browser.py: apt-installed when missing and we are root.
chromium:
	@sh tools/ensure_chromium.sh

# The JavaScript SDK for tests/clients/test_js_sdk.py: npm ci when the lock file changed.
js:
	@sh tools/ensure_js_clients.sh

# The suite starts some forty Python processes (workers, kernels, JupyterLab, tools): each reads
# the compiled bytecode of the project's modules instead of compiling them again, even where the
# environment says not to write it (git ignores __pycache__). compileall writes it once first,
# so that a clean clone's processes do not all compile the same files at the same moment.
test: setup chromium js
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m compileall -q -x node_modules helpers localaws tests tools conftest.py >/dev/null
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest $(ARGS)

aws: setup
	MALLOC_ARENA_MAX=2 $(BIN)/python -m localaws $(ARGS)

# Re-run the notebooks against a fresh local AWS and store their outputs (nbval compares them).
outputs: setup
	$(BIN)/python tools/refresh_outputs.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache

# Figures, not tests: throughput, latency and memory of each upload path against its baseline,
# printed as a table and drawn to benchmarks/latest.png.
bench: setup
	$(BIN)/python -m benchmarks $(ARGS)
