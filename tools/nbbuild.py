"""Tiny helpers for writing notebooks from Python: `md(...)`, `code(...)`, `write(path, cells, title=...)`.

The notebooks are edited as .ipynb in JupyterLab too; this module only makes writing a new one
from a script less error-prone (tags, metadata, kernelspec).
"""
from __future__ import annotations

import os
import textwrap

import nbformat


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(source: str, *tags: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(textwrap.dedent(source).strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


RESTART_NOTE = """If a later cell stops with `LocalAWSError: the local AWS ... is not answering`, the local AWS
was stopped or restarted and everything it held is gone: start it again (`make lab`, or this
cell starts it) and run the notebook again from the top."""


def setup_md(intro: str = "") -> nbformat.NotebookNode:
    """The "## Setup" heading of a pattern notebook: ``intro``, then what a restarted local AWS
    means for the learner."""
    paragraphs = [textwrap.dedent(intro).strip(), RESTART_NOTE]
    return nbformat.v4.new_markdown_cell("## Setup\n" + "\n\n".join(p for p in paragraphs if p))


def write(path: str, cells: list, *, title: str | None = None) -> None:
    """Write the notebook, then refresh every notebook's navigation links (tools/navlinks.py).

    ``title`` is the short name other notebooks' links use ("Presigned URLs").
    """
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    if title:
        nb.metadata["workbook"] = {"title": title}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)
    import navlinks

    navlinks.update(os.path.dirname(os.path.abspath(path)))
