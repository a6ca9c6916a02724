"""English glosses of the Korean prompts and replies that chapter 7 shows, and a person's judgments of the
shipped model's replies (framework-free).

The glosses are written by hand for the course and kept in one file, ``notebooks/data/ChatbotData/glosses.tsv``
(Korean, a tab, English; ``#`` starts a comment), so both notebooks show the same ones. A text without a gloss
is an error that names it: the notebook's checked cells then fail until someone writes one (no gloss is ever
made by a machine). ``judgments.tsv`` beside it holds the course author's verdict on each reply of the
shipped model to twenty held-out prompts (on topic, off topic, garbled): how often a reply is on topic is
something only a reader can say, so the notebook counts these verdicts, and a reply nobody has judged is an
error that names it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Optional

from course_lib.common.chat_data import CHATBOTDATA_PATH, normalize_text

GLOSSES_PATH = CHATBOTDATA_PATH.parent / "glosses.tsv"


def load_glosses(path=None) -> Dict[str, str]:
    """``{Korean text: English gloss}`` from the TSV (texts compared after ``normalize_text``).

    Raises:
      ValueError: naming the line that is not ``Korean<TAB>English`` or that repeats a text.
    """
    path = Path(os.fspath(GLOSSES_PATH if path is None else path))
    glosses: Dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ValueError(f"{path.name} line {number}: expected `Korean<TAB>English`, got {line!r}")
        key = normalize_text(parts[0])
        if key in glosses:
            raise ValueError(f"{path.name} line {number}: {parts[0]!r} has a gloss already")
        glosses[key] = parts[1].strip()
    return glosses


class Glossary:
    """Look glosses up: ``glossary(text)`` -> the English; ``glossary.show(text)`` -> ``text  ‹English›``.

    Args:
      glosses: ``{text: gloss}`` (default: ``load_glosses()``).
    """

    def __init__(self, glosses: Optional[Dict[str, str]] = None):
        self.glosses = load_glosses() if glosses is None else {normalize_text(k): v for k, v in glosses.items()}

    def __call__(self, text: str) -> str:
        key = normalize_text(text)
        if not key:
            return "(nothing)"
        if key not in self.glosses:
            raise KeyError(f"no English gloss for {text!r}: add a line `{key}<TAB>English` to {GLOSSES_PATH.name}")
        return self.glosses[key]

    def missing(self, texts) -> list:
        """The texts (normalised, in order, once each) that have no gloss."""
        out = []
        for text in texts:
            key = normalize_text(text)
            if key and key not in self.glosses and key not in out:
                out.append(key)
        return out

    def show(self, text: str) -> str:
        """``text  ‹gloss›``."""
        return f"{text}  \u2039{self(text)}\u203a"


# -- judgments: is a reply on topic? ------------------------------------------------------------------

JUDGMENTS_PATH = CHATBOTDATA_PATH.parent / "judgments.tsv"
#: what a person can say of a reply: it answers the prompt; it is good Korean but does not answer it; it is
#: not good Korean
VERDICTS = ("on topic", "off topic", "garbled")


def load_judgments(path=None) -> Dict[tuple, str]:
    """``{(prompt, method, reply): verdict}`` from the TSV (``prompt<TAB>method<TAB>reply<TAB>verdict``), the
    course author's reading of the shipped model's replies (texts compared after ``normalize_text``).

    Raises:
      ValueError: naming a line that has not four fields, a verdict not in ``VERDICTS``, or a repeated reply.
    """
    path = Path(os.fspath(JUDGMENTS_PATH if path is None else path))
    judgments: Dict[tuple, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = [part.strip() for part in line.split("\t")]
        if len(parts) != 4 or not all(parts[:3]):
            raise ValueError(f"{path.name} line {number}: expected `prompt<TAB>method<TAB>reply<TAB>verdict`, "
                             f"got {line!r}")
        if parts[3] not in VERDICTS:
            raise ValueError(f"{path.name} line {number}: the verdict must be one of {VERDICTS}, got {parts[3]!r}")
        key = (normalize_text(parts[0]), parts[1], normalize_text(parts[2]))
        if key in judgments:
            raise ValueError(f"{path.name} line {number}: this reply is judged already")
        judgments[key] = parts[3]
    return judgments


def judge(judgments: Dict[tuple, str], prompt: str, method: str, reply: str) -> str:
    """The verdict on ``reply`` to ``prompt`` by ``method``.

    Raises:
      KeyError: the reply has not been judged (a retrained model says new things: a person must read them),
        naming the line to add.
    """
    key = (normalize_text(prompt), method, normalize_text(reply))
    if key not in judgments:
        raise KeyError(f"nobody has judged the {method} reply {reply!r} to {prompt!r}: read it and add a line "
                       f"`{key[0]}<TAB>{method}<TAB>{key[2]}<TAB>{'|'.join(VERDICTS)}` to {JUDGMENTS_PATH.name}")
    return judgments[key]
