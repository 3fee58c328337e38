"""Keep the navigation links of every notebook in notebooks/ in step with the notebooks there.

    python tools/navlinks.py            # rewrite the links where they are stale
    python tools/navlinks.py --check    # exit 1 and name the notebooks whose links are stale

Each notebook gets a markdown cell tagged ``nav-top`` as its first cell (previous · this · next)
and one tagged ``nav-bottom`` as its last cell (a "Next" link and the same line). Neighbours
come from the sorted list of ``notebooks/NN_*.ipynb``; a notebook's short title comes from its
metadata (``workbook.title``, in the text twin's header too) or else from its first heading.
Adding a notebook (as ``NN_topic.ipynb`` or as its text twin ``NN_topic.py``) needs only a
re-run of this script.

Where the folder pairs notebooks with text twins (its ``jupytext.toml``), every pair is synced
first (the newer file of a pair wins, as ``jupytext --sync`` does), and a notebook whose links
change is written as ``.ipynb`` and synced again, so both files of the pair get the new links.
"""
from __future__ import annotations

import os
import re
import sys

import nbformat
from jupytext.cli import jupytext
from jupytext.config import load_jupytext_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(ROOT, "notebooks")
NAME = re.compile(r"(\d{2})_.+\.ipynb")
TWIN = re.compile(r"(\d{2})_.+\.py")
TOP, BOTTOM = "nav-top", "nav-bottom"


def notebooks(folder: str = NOTEBOOKS) -> list[str]:
    """The workbook's notebooks in reading order: NN_topic.ipynb, sorted."""
    return sorted(name for name in os.listdir(folder) if NAME.fullmatch(name))


def short_title(nb: nbformat.NotebookNode, name: str) -> str:
    """``NN Title`` for links: the metadata title, else the first heading after its number."""
    number = NAME.fullmatch(name).group(1)
    title = nb.metadata.get("workbook", {}).get("title")
    if not title:
        for cell in nb.cells:
            heading = re.search(r"^#\s+(.+)$", cell.source, re.M) if cell.cell_type == "markdown" else None
            if heading:
                title = re.sub(r"^\d+\s*·\s*", "", heading.group(1)).strip()
                break
    return f"{number} {title or name}"


def nav_cells(names: list[str], titles: dict[str, str], name: str) -> tuple[str, str]:
    """The top and bottom navigation cells' markdown for ``name``."""
    i = names.index(name)
    previous = names[i - 1] if i > 0 else None
    following = names[i + 1] if i + 1 < len(names) else None
    parts = []
    if previous:
        parts.append(f"[← {titles[previous]}]({previous})")
    parts.append(f"**{titles[name]}**")
    if following:
        parts.append(f"[{titles[following]} →]({following})")
    line = " · ".join(parts)
    if following:
        bottom = f"**Next:** [{titles[following]}]({following})\n\n{line}"
    else:
        bottom = f"**The end of the workbook.** Back to the start: [{titles[names[0]]}]({names[0]})\n\n{line}"
    return line, bottom


def _tagged(nb: nbformat.NotebookNode, tag: str) -> list[int]:
    return [i for i, cell in enumerate(nb.cells) if tag in cell.metadata.get("tags", [])]


def _apply(nb: nbformat.NotebookNode, top: str, bottom: str) -> bool:
    """Put the two navigation cells in place; True if anything changed."""
    changed = False
    for tag, source, at_start in ((TOP, top, True), (BOTTOM, bottom, False)):
        found = _tagged(nb, tag)
        wanted_index = 0 if at_start else len(nb.cells) - 1
        if len(found) == 1 and found[0] == wanted_index and nb.cells[found[0]].source == source:
            continue
        for index in reversed(found):
            del nb.cells[index]
        cell = nbformat.v4.new_markdown_cell(source)
        cell.metadata["tags"] = [tag]
        if at_start:
            nb.cells.insert(0, cell)
        else:
            nb.cells.append(cell)
        changed = True
    return changed


def paired(folder: str) -> bool:
    """Whether a jupytext configuration pairs the notebooks of ``folder`` with text twins."""
    return load_jupytext_config(os.path.abspath(folder)) is not None


def sync(path: str) -> None:
    """``jupytext --sync path``: the newer file of the pair gives the cells, the .ipynb keeps its
    outputs; a twin alone (a new notebook written as text) gets its .ipynb."""
    if jupytext(["--sync", "--quiet", path]) != 0:
        raise RuntimeError(f"jupytext --sync {path} failed")


def sync_all(folder: str = NOTEBOOKS) -> None:
    """Sync every pair in ``folder`` (and create the .ipynb of a lone twin)."""
    for name in sorted(os.listdir(folder)):
        twin_alone = TWIN.fullmatch(name) and not os.path.exists(os.path.join(folder, name[:-3] + ".ipynb"))
        if NAME.fullmatch(name) or twin_alone:
            sync(os.path.join(folder, name))


def update(folder: str = NOTEBOOKS, *, check: bool = False) -> list[str]:
    """Bring every notebook's links up to date (or, with ``check``, only report): the stale names."""
    pairs = paired(folder)
    if pairs and not check:
        sync_all(folder)
    names = notebooks(folder)
    books = {name: nbformat.read(os.path.join(folder, name), as_version=4) for name in names}
    titles = {name: short_title(nb, name) for name, nb in books.items()}
    stale = []
    for name, nb in books.items():
        top, bottom = nav_cells(names, titles, name)
        if _apply(nb, top, bottom):
            stale.append(name)
            if not check:
                nbformat.write(nb, os.path.join(folder, name))
                if pairs:
                    sync(os.path.join(folder, name))
    return stale


def main(argv: list[str]) -> int:
    check = "--check" in argv
    folder = next((arg for arg in argv if not arg.startswith("-")), NOTEBOOKS)
    stale = update(folder, check=check)
    for name in stale:
        print(f"{'stale' if check else 'updated'}: {name}")
    if check and stale:
        print("run `python tools/navlinks.py` to update the navigation links", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
