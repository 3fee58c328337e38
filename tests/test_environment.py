"""One source of truth for versions: environment.yml must list pyproject.toml's dependencies."""
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


def test_environment_yml_pip_section_matches_pyproject_dependencies():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        declared = tomllib.load(handle)["project"]["dependencies"]
    with open(os.path.join(ROOT, "environment.yml")) as handle:
        listed = pip_section(handle.read())
    assert "-e ." in listed, "environment.yml must install the helpers package (-e .)"
    listed = [item for item in listed if item != "-e ."]
    assert sorted(listed) == sorted(declared), (
        "environment.yml and pyproject.toml disagree: copy pyproject's dependencies into "
        "environment.yml's pip section")


def test_environment_yml_pins_the_python_pyproject_requires():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        requires = tomllib.load(handle)["project"]["requires-python"]
    with open(os.path.join(ROOT, "environment.yml")) as handle:
        python = re.search(r"-\s*python=(\d+\.\d+)", handle.read()).group(1)
    assert requires == ">=3.11" and python == "3.11"
