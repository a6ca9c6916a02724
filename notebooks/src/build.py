"""Build each chapter's TensorFlow and PyTorch notebooks from one source file.

    python notebooks/src/build.py                 # write notebooks/{tf,torch}/NN_*.ipynb (no outputs)
    python notebooks/src/build.py --execute       # ... and run each in a fresh kernel, keeping outputs
    python notebooks/src/build.py 02 --execute    # only the chapters whose file names start with 02
    python notebooks/src/build.py --check         # exit 1 when a notebook's cells differ from its source

A source ``notebooks/src/NN_name.txt`` is a list of cells, each opened by a marker line:

    %% md                 markdown for both notebooks
    %% md tf / %% md torch   markdown for one of them (rare)
    %% code               code for both
    %% tf   then  %% torch   one code cell, in its TensorFlow and its PyTorch form
    %% ... tags=a,b       cell tags (``parity``: the pair's outputs of this cell must be identical)
    %% ... check          nbval checks this cell's outputs (the cell tag ``nbval-check-output``;
                          learners see no marker comment in the code)

In markdown, ``{{Framework}}``, ``{{fw}}`` and ``{{Other}}`` become TensorFlow / tf / PyTorch (or
the reverse), and ``{{tf text || torch text}}`` picks one side. ``![...](attachment:NAME.png)``
embeds ``figures/NAME.png`` as a cell attachment, so a figure shows offline and in Colab.

Executing strips TensorFlow's C++ log lines (oneDNN notices at import) from stderr outputs and
prints what it stripped; anything else on stderr stays and fails the notebook tests.

The frameworks and the chapters come from the chapter manifest ``tools/chapters.json``: a source
without a manifest entry, an entry without its source, or a source whose title line is not
``# Chapter N · <the entry's title>`` is an error (exit code 2).
"""

from __future__ import annotations

import argparse
import base64
import re
import sys
import time
from pathlib import Path

import nbformat

SRC = Path(__file__).resolve().parent
NOTEBOOKS = SRC.parent
ROOT = NOTEBOOKS.parent
FIGURES = ROOT / "figures"
if str(ROOT) not in sys.path:  # run as a script: the repository's tools/ must be importable
    sys.path.insert(0, str(ROOT))

from tools.manifest import load_manifest  # noqa: E402

MANIFEST = load_manifest()
#: {framework: display name}, from the manifest; a source's ``%% tf`` / ``%% torch`` cells and
#: ``{{tf text || torch text}}`` name exactly these two
FRAMEWORKS = MANIFEST.frameworks
if list(FRAMEWORKS) != ["tf", "torch"]:
    raise ValueError(f"build.py builds a tf and a torch notebook per chapter; tools/chapters.json `frameworks` "
                     f"must be tf then torch, got {list(FRAMEWORKS)}")

#: TensorFlow's C++ (absl) log lines: harmless notices that TF_CPP_MIN_LOG_LEVEL does not silence
TF_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.]+:\d+\] .*)$"
)

#: the cell tag that makes ``pytest --nbval-lax`` compare a cell's outputs
CHECK_TAG = "nbval-check-output"

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}


def parse(path: Path) -> list:
    """``[(kind, side, tags, text)]``; kind ``md``/``code``, side ``both``/``tf``/``torch``."""
    cells, header, lines = [], None, []

    def flush():
        if header is not None:
            cells.append((*header, "\n".join(lines).strip("\n")))

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("%% "):
            flush()
            words = line[3:].split()
            tags = [t for w in words if w.startswith("tags=") for t in w[5:].split(",")]
            if "check" in words:
                tags.append(CHECK_TAG)
            words = [w for w in words if not w.startswith("tags=") and w != "check"]
            head = words[0]
            if head == "md":
                header = ("md", words[1] if len(words) > 1 else "both", tags)
            elif head == "code":
                header = ("code", "both", tags)
            elif head in FRAMEWORKS:
                header = ("code", head, tags)
            else:
                raise ValueError(f"{path.name}: unknown cell marker {line!r}")
            lines = []
        elif header is not None:
            lines.append(line)
    flush()
    return cells


def substitute(text: str, fw: str) -> str:
    name, other = FRAMEWORKS[fw], next(v for k, v in FRAMEWORKS.items() if k != fw)

    def pick(m):
        tf_text, torch_text = m.group(1), m.group(2)
        return (tf_text if fw == "tf" else torch_text).strip()

    text = re.sub(r"\{\{((?:(?!\{\{|\}\}).)*?)\|\|((?:(?!\{\{|\}\}).)*?)\}\}", pick, text, flags=re.S)
    return text.replace("{{Framework}}", name).replace("{{Other}}", other).replace("{{fw}}", fw)


def notebook_for(path: Path, fw: str) -> nbformat.NotebookNode:
    """The ``fw`` notebook of a chapter source, without outputs."""
    stem = path.stem
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}
    pending_tf = None
    for kind, side, tags, text in parse(path):
        if side not in ("both", fw):
            if kind == "code" and side == "tf":
                pending_tf = tags
            continue
        if kind == "md":
            text = substitute(text, fw)
            cell = nbformat.v4.new_markdown_cell(text)
            names = re.findall(r"\(attachment:([\w.-]+\.png)\)", text)
            if names:
                cell.attachments = {n: {"image/png": base64.b64encode((FIGURES / n).read_bytes()).decode()}
                                    for n in names}
        else:
            if "NBVAL_CHECK_OUTPUT" in text:
                raise ValueError(f"{path.name}: mark a checked cell with `check` on its %% line, not with a "
                                 "# NBVAL_CHECK_OUTPUT comment (the cell gets the tag nbval-check-output)")
            cell = nbformat.v4.new_code_cell(text)
        if kind == "code" and side == "torch" and pending_tf:  # a pair's cell shares the TensorFlow side's tags
            tags = list(dict.fromkeys(pending_tf + tags))
        pending_tf = None
        if tags:
            cell.metadata["tags"] = tags
        cell.id = f"{stem[:2]}-{len(nb.cells):02d}"
        nb.cells.append(cell)
    return nb


def strip_tf_logs(nb) -> list:
    """Drop TensorFlow's C++ log lines from stderr outputs; return what was dropped."""
    dropped = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.outputs:
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                lines = out["text"].splitlines(keepends=True)
                logs = [ln for ln in lines if TF_LOG_LINE.match(ln.rstrip("\n"))]
                dropped += [ln.rstrip("\n") for ln in logs]
                rest = "".join(ln for ln in lines if not TF_LOG_LINE.match(ln.rstrip("\n")))
                if not rest:
                    continue
                out["text"] = rest
            kept.append(out)
        cell.outputs = kept
    return dropped


def coalesce_streams(nb) -> None:
    """Merge consecutive outputs of the same stream (the kernel may flush one print in pieces)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.outputs:
            last = merged[-1] if merged else None
            if (out.get("output_type") == "stream" and last is not None and last.get("output_type") == "stream"
                    and last.get("name") == out.get("name")):
                last["text"] += out["text"]
            else:
                merged.append(out)
        cell.outputs = merged


def execute(nb, cwd: Path, timeout: int = 600):
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}
    return nb


def same_cells(a, b) -> bool:
    """Same cell types, sources, tags and attachments (outputs ignored)."""
    def key(nb):
        return [(c.cell_type, c.source, c.metadata.get("tags", []), c.get("attachments")) for c in nb.cells]
    return key(a) == key(b)


def manifest_problems(sources: list) -> list:
    """How the chapter sources and the manifest disagree (missing either way, title lines)."""
    slugs = {c.slug: c for c in MANIFEST.chapters}
    problems = [f"notebooks/src/{p.name} has no entry in tools/chapters.json (add one: CONTRIBUTING.md, "
                "'Adding a chapter')" for p in sources if p.stem not in slugs]
    problems += [f"tools/chapters.json names {c.source()}, which does not exist" for c in MANIFEST.chapters
                 if not (ROOT / c.source()).is_file()]
    for path in sources:
        chapter = slugs.get(path.stem)
        first = next((text for kind, _, _, text in parse(path) if kind == "md"), "").split("\n", 1)[0]
        if chapter and first != f"# Chapter {chapter.number} · {chapter.title}":
            problems.append(f"notebooks/src/{path.name}: the title line must be '# Chapter {chapter.number} · "
                            f"{chapter.title}' (tools/chapters.json), got {first!r}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", help="file-name prefixes, e.g. 01 02 (default: all)")
    parser.add_argument("--execute", action="store_true", help="run each notebook and keep its outputs")
    parser.add_argument("--check", action="store_true", help="only compare the notebooks with their sources")
    args = parser.parse_args(argv)
    problems = manifest_problems(sorted(SRC.glob("[0-9][0-9]_*.txt")))
    if problems:
        print("notebooks/src and tools/chapters.json disagree:", *problems, sep="\n  ", file=sys.stderr)
        return 2
    sources = [ROOT / c.source() for c in MANIFEST.chapters
               if not args.chapters or any(c.slug.startswith(prefix) for prefix in args.chapters)]
    stale = []
    for path in sources:
        for fw in FRAMEWORKS:
            target = NOTEBOOKS / fw / f"{path.stem}.ipynb"
            nb = notebook_for(path, fw)
            if args.check:
                if not target.exists() or not same_cells(nb, nbformat.read(target, as_version=4)):
                    stale.append(str(target.relative_to(ROOT)))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if args.execute:
                start = time.perf_counter()
                execute(nb, target.parent)
                dropped = strip_tf_logs(nb)
                coalesce_streams(nb)
                print(f"{target.relative_to(ROOT)}: ran in {time.perf_counter() - start:.1f} s"
                      + (f"; stripped {len(dropped)} TensorFlow log lines" if dropped else ""))
                for line in sorted(set(dropped)):
                    print("    ", line[:150])
            nbformat.write(nb, target)
            if not args.execute:
                print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        print("out of date with notebooks/src (run notebooks/src/build.py --execute):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
