"""Target platforms: the PEP 508 marker values of the machine a lock is installed on.

A lockfile may list packages for every platform (uv.lock is universal); the
target says which of them count. `--target-platform linux-x86_64
--target-python 3.11` gives the full marker environment of such a machine,
so that the SBOM lists what the lock installs there and nothing else.
"""

from __future__ import annotations

import re

from governance.errors import InputError
# The tables live in governance.platforms, which the CLI imports for its option
# choices without importing the collectors.
from governance.platforms import CONDA_SUBDIRS, PLATFORMS

_PYTHON = re.compile(r"^3\.(\d{1,2})(?:\.(\d{1,3}))?$")


def python_markers(python: str) -> dict[str, str]:
    """Marker values for `3.11` (taken as 3.11.0) or `3.11.9`."""
    match = _PYTHON.match(python.strip())
    if not match:
        raise InputError(f"--target-python {python!r}: expected a CPython version such as 3.11 or 3.11.9")
    minor, micro = match.group(1), match.group(2) or "0"
    full = f"3.{minor}.{micro}"
    return {"python_version": f"3.{minor}", "python_full_version": full,
            "implementation_name": "cpython", "implementation_version": full,
            "platform_python_implementation": "CPython"}


def target_markers(platform: str | None, python: str | None, base: dict[str, str]) -> dict[str, str]:
    """base (the host's or the scanned interpreter's values) with the target's laid over it."""
    markers = dict(base)
    if platform is not None:
        if platform not in PLATFORMS:
            raise InputError(f"--target-platform {platform!r}: expected one of {', '.join(PLATFORMS)}")
        markers.update(PLATFORMS[platform])
        markers["platform_release"] = ""
        markers["platform_version"] = ""
    if python is not None:
        markers.update(python_markers(python))
    return markers


def platform_of(markers: dict[str, str]) -> str | None:
    """The PLATFORMS name these markers describe, when they describe one of them."""
    machine = markers.get("platform_machine", "").lower()
    system = markers.get("sys_platform", "")
    for name, values in PLATFORMS.items():
        if values["sys_platform"] == system and values["platform_machine"].lower() == machine:
            return name
    return None


def label(markers: dict[str, str]) -> str:
    """"linux-x86_64/py3.11", the Inventory's target."""
    platform = platform_of(markers) or f"{markers.get('sys_platform', '?')}-{markers.get('platform_machine', '?')}"
    return f"{platform}/py{markers.get('python_version', '?')}"


def conda_subdir(markers: dict[str, str]) -> str | None:
    platform = platform_of(markers)
    return CONDA_SUBDIRS.get(platform) if platform else None


def resolve(platform: str | None, python: str | None, interpreter: object = None,
            project: object = None) -> tuple[dict[str, str] | None, str | None]:
    """(markers, label) for ScanOptions from --target-platform/--target-python.

    (None, None) when neither is given: the scanned interpreter's (or the host's)
    own values are used. Whatever is not given comes from the scanned
    environment when there is one, else from the host.
    """
    if platform is None and python is None:
        return None, None
    from pathlib import Path

    from governance.collect import environment

    base = environment.locate(Path(str(interpreter)), Path(str(project)) if project is not None else None).markers \
        if interpreter is not None \
        else environment.host_markers()
    markers = target_markers(platform, python, base)
    return markers, label(markers)
