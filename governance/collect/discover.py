"""What mlgov reads at the top of a project folder, and what only looks like it.

The one place that knows both lists. What is read comes from the readers
themselves (requirements.PATTERNS and each lockfile reader's NAMES), so a reader
added for a new format also drops its files from "looks like an input but is not
read": a lookalike is reported only when no reader takes it. LOOKALIKES below is
data; add a row for a new kind of file that mlgov should not pass over silently.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from pathlib import Path

from governance.frozen import frozen
from governance.inputs import head
from governance.model import Unread

_HEAD_BYTES = 64 * 1024  # a lookalike's content test reads this much, never the whole file
_SUBFOLDER_LIMIT = 200  # folders looked into for the "nothing here, but one level down" hint


@frozen
class Lookalike:
    """A file or folder that probably holds dependencies mlgov does not read, and what to do about it."""
    pattern: str  # fnmatch pattern for a name at the top of the project
    reason: str  # what it probably is, in the user's words
    fix: str  # what makes it judgeable; {name} and {stem} are filled in
    folder: bool = False  # the pattern names a folder, not a file
    content: str | None = None  # a regex the file's head must match, else it is not a lookalike
    covered_by: str | None = None  # a sibling ({stem}.txt) whose being read covers this file
    alone: bool = False  # named only when no package was declared (a build script, not a dependency list)
    unless: str | None = None  # a regex that, found in the file's head, says it is something else


_LOCK_FIX = "export it in a format mlgov reads (`uv export`, `poetry export`, `pdm export` to requirements.txt or pylock.toml), or update mlgov"
_YAML_FIX = "name it environment.yml (or lock it with conda-lock into conda-lock.yml), or waive COV002 for it with a reason"

LOOKALIKES: tuple[Lookalike, ...] = (
    # MANIFEST.in (setuptools' sdist template: include/graft/prune lines) is no dependency list.
    Lookalike("*.in", "a pip-tools / `uv pip compile` input; mlgov reads the compiled file",
              "compile it (`uv pip compile {name} -o {stem}.txt`) and commit the output", covered_by="{stem}.txt",
              unless=r"(?m)^\s*(?:include|exclude|recursive-include|recursive-exclude|global-include|"
                     r"global-exclude|graft|prune)\s"),
    Lookalike("*.lock", "a lockfile of a kind this mlgov does not read", _LOCK_FIX),
    Lookalike("*.lock.json", "a lockfile of a kind this mlgov does not read", _LOCK_FIX),
    Lookalike("pylock*.toml", "named like a PEP 751 lock, but not `pylock.toml` or `pylock.NAME.toml`",
              "rename it pylock.toml or pylock.NAME.toml (PEP 751)"),
    Lookalike("conda-lock*.y*ml", "named like a conda-lock file, but not one mlgov reads",
              "name it conda-lock.yml (or conda-lock.NAME.yml)"),
    Lookalike("*.yml", "a YAML file with a conda-style `dependencies:` list, under a name mlgov does not read",
              _YAML_FIX, content=r"(?m)^dependencies\s*:"),
    Lookalike("*.yaml", "a YAML file with a conda-style `dependencies:` list, under a name mlgov does not read",
              _YAML_FIX, content=r"(?m)^dependencies\s*:"),
    Lookalike("requirements*", "named like a requirements file, but mlgov reads requirements*.txt",
              "rename it {stem}.txt, or include it from requirements.txt with `-r {name}`"),
    # InvokeAI's 2022 installer: py3.10-linux-x86_64-cuda-reqs.txt, one pinned file per platform.
    Lookalike("*reqs*.txt", "named like a requirements file, but mlgov reads requirements*.txt",
              "include the one installed on the target from requirements.txt with `-r {name}`"),
    Lookalike("constraints*.txt", "a pip constraints file, read only when a requirements file includes it",
              "include it from requirements.txt with `-c {name}`"),
    Lookalike("requirements", "a folder of requirements files; mlgov reads those at the project's top",
              "include the one that is installed from a top-level requirements.txt (`-r requirements/NAME.txt`)",
              folder=True),
    Lookalike("Pipfile", "a Pipfile without its Pipfile.lock", "run `pipenv lock` and commit Pipfile.lock",
              covered_by="Pipfile.lock"),
    Lookalike("setup.py", "setup.py, which mlgov never runs",
              "declare the dependencies in pyproject.toml's [project] table, or lock them", alone=True),
)


# Read by other collectors than the dependency readers, named in the "nothing to scan" message.
OTHER_INPUTS = ("container files (Dockerfile, Containerfile, compose files)", "model files")


def _readers() -> list[object]:
    from governance.collect import lockfiles

    return list(lockfiles._readers())


def read_patterns() -> tuple[str, ...]:
    """Every name pattern some reader takes: requirements files first, then each lockfile reader's NAMES."""
    from governance.collect.requirements import PATTERNS

    names: list[str] = list(PATTERNS)
    for reader in _readers():
        names.extend(getattr(reader, "NAMES", ()))
    return tuple(dict.fromkeys(names))


def _read_by_someone(path: Path) -> bool:
    from governance.collect.requirements import PATTERNS

    if any(fnmatch.fnmatchcase(path.name, pattern) for pattern in PATTERNS):
        return True
    return any(reader.matches(path) for reader in _readers())  # type: ignore[attr-defined]


def _head(path: Path) -> str:
    return head(path, _HEAD_BYTES) or ""


def _not_a_file(path: Path) -> str | None:
    """Why an entry named like an input cannot be read, or None when it is a readable file."""
    if path.is_symlink() and not path.exists():
        return f"a link to {os.readlink(path)}, which does not exist"
    if path.is_dir():
        return "a folder, not a file"
    if not path.is_file():
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "not readable (permissions)"
    return None


def _entries(root: Path) -> list[Path]:
    try:
        return sorted(root.iterdir(), key=lambda p: p.name)
    except OSError:
        return []


def unread(root: Path, read: Iterable[str], nothing_read: bool = False) -> tuple[Unread, ...]:
    """Entries at the top of root that look like dependency inputs and were not read.

    `nothing_read`: no package was declared or installed, so a build script
    (setup.py) may be where the dependencies are.

    `read` holds the names the scan read (relative to root, includes too), so
    a constraints file or a requirements/ folder that a requirements file
    includes is covered.
    """
    read_names = set(read)
    found: list[Unread] = []
    patterns = read_patterns()
    for entry in _entries(root):
        name = entry.name
        if name in read_names:
            continue
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
            why = _not_a_file(entry)
            if why is not None:
                found.append(Unread(file=name, reason=f"named like an input mlgov reads, but {why}",
                                    fix=f"make {name} a regular file in the project, or remove it"))
                continue
        for lookalike in LOOKALIKES:
            if not fnmatch.fnmatchcase(name, lookalike.pattern):
                continue
            if lookalike.alone and not nothing_read:
                break
            if lookalike.folder != entry.is_dir() or (not lookalike.folder and not entry.is_file()):
                continue
            if lookalike.folder and any(r.startswith(name + "/") for r in read_names):
                break  # a requirements file includes from it: what is installed was read
            if not lookalike.folder and _read_by_someone(entry):
                break
            stem = Path(name).stem if not lookalike.folder else name
            if lookalike.covered_by and lookalike.covered_by.format(stem=stem) in read_names:
                break
            if lookalike.content and not re.search(lookalike.content, _head(entry)):
                continue
            if lookalike.unless and re.search(lookalike.unless, _head(entry)):
                break
            shown = name + ("/" if lookalike.folder else "")
            found.append(Unread(file=shown, reason=lookalike.reason,
                                fix=lookalike.fix.format(name=name, stem=stem)))
            break
    return tuple(found)


# Lookalikes that, one folder down, say where a project's pip inputs are (not *.lock or *.yml:
# a frontend's yarn.lock or a docs folder's mkdocs.yml would send the user the wrong way).
_HINT_LOOKALIKES = ("*.in", "requirements*", "*reqs*.txt")


def _below(root: Path) -> list[str]:
    """Files one folder down that a reader would take, or that look like a dependency list (a
    lookalike file, not folder): the project is probably there."""
    found: list[str] = []
    patterns = read_patterns() + _HINT_LOOKALIKES
    folders = [p for p in _entries(root) if p.is_dir() and not p.name.startswith(".")
               and p.name not in ("node_modules", "__pycache__")][:_SUBFOLDER_LIMIT]
    for folder in folders:
        for entry in _entries(folder):
            if entry.is_file() and any(fnmatch.fnmatchcase(entry.name, p) for p in patterns):
                found.append(f"{folder.name}/{entry.name}")
    return found


def nothing_to_scan(root: Path, given_as: str, lookalikes: tuple[Unread, ...]) -> str:
    """The message for a project with nothing mlgov can read: what it looks for and where it looked."""
    where = str(root.resolve())
    reads = ", ".join(read_patterns())
    also = [getattr(r, "ALSO_READS") for r in _readers() if getattr(r, "ALSO_READS", None)]
    parts = [f"nothing to scan in {where}"
             + (" (the current folder)" if given_as in (".", "") else "")
             + f": mlgov reads {reads}" + (", " + ", ".join(also) if also else "")
             + ", " + ", ".join(OTHER_INPUTS)
             + ", and an installed environment (DIR/.venv or --python); found none of them there"]
    if lookalikes:
        parts.append("found but not read: " + "; ".join(f"{u.file} ({u.reason}: {u.fix})" for u in lookalikes))
    below = _below(root)
    if below:
        shown = ", ".join(below[:5]) + (f" and {len(below) - 5} more" if len(below) > 5 else "")
        first = below[0].split("/", 1)[0]
        parts.append(f"one folder down there is {shown}: scan that folder (mlgov scan {Path(given_as) / first})")
    elif given_as in (".", ""):
        parts.append("run mlgov in the project's folder, or name it: mlgov scan PATH")
    return "; ".join(parts)


def nothing_declared(root: Path, sources: Iterable[str], lookalikes: tuple[Unread, ...]) -> str:
    """The message for a project whose readable files declare no package, with what may hold its
    dependency list instead (setup.py beside a pyproject.toml of tool settings)."""
    message = f"nothing to judge in {root.resolve()}: {', '.join(sources)} declare(s) no package"
    if lookalikes:
        message += ", and what probably does was not read: " + "; ".join(
            f"{u.file} ({u.reason}: {u.fix})" for u in lookalikes)
    else:
        message += ("; declare the project's dependencies there (pyproject.toml's [project] dependencies, "
                    "requirements.txt), or scan its installed environment (--python)")
    return message


def nothing_for_target(root: Path, sources: Iterable[str], target: str) -> str:
    """The message for a project whose every requirement is for another target than the one scanned."""
    return (f"nothing to judge in {root.resolve()} for {target}: every requirement in {', '.join(sources)} is for "
            "another platform or Python (its marker excludes this target), so nothing installs here; scan for "
            "the target the project runs on (--target-platform, --target-python)")
