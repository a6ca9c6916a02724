"""Launch links: Colab and Binder URLs and badges, the Colab install line, and forks.

Everything that names the GitHub repository goes through the manifest's ``repository`` and
``branch`` (``tools/chapters.json``), so the links in ``notebooks/index.ipynb``, the README's
chapter table, the notebooks and the tests agree. **A fork** changes those two fields, then runs
``python tools/course_index.py --retarget-notebooks`` (``retarget`` below, then the index).

Paths are repository-relative POSIX paths, e.g. ``"notebooks/tf/01_dynamic_rnn.ipynb"``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tools.manifest import ROOT, Manifest
from tools.notebook_tree import all_notebooks, dumps_notebook, source_lines

INDEX_PATH = "notebooks/index.ipynb"
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE_IMAGE = "https://mybinder.org/badge_logo.svg"


def _check_path(path: str) -> str:
    path = str(path).replace("\\", "/").lstrip("/")
    if not path or ".." in path.split("/"):
        raise ValueError(f"`path` must be a repository-relative path like 'notebooks/index.ipynb', got {path!r}")
    return path


def colab_url(manifest: Manifest, path: str) -> str:
    """The URL that opens the notebook at repository path ``path`` in Google Colab."""
    return f"https://colab.research.google.com/github/{manifest.repository}/blob/{manifest.branch}/{_check_path(path)}"


def colab_badge(manifest: Manifest, path: str) -> str:
    """Markdown for the "Open In Colab" badge of the notebook at ``path``."""
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(manifest, path)})"


def binder_url(manifest: Manifest, path: str = INDEX_PATH) -> str:
    """The mybinder.org URL that builds the repository and opens ``path`` in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{manifest.repository}/{manifest.branch}?urlpath=lab/tree/{_check_path(path)}"


def binder_badge(manifest: Manifest, path: str = INDEX_PATH) -> str:
    """Markdown for the "launch binder" badge that opens ``path``."""
    return f"[![Binder]({BINDER_BADGE_IMAGE})]({binder_url(manifest, path)})"


def install_spec(manifest: Manifest) -> str:
    """What ``pip install`` takes to install course_lib from GitHub (Colab's setup cell)."""
    return f"git+https://github.com/{manifest.repository}@{manifest.branch}"


def setup_cell_source(manifest: Manifest) -> str:
    """The source of cell 1 of every chapter notebook: installs course_lib in Colab only."""
    return (
        "# Setup: in Colab this installs course_lib; locally, requirements.txt already did.\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "{install_spec(manifest)}"'
    )


# -- forks ---------------------------------------------------------------------------------

# the path may hold a source's placeholder: notebooks/{{fw}}/01_dynamic_rnn.ipynb
_COLAB_ANY = re.compile(r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w./-]+?/"
                        r"(notebooks/[\w./{}-]+\.ipynb)")
_INSTALL_ANY = re.compile(r"git\+https://github\.com/[\w.-]+/[\w.-]+?(?:\.git)?@[\w./-]+")


def _retargeted(manifest: Manifest, text: str, code: bool) -> str:
    new = _COLAB_ANY.sub(lambda m: colab_url(manifest, m.group(1)), text)
    return _INSTALL_ANY.sub(install_spec(manifest), new) if code else new


def retarget(manifest: Manifest, root: Path = ROOT, write: bool = True) -> list[Path]:
    """Point every notebook's and chapter source's Colab links and install line at the manifest's repository.

    Rewrites Markdown links to Colab and the ``%pip install "git+https://github.com/..."`` line
    of code cells, in ``notebooks/**/*.ipynb`` and in ``notebooks/src/*.txt`` (so that a rebuild
    keeps them). Returns the files that change; ``write=False`` only lists them.
    """
    changed = []
    for path in all_notebooks(root):
        nb = json.loads(path.read_text(encoding="utf-8"))
        touched = False
        for cell in nb.get("cells", []):
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else source
            new = _retargeted(manifest, text, code=cell.get("cell_type") == "code")
            if new != text:
                cell["source"] = source_lines(new) if isinstance(source, list) else new
                touched = True
        if touched:
            changed.append(path)
            if write:
                path.write_text(dumps_notebook(nb), encoding="utf-8")
    for path in sorted((Path(root) / "notebooks" / "src").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        new = _retargeted(manifest, text, code=True)
        if new != text:
            changed.append(path)
            if write:
                path.write_text(new, encoding="utf-8")
    return changed
