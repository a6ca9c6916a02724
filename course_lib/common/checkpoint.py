"""Safe checkpoints: files written next to the old ones, then one atomic rename commits them.

A checkpoint is a folder::

    checkpoint.json               what is saved: format, backend, model config, file names, SHA-256s
    model-000002.weights.h5       the weights (TensorFlow: Keras' format; PyTorch: model-000002.pt)
    tokenizer-000002.model        the sentencepiece tokenizer

``write_checkpoint`` writes the new version's files under new names (nothing existing is
touched), checks them, and only then replaces ``checkpoint.json`` with ``os.replace`` (atomic on
one file system). Until that rename the old checkpoint is complete and is what a load reads;
after it, the new one is. A failure before it deletes the new files and leaves the folder as it
was. The old version's files are deleted last.

``read_checkpoint`` checks the manifest and every file's SHA-256 before anything is loaded, so a
missing, truncated or altered file gives a ``CheckpointError`` that names it. A *sealed* manifest
(``write_checkpoint(..., seal=True)``, as the course's shipped models are) also carries the SHA-256 of
its own text (``manifest_sha256``, computed with that field's value as 64 zeros), so a changed byte
anywhere, in the manifest too, is caught. A framework-neutral checkpoint (backend ``"numpy"``: NumPy
arrays in ``export_weights`` naming) serves both backends. No format here runs
code when loaded (no pickle of arbitrary objects: JSON, Keras' HDF5 weights, PyTorch tensors with
``weights_only=True``, sentencepiece's protocol buffer).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

MANIFEST = "checkpoint.json"
FORMAT = "course_lib.chatbot/1"
#: the backend name of a framework-neutral checkpoint (NumPy weights that either backend imports)
NEUTRAL = "numpy"
SEAL = "manifest_sha256"
_ZEROS = "0" * 64
_RESERVED = ("format", "backend", "version", "config", "files", SEAL)


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: the message names the file and what is wrong with it."""


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_manifest(directory: Path) -> dict:
    path = directory / MANIFEST
    if not directory.exists():
        raise FileNotFoundError(f"no checkpoint at {str(directory)!r}: the folder does not exist "
                                "(save one with save_checkpoint)")
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(directory)!r}: it has no {MANIFEST} "
                                "(save one with save_checkpoint)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is corrupted: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a course_lib chatbot checkpoint (expected format {FORMAT!r})")
    if SEAL in manifest:
        _check_seal(path, manifest[SEAL])
    for key, kind in (("backend", str), ("version", int), ("config", dict), ("files", dict)):
        if not isinstance(manifest.get(key), kind):
            raise CheckpointError(f"{path} is corrupted: `{key}` is missing or not a {kind.__name__}")
    return manifest


def _seal_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sealed_text(manifest: dict) -> str:
    """The manifest's JSON with ``manifest_sha256`` = the SHA-256 of that text with the field as zeros."""
    text = json.dumps({**manifest, SEAL: _ZEROS}, indent=2, sort_keys=True) + "\n"
    return text.replace(f'"{SEAL}": "{_ZEROS}"', f'"{SEAL}": "{_seal_digest(text)}"', 1)


def _check_seal(path: Path, value) -> None:
    text = path.read_text(encoding="utf-8")
    field = f'"{SEAL}": "{value}"'
    if not isinstance(value, str) or field not in text or \
            _seal_digest(text.replace(field, f'"{SEAL}": "{_ZEROS}"', 1)) != value:
        raise CheckpointError(f"{path} is corrupted: its text differs from the SHA-256 it was sealed with "
                              f"(`{SEAL}`; the file changed after it was saved)")


def _atomic_write_text(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)  # the commit: atomic
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_checkpoint(directory, backend: str, config: dict,
                     writers: Dict[str, Tuple[str, Callable[[Path], None]]], extra: Optional[dict] = None,
                     seal: bool = False) -> Path:
    """Write a new checkpoint version into ``directory``; the old one stays valid until the commit.

    Args:
      directory: the checkpoint folder (created if missing).
      backend: ``"tf"``, ``"torch"`` (a load checks it) or ``"numpy"`` (framework-neutral).
      config: JSON-able model configuration.
      writers: ``{name: (suffix, write(path))}``; each ``write`` creates one file at the path it is given.
      extra: more JSON-able top-level entries of the manifest (e.g. ``training``, ``data``).
      seal: also store the SHA-256 of the manifest's own text (``manifest_sha256``).

    Returns:
      the folder.
    """
    directory = Path(os.fspath(directory))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        old = _read_manifest(directory)
    except (FileNotFoundError, CheckpointError):  # nothing there, or a broken checkpoint to replace
        old = None
    version = (old["version"] if old else 0) + 1
    written, files = [], {}
    extra = dict(extra or {})
    clash = sorted(set(extra) & set(_RESERVED))
    if clash:
        raise ValueError(f"`extra` must not set the manifest's own entries {clash}")
    try:
        json.dumps([config, extra])  # fail before writing anything if they are not JSON-able
        for name, (suffix, write) in writers.items():
            final = directory / f"{name}-{version:06d}{suffix}"
            temp = directory / f".tmp-{os.getpid()}-{name}{suffix}"  # keeps the suffix Keras asks for
            written.append(temp)
            write(temp)
            if not temp.is_file() or temp.stat().st_size == 0:
                raise CheckpointError(f"writing {final.name} produced no data")
            files[name] = {"path": final.name, "sha256": sha256_of(temp)}
            os.replace(temp, final)  # a new name: no old file is touched
            written.append(final)
        manifest = {**extra, "format": FORMAT, "backend": backend, "version": version, "config": config,
                    "files": files}
        text = _sealed_text(manifest) if seal else json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        _atomic_write_text(directory / MANIFEST, text)
    except BaseException as exc:
        for path in written:
            path.unlink(missing_ok=True)
        if isinstance(exc, Exception):
            kept = "the checkpoint there is unchanged" if old else "nothing was saved"
            raise CheckpointError(f"saving to {str(directory)!r} failed ({type(exc).__name__}: {exc}); "
                                  f"{kept}") from exc
        raise
    if old:  # committed: the previous version's files are no longer referenced
        for entry in old["files"].values():
            if isinstance(entry, dict) and entry.get("path") not in {f["path"] for f in files.values()}:
                (directory / Path(str(entry.get("path", ""))).name).unlink(missing_ok=True)
    return directory


def read_manifest(directory, require_seal: bool = False) -> dict:
    """The manifest of the checkpoint in ``directory``, checked (its seal too, when it has one).

    Args:
      require_seal: a manifest without ``manifest_sha256`` is an error (shipped models are sealed).

    Raises:
      FileNotFoundError: no checkpoint there.
      CheckpointError: a corrupted or unsealed manifest.
    """
    directory = Path(os.fspath(directory))
    manifest = _read_manifest(directory)
    if require_seal and SEAL not in manifest:
        raise CheckpointError(f"{directory / MANIFEST} is not sealed: it has no `{SEAL}`, so a change to it "
                              "could not be detected")
    return manifest


def read_checkpoint(directory, backend: str, names, require_seal: bool = False) -> Tuple[dict, Dict[str, Path]]:
    """``(config, {name: path})`` of a checkpoint, after checking every file against its SHA-256.

    Args:
      backend: the backend that reads it (``"tf"``, ``"torch"``), or ``"numpy"`` for a framework-neutral one.
      names: the files to check and return (``["model", "tokenizer"]``).
      require_seal: as ``read_manifest``.

    Raises:
      FileNotFoundError: no checkpoint there.
      CheckpointError: a corrupted manifest or file, a missing file, or another backend's checkpoint.
    """
    directory = Path(os.fspath(directory))
    manifest = read_manifest(directory, require_seal)
    if manifest["backend"] != backend:
        other = {"tf": "course_lib.chapters.ch07_chatbot.tf", "torch": "course_lib.chapters.ch07_chatbot.torch",
                 NEUTRAL: "load_pretrained (framework-neutral weights)"}.get(manifest["backend"], "?")
        raise CheckpointError(f"{directory} was saved by the {manifest['backend']!r} backend; load it with {other}")
    paths = {}
    for name in names:
        entry = manifest["files"].get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or "sha256" not in entry:
            raise CheckpointError(f"{directory / MANIFEST} is corrupted: no entry for the {name} file")
        path = directory / Path(entry["path"]).name
        if not path.is_file():
            raise CheckpointError(f"{path} is missing: the checkpoint is incomplete")
        if sha256_of(path) != entry["sha256"]:
            raise CheckpointError(f"{path} is corrupted: its SHA-256 differs from the one in {MANIFEST} "
                                  "(the file changed after it was saved)")
        paths[name] = path
    return manifest["config"], paths
