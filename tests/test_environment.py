"""One source of truth for versions: pyproject.toml; environment.yml only installs the package."""
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
