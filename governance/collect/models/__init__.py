"""Model files: found by content (not extension), judged without being loaded.

Each format has its module; this one walks the folders, tells the format from
the first bytes (as the loaders do), hashes the file and gathers what a format
module found into a ModelFile. A file that claims to be a model (by its
extension) but is no format mlgov reads is reported as unjudged, not skipped.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import struct
import zlib
import json
import os
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from governance.collect.models import (gguf_format, keras_format, numpy_format, onnx_format, pickle_format,
                                       pickles, safetensors_format, savedmodel, torch_format)
from governance.collect.models.judgement import MAX_PICKLE_BYTES, Judgement
from governance.collect.models.zips import Archive, is_zip
from governance.inputs import inside
from governance.model import ModelFile

Progress = Callable[[str], None]

# Folders that hold other people's code or tool state, never the project's models.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache",
                       ".pytest_cache", ".ruff_cache", "site-packages", ".venv", "venv"})
# Extensions that say "model": a file with one that is no readable format is a finding.
MODEL_SUFFIXES = frozenset({".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle", ".joblib", ".npy", ".npz",
                            ".safetensors", ".onnx", ".keras", ".h5", ".hdf5", ".gguf", ".sav", ".pt2"})
LARGE = 256 << 20  # files above this get hashing progress
_CHUNK = 1 << 20


def _noop(_: str) -> None:
    return None


def sha256_file(path: Path, progress: Progress = _noop) -> str:
    """Streamed SHA-256 with one reused buffer (hashlib releases the GIL on large updates)."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    buffer = bytearray(4 * _CHUNK)
    view = memoryview(buffer)
    done = 0
    step = max(size // 10, 1)
    mark = step
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buffer):
            digest.update(view[:n])
            done += n
            if size >= LARGE and done >= mark:
                progress(f"hashing {path.name}: {done * 100 // size}% of {size / (1 << 20):.0f} MiB")
                mark += step
    return digest.hexdigest()


def _skip_dir(parent: Path, name: str) -> bool:
    if name in SKIP_DIRS:
        return True
    if name == "blobs" and (parent / "snapshots").is_dir():
        return True  # a hub cache's content-addressed copies of the snapshot files
    return (parent / name / "pyvenv.cfg").is_file()


def candidates(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for current, dirs, files in os.walk(root):
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if not _skip_dir(here, d))
        for name in sorted(files):
            yield here / name


def hub_purl(path: Path) -> str | None:
    """pkg:huggingface/org/name@rev for a file in a hub cache snapshot (models--org--name/snapshots/rev/)."""
    parts = path.parts
    for i, part in enumerate(parts[:-3]):
        if part.startswith("models--") and parts[i + 1] == "snapshots":
            names = part.split("--")[1:]
            if not names or not all(names):
                return None
            return f"pkg:huggingface/{'/'.join(names)}@{parts[i + 2]}"
    return None


def _config_card(path: Path, j: Judgement) -> None:
    """architecture and family from a Hugging Face config.json beside the model."""
    config = path.parent / "config.json"
    try:
        if not config.is_file() or config.stat().st_size > 1 << 20:
            return
        data = json.loads(config.read_text("utf-8"))
    except (OSError, ValueError, RecursionError):  # bad UTF-8 or JSON, a 5,000-digit number, 10,000 nested lists
        return  # only the model card's architecture is read from it: the model itself is judged either way
    if not isinstance(data, dict):
        return
    architectures = data.get("architectures")
    if isinstance(architectures, list) and architectures and isinstance(architectures[0], str):
        j.card.setdefault("architecture", architectures[0])
    if isinstance(data.get("model_type"), str):
        j.card.setdefault("architecture-family", data["model_type"])


def _judge_zip(path: Path, j: Judgement) -> bool:
    try:
        archive = Archive(path, j)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError, KeyError) as exc:
        if path.suffix.lower() in MODEL_SUFFIXES:
            j.format = "zip"
            j.cannot(f"a zip archive that cannot be read: {exc}")
            return True
        return False
    names = archive.names()
    if torch_format.is_torch_zip(names):
        torch_format.judge_zip(archive, j)
    elif keras_format.is_keras_zip(names):
        keras_format.judge_zip(archive, j)
    elif numpy_format.is_npz(names):
        numpy_format.judge_npz(archive, j)
    elif any(n.endswith((".pkl", ".pickle")) for n in names):
        torch_format.judge_zip(archive, j)
    else:
        if path.suffix.lower() in MODEL_SUFFIXES:
            j.format = "zip"
            j.cannot("a zip archive that is no model format mlgov reads")
            return True
        return False
    return True


def _protocol0_pickle(path: Path, size: int, j: Judgement) -> bool:
    """Protocols 0 and 1 have no header: a file is one when it walks as one."""
    if size > MAX_PICKLE_BYTES:
        return False
    with open(path, "rb") as f:
        try:
            result = pickles.walk(f)
        except pickles.PickleError as exc:
            partial = getattr(exc, "partial", None)
            # pickle.load has already run what it called before the stream broke.
            if partial is None or not partial.globals or not partial.calls:
                return False
            j.globals.update(partial.globals)
            j.cannot(f"not a complete pickle: {exc}")
            return True
    if not result.globals and path.suffix.lower() not in MODEL_SUFFIXES:
        return False  # a bare literal: nothing to judge, and not claiming to be a model
    j.globals.update(result.globals)
    for problem in result.problems:
        j.runs(problem)
    return True


def detect(path: Path, size: int) -> Judgement | None:
    """Read and judge one file; None when it is not a model."""
    with open(path, "rb") as f:
        head = f.read(512)  # a tar header's "ustar" sits at 257
    j = Judgement("unknown")
    suffix = path.suffix.lower()
    if is_zip(head):
        return j if _judge_zip(path, j) else None
    if head.startswith(numpy_format.MAGIC):
        with open(path, "rb") as f:
            numpy_format.judge_npy(f, j, size)
        return j
    if head.startswith(keras_format.HDF5_MAGIC):
        if keras_format.is_keras_h5(path):
            keras_format.judge_h5(path, j)
            return j
        return None
    # A name that says "model" makes a lying header a finding; by content alone the header must be
    # plausible, or a project's JavaScript (`var x = {...`) or notes ("GGUF ...") would fail the gate.
    claimed = suffix in MODEL_SUFFIXES
    if gguf_format.looks_like(head, claimed):
        with open(path, "rb") as f:
            gguf_format.judge(f, j, size)
        return j
    if safetensors_format.looks_like(head, size, claimed):
        with open(path, "rb") as f:
            safetensors_format.judge(f, j, size)
        return j
    if pickle_format.looks_like_pickle(head):
        j.format, j.framework = "pickle", None
        with open(path, "rb") as f:
            pickle_format.judge_stream(f, j, "pickle")
        return j
    kind = pickle_format.compression(head)
    if kind is not None:
        with open(path, "rb") as raw:
            try:
                inner = pickle_format.open_decompressed(raw, kind).read(2)
            except (OSError, EOFError, ValueError, Exception):  # noqa: BLE001 - any decompressor error
                inner = b""
            if pickle_format.looks_like_pickle(inner):
                raw.seek(0)
                j.format, j.framework = "joblib", "scikit-learn"
                j.card["mlgov:compression"] = kind
                try:
                    pickle_format.judge_stream(pickle_format.open_decompressed(raw, kind), j,
                                               f"{kind} stream", seekable=False)
                except (OSError, EOFError, ValueError) as exc:
                    j.cannot(f"the {kind} stream cannot be decompressed: {exc}")
                return j
        return _claimed(suffix, j)
    if len(head) > 262 and head[257:262] == b"ustar" and torch_format.is_legacy_tar(path):
        torch_format.judge_tar(path, j)
        return j
    if path.name == "saved_model.pb":
        savedmodel.judge(path, j)
        return j
    if onnx_format.looks_like(head) and onnx_format.judge(path, j, size):
        return j
    if head[:1] and head[0] in pickles.FIRST_OPCODES_PROTOCOL_0:
        j.format = "pickle"
        if _protocol0_pickle(path, size, j):
            return j
        j.format = "unknown"
    if head.startswith(b"#!"):
        # A script, whatever its name: DeepSpeed ships its launcher as bin/deepspeed.pt
        # (a Python script). No loader reads it as a model; torch.load fails on it.
        return None
    return _claimed(suffix, j)


def _claimed(suffix: str, j: Judgement) -> Judgement | None:
    if suffix in MODEL_SUFFIXES:
        j.cannot(f"the content is no model format mlgov reads, though the name ends in {suffix}")
        return j
    return None


def judge_file(path: Path, name: str, progress: Progress = _noop) -> ModelFile | None:
    try:
        size = path.stat().st_size
        if size < 8 and path.suffix.lower() not in MODEL_SUFFIXES:
            return None
        j = detect(path, size)
    except (OSError, tarfile.TarError) as exc:
        if path.suffix.lower() not in MODEL_SUFFIXES:
            return None
        j = Judgement("unknown")
        j.cannot(f"cannot be read: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}")
        size = 0
    except (MemoryError, RecursionError) as exc:
        j = Judgement("unknown")
        j.cannot(f"too large or deep to judge: {type(exc).__name__}")
        size = path.stat().st_size
    except (ValueError, EOFError, struct.error, zipfile.BadZipFile, lzma.LZMAError, zlib.error) as exc:
        # A parser met something it did not expect: not judged is a finding, never a crash.
        j = Judgement("unknown")
        j.cannot(f"cannot be parsed: {type(exc).__name__}: {exc}")
        size = path.stat().st_size
    if j is None:
        return None
    _config_card(path, j)
    try:
        digest = sha256_file(path, progress)
    except OSError as exc:
        j.cannot(f"cannot be read to hash: {exc}")
        digest = ""
    return ModelFile(
        path=name, format=j.format, sha256=digest, size=size, framework=j.framework,
        globals=tuple(j.globals), code=tuple(j.code), unparsed=tuple(j.unparsed),
        card=tuple(j.card.items()), purl=hub_purl(path),
    )


def _not_a_file(path: Path, project_abs: Path) -> ModelFile:
    where = Path(os.path.normpath(path.absolute()))
    try:
        name = where.relative_to(project_abs).as_posix()
    except ValueError:
        name = path.as_posix()
    if path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        why = f"a link to {target}, which does not lead to a file (missing, or a loop)"
    else:
        why = "not a regular file (a FIFO, socket or device)"
    return ModelFile(path=name, format="unknown", sha256="", size=0,
                     unparsed=(f"named like a model file, but {why}: not read",))


def find_models(project: Path, extra: tuple[Path, ...] = (), progress: Progress = _noop,
                search_project: bool = True) -> tuple[ModelFile, ...]:
    """Every model file under the project (skipping venvs, .git, node_modules) and under each extra path."""
    project_abs = Path(os.path.normpath(project.absolute()))
    seen: set[Path] = set()
    found: list[ModelFile] = []
    for root in extra:
        if not root.exists():
            from governance.errors import InputError

            raise InputError("no such models folder or file (--models)", file=root)
    roots = ([project] if search_project else []) + list(extra)
    allowed = tuple(Path(os.path.realpath(r)) for r in [project, *extra])
    for root in roots:
        for path in candidates(root):
            try:
                regular = path.is_file()
            except OSError:
                regular = False
            if not regular:
                # A name that says "model" is judged or said to be unjudged, never passed over: a FIFO,
                # socket or device (never opened: it would block or stream), a dangling link, a link loop.
                if path.suffix.lower() in MODEL_SUFFIXES and not path.is_dir():
                    found.append(_not_a_file(path, project_abs))
                continue
            if not inside(path, allowed):
                from governance.errors import InputError

                # A link out of the scanned folders (to a secret, /proc/self/environ)
                # would have its content judged and hashed into the report.
                raise InputError("a model file that links outside the scanned folders; not read", file=path)
            where = Path(os.path.normpath(path.absolute()))
            if where in seen:
                continue
            seen.add(where)
            try:
                name = where.relative_to(project_abs).as_posix()
            except ValueError:
                name = path.as_posix()
            model = judge_file(path, name, progress)
            if model is not None:
                progress(f"model {name}: {model.format}")
                found.append(model)
    return tuple(sorted(found, key=lambda m: m.path))
