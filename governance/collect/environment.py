"""The installed environment: its site-packages and every distribution in it.

Nothing from the scanned environment is imported or executed. A virtual
environment is found through its pyvenv.cfg; an interpreter given by path is
asked for its paths and marker values with `-I -S`, which runs no site hooks,
no .pth files and nothing from the project.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from governance.collect.licenses import license_from_metadata
from governance.errors import InputError
from governance.model import Package, Provenance, Source

ENVIRONMENT = "<environment>"

_PROBE = (
    "import json, sys, sysconfig, platform, os\n"
    "impl = sys.implementation\n"
    "v = impl.version\n"
    "iv = '%d.%d.%d' % (v.major, v.minor, v.micro)\n"
    "if v.releaselevel != 'final': iv += v.releaselevel[0] + str(v.serial)\n"
    "print(json.dumps({'paths': sorted({sysconfig.get_path('purelib'), sysconfig.get_path('platlib')}),\n"
    " 'markers': {'implementation_name': impl.name, 'implementation_version': iv,\n"
    "  'os_name': os.name, 'platform_machine': platform.machine(),\n"
    "  'platform_release': platform.release(), 'platform_system': platform.system(),\n"
    "  'platform_version': platform.version(),\n"
    "  'python_full_version': platform.python_version(),\n"
    "  'platform_python_implementation': platform.python_implementation(),\n"
    "  'python_version': '.'.join(platform.python_version_tuple()[:2]),\n"
    "  'sys_platform': sys.platform}}))\n"
)


@dataclass(frozen=True)
class Environment:
    """An installed Python environment, located but not yet read."""

    root: Path  # the venv folder or the interpreter given
    site_packages: tuple[Path, ...]
    markers: dict[str, str]  # PEP 508 marker values of that interpreter


def host_markers() -> dict[str, str]:
    """Marker values of the interpreter running mlgov."""
    from packaging.markers import default_environment

    return {key: str(value) for key, value in default_environment().items()}


def locate(python: str | Path) -> Environment:
    """Find the site-packages of a virtual environment folder or an interpreter."""
    path = Path(python)
    if not path.exists():
        raise InputError("no such environment or interpreter", file=path)
    if path.is_dir():
        cfg = path / "pyvenv.cfg"
        if cfg.is_file():
            return _from_pyvenv_cfg(path, cfg)
        for candidate in (path / "bin" / "python", path / "Scripts" / "python.exe"):
            if candidate.exists():
                return _from_interpreter(candidate)
        raise InputError("not a virtual environment (no pyvenv.cfg, no bin/python)", file=path)
    return _from_interpreter(path)


def _from_pyvenv_cfg(root: Path, cfg: Path) -> Environment:
    values: dict[str, str] = {}
    try:
        text = cfg.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", file=cfg) from None
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if "=" not in raw:
            raise InputError(f"expected 'key = value', got {raw.strip()!r}", file=cfg, line=number)
        key, _, value = raw.partition("=")
        values[key.strip().lower()] = value.strip()
    version = values.get("version_info") or values.get("version") or ""
    # lib64 is a link to lib in venvs made on 64-bit Linux: one folder, read once.
    found: dict[Path, Path] = {}
    for pattern in ("lib/python3*/site-packages", "lib64/python3*/site-packages", "Lib/site-packages"):
        for candidate in sorted(root.glob(pattern)):
            if candidate.is_dir():
                found.setdefault(candidate.resolve(), candidate)
    sites = list(found.values())
    if not sites:
        raise InputError("virtual environment has no site-packages folder", file=root)
    markers = host_markers()
    parts = version.split(".")
    if len(parts) >= 2 and all(x.isdigit() for x in parts[:2]):
        markers["python_version"] = ".".join(parts[:2])
        markers["python_full_version"] = ".".join(parts[:3])
        markers["implementation_version"] = ".".join(parts[:3])
    else:
        # The folder name says which Python when pyvenv.cfg does not.
        name = sites[0].parent.name  # python3.11
        if name.startswith("python"):
            markers["python_version"] = name[len("python"):]
    if (root / "Lib").is_dir() and not (root / "lib").is_dir():
        markers.update(sys_platform="win32", os_name="nt", platform_system="Windows")
    return Environment(root=root, site_packages=tuple(sites), markers=markers)


def _from_interpreter(python: Path) -> Environment:
    try:
        result = subprocess.run([str(python), "-I", "-S", "-c", _PROBE], capture_output=True,
                                text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise InputError(f"not a Python interpreter: {exc}", file=python) from None
    if result.returncode != 0:
        raise InputError("not a Python interpreter (it did not answer the path query)", file=python)
    try:
        answer = json.loads(result.stdout)
        paths = [Path(p) for p in answer["paths"]]
        markers = {str(k): str(v) for k, v in answer["markers"].items()}
    except (ValueError, KeyError, TypeError):
        raise InputError("not a Python interpreter (unexpected answer)", file=python) from None
    unique: dict[Path, Path] = {}
    for path in paths:
        if path.is_dir():
            unique.setdefault(path.resolve(), path)  # purelib and platlib are often one folder
    return Environment(root=python, site_packages=tuple(unique.values()), markers=markers)


def read_environment(env: Environment) -> list[Package]:
    """Every distribution installed in the environment, sorted by name."""
    seen: dict[str, Package] = {}
    for site in env.site_packages:
        try:
            entries = sorted(os.listdir(site))
        except OSError as exc:
            raise InputError(f"cannot list: {exc.strerror}", file=site) from None
        for entry in entries:
            if entry.endswith(".dist-info") or entry.endswith(".egg-info"):
                package = read_distribution(site / entry, env.markers)
                if package is not None and package.key not in seen:
                    # The first site-packages on the path wins, as at import time.
                    seen[package.key] = package
    return sorted(seen.values(), key=lambda p: p.key)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def parse_metadata(text: str) -> tuple[dict[str, list[str]], str]:
    """Core metadata headers (RFC 822 style, as METADATA and PKG-INFO hold them).

    Only the header block is parsed: the long description that follows can be
    megabytes and nothing here needs it.
    """
    headers: dict[str, list[str]] = {}
    last: str | None = None
    lines = text.splitlines()
    body_start = len(lines)
    for index, line in enumerate(lines):
        if not line.strip():
            body_start = index + 1
            break
        if line[0] in " \t" and last is not None:
            headers[last][-1] += "\n" + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        last = key.strip().lower()
        headers.setdefault(last, []).append(value.strip())
    return headers, "\n".join(lines[body_start:])


def read_distribution(path: Path, markers: dict[str, str]) -> Package | None:
    """One *.dist-info or *.egg-info folder (or egg-info file) as a Package."""
    if path.is_dir():
        meta_file = path / ("METADATA" if path.name.endswith(".dist-info") else "PKG-INFO")
    else:
        meta_file = path  # a single-file egg-info
    text = _read_text(meta_file)
    if text is None:
        return None
    headers, _ = parse_metadata(text)

    def first(key: str) -> str | None:
        values = headers.get(key)
        return values[0] if values else None

    name = first("name") or ""
    version = first("version") or ""
    if not name or not version:
        return None
    expression, license_text = license_from_metadata(
        first("license-expression"),
        first("license"),
        headers.get("classifier", []),
    )
    requires = _requires(headers.get("requires-dist", []), markers)
    if not requires and path.is_dir() and path.name.endswith(".egg-info"):
        requires = _egg_requires(path / "requires.txt", markers)
    urls: list[tuple[str, str]] = []
    home = first("home-page")
    if home and home.upper() != "UNKNOWN":
        urls.append(("Homepage", home))
    for entry in headers.get("project-url", []):
        label, _, url = entry.partition(",")
        if url.strip():
            urls.append((label.strip(), url.strip()))
    installer = None
    source = None
    properties: list[tuple[str, str]] = []
    if path.is_dir():
        installer_text = _read_text(path / "INSTALLER")
        installer = installer_text.strip() or None if installer_text else None
        source = _direct_url(path / "direct_url.json")
        record = _read_text(path / "RECORD")
        if record is not None:
            properties.append(("mlgov:record-files", str(_count_record(record))))
    summary = first("summary")
    provenance = Provenance(file=ENVIRONMENT, kind="environment", specifier=f"=={version}",
                            source=source)
    return Package(
        name=name, version=version, summary=summary or None,
        license_expression=expression, license_text=license_text,
        requires=requires, urls=tuple(urls), installer=installer, source=source,
        provenance=(provenance,), properties=tuple(properties),
    )


# The name that starts a Requires-Dist line (PEP 508); what follows it is only
# needed for the marker, so the full Requirement parser (the slowest part of
# reading an environment) is kept for lines this cannot read.
_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*[^;@]*$")


@lru_cache(maxsize=4096)
def _marker(text: str) -> Marker | None:
    try:
        return Marker(text)
    except InvalidMarker:
        return None


def _requires(lines: list[str], markers: dict[str, str]) -> tuple[str, ...]:
    names: set[str] = set()
    for line in lines:
        head, _, marker_text = line.partition(";")
        match = _NAME.match(head)
        if match is not None:
            name = match.group(1)
            marker = _marker(marker_text.strip()) if marker_text.strip() else None
            if marker_text.strip() and marker is None:
                continue
        else:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue  # a broken dependency line of an installed package is not the user's input
            name, marker = requirement.name, requirement.marker
        if marker is not None and not marker_applies(marker, markers):
            continue
        names.add(canonicalize_name(name))
    return tuple(sorted(names))


def _egg_requires(path: Path, markers: dict[str, str]) -> tuple[str, ...]:
    text = _read_text(path)
    if not text:
        return ()
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            break  # sections name extras or conditional requirements
        if line and not line.startswith("#"):
            lines.append(line)
    return _requires(lines, markers)


def marker_applies(marker: Marker, markers: dict[str, str], extras: tuple[str, ...] = ()) -> bool:
    """Evaluate a marker for one environment; extras requirements apply only when asked for."""
    environment = dict(markers)
    try:
        if not extras:
            environment["extra"] = ""
            return bool(marker.evaluate(environment))
        return any(marker.evaluate({**environment, "extra": extra}) for extra in extras)
    except (UndefinedComparison, UndefinedEnvironmentName, InvalidMarker):
        return False


def _direct_url(path: Path) -> Source | None:
    text = _read_text(path)
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return None
    url = data["url"]
    if isinstance(data.get("vcs_info"), dict):
        vcs = data["vcs_info"]
        return Source(kind="vcs", url=url, vcs=str(vcs.get("vcs") or "git"),
                      commit=str(vcs.get("commit_id")) if vcs.get("commit_id") else None)
    dir_info = data.get("dir_info")
    if isinstance(dir_info, dict):
        editable = bool(dir_info.get("editable"))
        return Source(kind="editable" if editable else "path", url=url, editable=editable)
    return Source(kind="path" if url.startswith("file:") else "url", url=url)


def _count_record(text: str) -> int:
    return sum(1 for row in csv.reader(io.StringIO(text)) if row and row[0])
