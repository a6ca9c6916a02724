"""Per-cell wall times of a notebook run by nbclient, and its slowest cells (``python -m bench.notebooks``).

``CellTimer().hooks()`` gives the ``on_cell_execute`` / ``on_cell_executed`` callbacks of an
``nbclient.NotebookClient``; each code cell is timed from the client's side (``time.perf_counter``
from sending the cell to its reply), which is what a learner waits for. A cell that never
replies (a timeout, a dead kernel) is timed until ``slowest`` is asked and marked unfinished.
"""

from __future__ import annotations

import time

#: how many of the slowest cells a notebook's line reports
SLOWEST = 3


class CellTimer:
    """Times the code cells of one notebook run; pass ``**timer.hooks()`` to ``NotebookClient``."""

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.cells = []  # {"index", "execution_count", "source", "seconds", "finished"}
        self._running = None  # (record, start time)

    def hooks(self) -> dict:
        """``{"on_cell_execute": ..., "on_cell_executed": ...}`` for ``nbclient.NotebookClient``."""
        return {"on_cell_execute": self._started, "on_cell_executed": self._finished}

    def _started(self, cell, cell_index, **_):
        lines = [ln.strip() for ln in str(cell.get("source", "")).splitlines() if ln.strip()]
        record = {"index": int(cell_index), "execution_count": None, "seconds": None, "finished": False,
                  "source": lines[0] if lines else ""}
        self.cells.append(record)
        self._running = (record, self.clock())

    def _finished(self, cell, cell_index, execute_reply=None, **_):
        if self._running is None or self._running[0]["index"] != int(cell_index):
            return
        record, start = self._running
        record["seconds"], record["finished"] = self.clock() - start, True
        content = (execute_reply or {}).get("content", {}) if isinstance(execute_reply, dict) else {}
        record["execution_count"] = content.get("execution_count", cell.get("execution_count"))
        self._running = None

    def slowest(self, n: int = SLOWEST) -> list:
        """The ``n`` slowest code cells, slowest first: dicts with ``index`` (in ``nb.cells``),
        ``execution_count``, ``seconds``, ``finished`` and ``source`` (its first non-blank line)."""
        if self._running is not None:  # still running: timed until now
            record, start = self._running
            record["seconds"] = self.clock() - start
        done = [dict(c) for c in self.cells if c["seconds"] is not None]
        return sorted(done, key=lambda c: -c["seconds"])[:n]


def format_slowest(cells: list, width: int = 40) -> str:
    """One line: ``slowest: 12.3 s cell 14 `model.fit(...)`; ...`` (``cells`` from ``CellTimer.slowest``)."""
    if not cells:
        return "slowest: no code cell ran"
    parts = []
    for c in cells:
        source = c["source"] if len(c["source"]) <= width else c["source"][:width - 3] + "..."
        late = "" if c["finished"] else " (unfinished)"
        parts.append(f"{c['seconds']:.1f} s cell {c['index']}{late} `{source}`")
    return "slowest: " + "; ".join(parts)
