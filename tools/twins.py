"""How much the two backends repeat: ``python tools/twins.py``.

For every module that exists in both ``course_lib/tf/`` and ``course_lib/torch/`` (same path
relative to the backend), it counts the *code lines* (docstrings, comments, blank lines and
imports left out) and how many of them the two files share in identical runs (difflib's
matching blocks, counted on both sides). It also lists the functions and methods that have the
same qualified name and the same body (docstring aside) in both files and mention no framework
(`tf`, `keras`, `torch`, `nn`, `F`): logic that belongs in ``course_lib/common``. And it lists
every module of ``course_lib`` over 400 lines.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "course_lib"
FRAMEWORK_NAMES = {"tf", "keras", "torch", "nn", "F", "_VF"}


def code_lines(path: Path) -> list[str]:
    """The file's code lines, stripped: no docstrings, comments, blank lines or imports."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                skip.update(range(body[0].lineno, body[0].end_lineno + 1))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            skip.update(range(node.lineno, node.end_lineno + 1))
    comment_only = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and tok.line.strip().startswith("#"):
            comment_only.add(tok.start[0])
    lines = []
    for number, line in enumerate(source.splitlines(), start=1):
        text = line.strip()
        if not text or number in skip or number in comment_only:
            continue
        lines.append(" ".join(text.split("#")[0].split()) if "#" in text and "'" not in text and '"' not in text
                     else text)
    return lines


def _bodies(path: Path) -> dict[str, ast.AST]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[prefix + child.name] = child
    visit(tree, "")
    return found


def _body_key(fn: ast.AST) -> tuple[str, bool, bool]:
    """(the body without its docstring, dumped; whether it names a framework; whether it is one statement)."""
    body = list(fn.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    names = {n.id for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    dumped = ast.dump(ast.Module(body=body, type_ignores=[]), annotate_fields=False)
    return dumped, bool(names & FRAMEWORK_NAMES), len(body) <= 1


def report() -> dict:
    pairs = []
    for tf_path in sorted((LIB / "tf").rglob("*.py")):
        rel = tf_path.relative_to(LIB / "tf")
        torch_path = LIB / "torch" / rel
        if torch_path.exists():
            pairs.append((rel, tf_path, torch_path))
    total = same = 0
    per_module = []
    bodies = []
    for rel, a, b in pairs:
        la, lb = code_lines(a), code_lines(b)
        matcher = difflib.SequenceMatcher(a=la, b=lb, autojunk=False)
        matched = sum(block.size for block in matcher.get_matching_blocks())
        total += len(la) + len(lb)
        same += 2 * matched
        per_module.append((str(rel), len(la) + len(lb), 2 * matched))
        fa, fb = _bodies(a), _bodies(b)
        for name in sorted(set(fa) & set(fb)):
            ka, uses_a, one_a = _body_key(fa[name])
            kb, uses_b, _ = _body_key(fb[name])
            if ka == kb and not uses_a and not uses_b:
                lines = fa[name].end_lineno - fa[name].lineno + 1
                bodies.append((str(rel), name, lines, one_a))
    long_modules = sorted(
        ((str(p.relative_to(ROOT)), len(p.read_text(encoding="utf-8").splitlines()))
         for p in LIB.rglob("*.py")), key=lambda x: -x[1])
    return {"pairs": per_module, "total": total, "same": same, "bodies": bodies,
            "long": [(p, n) for p, n in long_modules if n > 400]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="per module pair and per function body")
    args = parser.parse_args(argv)
    r = report()
    if args.verbose:
        for rel, lines, same in r["pairs"]:
            print(f"  {rel:32s} {same:5d} of {lines:5d} code lines identical ({same / max(lines, 1):.0%})")
    share = r["same"] / max(r["total"], 1)
    print(f"module pairs in both backends: {len(r['pairs'])}; identical code lines: "
          f"{r['same']} of {r['total']} ({share:.0%})")
    bodies = [b for b in r["bodies"] if not b[3]]
    one_liners = [b for b in r["bodies"] if b[3]]
    print(f"identical framework-free function bodies in both backends: {len(bodies)} of two or more statements "
          f"({sum(b[2] for b in bodies)} lines), and {len(one_liners)} of one statement (accessors such as "
          "`return self.units`, which stay beside their class)")
    for rel, name, lines, _ in bodies:
        print(f"  {rel}: {name} ({lines} lines)")
    if args.verbose:
        for rel, name, lines, _ in one_liners:
            print(f"  one statement: {rel}: {name}")
    print(f"modules over 400 lines: {len(r['long'])}")
    for path, n in r["long"]:
        print(f"  {path}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
