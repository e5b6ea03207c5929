"""Which files of a project are container files: found by name, without reading them.

Apart from governance.collect.containers, which reads them, so that a scan of a
project without any imports none of the Dockerfile and compose readers.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from governance.errors import InputError
from governance.inputs import relative
from governance.model import Unread

MAX_CONTAINER_FILES = 500
MAX_DEPTH = 8
MAX_WALK_ENTRIES = 200_000

_SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__",
              ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages"}
_COMPOSE = re.compile(r"^(docker-)?compose([.\-_].*)?\.ya?ml$", re.IGNORECASE)


# Dockerfile.dockerignore is BuildKit's per-Dockerfile ignore file; the others are
# templates rendered into a Dockerfile by a tool, not something BuildKit reads.
_NOT_DOCKERFILES = (".dockerignore", ".j2", ".jinja", ".jinja2", ".tmpl", ".tpl", ".template", ".in", ".erb",
                    ".mustache", ".md", ".txt", ".orig", ".bak", ".swp")


def is_container_file(name: str) -> str | None:
    """'dockerfile', 'compose', 'template' (named like one, not read) or None for a file name."""
    lower = name.lower()
    if lower in ("dockerfile", "containerfile") or lower.endswith((".dockerfile", ".containerfile")) \
            or lower.startswith(("dockerfile.", "containerfile.")):
        return "template" if lower.endswith(_NOT_DOCKERFILES) else "dockerfile"
    if _COMPOSE.match(name):
        return "compose"
    return None


def find(root: Path, notes: list[str] | None = None, unread: list[Unread] | None = None) -> list[Path]:
    """Container files under the project, in a stable order; virtual environments are skipped.

    A tree with more entries than MAX_WALK_ENTRIES (a dataset checked in beside
    the code) is searched that far, and the note says so: never silently partial.
    """
    found: list[Path] = []
    base = len(root.parts)
    seen = 0
    for folder, dirs, files in os.walk(root):
        seen += len(dirs) + len(files)
        if seen > MAX_WALK_ENTRIES:
            if notes is not None:
                notes.append(f"container files: stopped looking after {MAX_WALK_ENTRIES} entries under the project "
                             f"(at {relative(Path(folder), root)}); container files deeper in were not judged")
            break
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not (here / d / "pyvenv.cfg").exists()
                         and len(here.parts) - base < MAX_DEPTH and not (here / d).is_symlink())
        for name in sorted(files):
            if not is_container_file(name):
                continue
            if (here / name).is_file():
                found.append(here / name)
            elif unread is not None and not (here / name).is_dir():
                # Named like a Dockerfile, but a FIFO, a socket or a dangling link: not opened (it could
                # block), and said, so that the images it names are not silently left unjudged.
                shown = (here / name).relative_to(root).as_posix()  # the link's own name, not where it points
                unread.append(Unread(file=shown, reason="named like a container file, but not a regular file "
                                     "(a FIFO, socket, device or a link to nothing)",
                                     fix=f"make {shown} a regular file in the project, or remove it"))
    if len(found) > MAX_CONTAINER_FILES:
        raise InputError(f"{len(found)} container files, over the limit of {MAX_CONTAINER_FILES}", file=root)
    return found
