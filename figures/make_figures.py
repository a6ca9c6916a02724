"""Draw the course's diagrams, chapter by chapter, from the chapter manifest.

    python figures/make_figures.py             # every chapter's figures, written next to this file
    python figures/make_figures.py 04 05       # only chapters whose slugs start with 04 or 05
    python figures/make_figures.py --check     # write nothing; exit 1 if a PNG differs from its drawing
    python figures/make_figures.py --out DIR   # write somewhere else

Which PNGs a chapter shows is its ``figures`` list in ``tools/chapters.json``; each PNG is drawn
by the function of the same name in ``diagrams_rnn.py``, ``diagrams_decoder.py`` or
``diagrams_attention.py`` (one style: ``diagram_style.py``). A figure the manifest names without a
drawing, or a drawing no chapter names, is an error (exit code 2). The notebooks embed the PNGs as
cell attachments (``notebooks/src/build.py``): after changing a figure, rebuild its chapter.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for folder in (ROOT, HERE):  # the repository's tools/, and the diagram modules beside this file
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import diagrams_attention  # noqa: E402
import diagrams_decoder  # noqa: E402
import diagrams_rnn  # noqa: E402
from diagram_style import plt  # noqa: E402

from tools.manifest import Manifest, load_manifest  # noqa: E402

DPI = 110
#: {PNG name: the function that draws it}, from every diagram module
DRAWINGS = {**diagrams_rnn.DRAWINGS, **diagrams_decoder.DRAWINGS, **diagrams_attention.DRAWINGS}


def png_bytes(name: str) -> bytes:
    """The PNG file that the drawing of ``name`` (e.g. ``"unrolled_rnn.png"``) makes, as bytes."""
    fig = DRAWINGS[name]()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.08, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def manifest_problems(manifest: Manifest) -> list[str]:
    """Figures the manifest names that nothing draws, and drawings that no chapter names."""
    named = {name: chapter.slug for chapter in manifest.chapters for name in chapter.figures}
    problems = [f"tools/chapters.json: {slug} names {name}, which no diagram module draws"
                for name, slug in named.items() if name not in DRAWINGS]
    problems += [f"{name} is drawn, but no chapter of tools/chapters.json lists it in `figures`"
                 for name in DRAWINGS if name not in named]
    return problems


def main(argv=None) -> int:
    """The command line; returns the exit code."""
    parser = argparse.ArgumentParser(description="Draw the course's diagrams (figures/*.png) chapter by chapter.")
    parser.add_argument("chapters", nargs="*", help="slug prefixes, e.g. 01 04 (default: every chapter)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a committed PNG differs")
    parser.add_argument("--out", type=Path, default=HERE, help="the folder to write to (default: figures/)")
    args = parser.parse_args(argv)
    manifest = load_manifest()
    problems = manifest_problems(manifest)
    if problems:
        print(*problems, sep="\n", file=sys.stderr)
        return 2
    chapters = [c for c in manifest.chapters if not args.chapters or any(c.slug.startswith(p) for p in args.chapters)]
    stale = []
    for chapter in chapters:
        for name in chapter.figures:
            data = png_bytes(name)
            if args.check:
                if not (HERE / name).is_file() or (HERE / name).read_bytes() != data:
                    stale.append(name)
                continue
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / name).write_bytes(data)
            print(f"{chapter.slug}: wrote {name}")
    if stale:
        print("differ from their drawing (run: python figures/make_figures.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
