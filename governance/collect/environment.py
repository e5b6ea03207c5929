"""The installed environment: its site-packages and every distribution in it.

Nothing from the scanned environment is imported or executed. A virtual
environment is read from its files: pyvenv.cfg and lib/python3.X/site-packages
(a `.venv` without pyvenv.cfg is read by that layout, or refused). An
interpreter runs only when the user names one with `--python` and it lies
outside the scanned project: with an empty environment, `-I -S` (no site
hooks, no .pth lines, no sitecustomize) and a time limit, to ask for its
paths and marker values. A venv's interpreter is read as its venv: the venv's
site-packages from its files, plus the base interpreter's when pyvenv.cfg says
`include-system-site-packages = true`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import field
from functools import lru_cache
from pathlib import Path

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from governance.collect.licenses import license_from_metadata
from governance.errors import InputError
from governance.escape import quote
from governance.frozen import frozen
from governance.inputs import confined, inside, read_input, read_optional, reading
from governance.model import Package, Provenance, Source

ENVIRONMENT = "<environment>"
PROBE_TIMEOUT_S = 20
_PROBE_ANSWER_BYTES = 1024 * 1024
_CFG_BYTES = 64 * 1024
_METADATA_BYTES = 16 * 1024 * 1024

# Runs in the named interpreter under -I -S: only its standard library is on
# sys.path. `import site` under -S defines site's functions without running
# site.main(), so no .pth file or sitecustomize is touched; getsitepackages
# adds what a distribution's site.py adds (Debian's dist-packages).
_PROBE = (
    "import json, sys, sysconfig, platform, os, site\n"
    "impl = sys.implementation\n"
    "v = impl.version\n"
    "iv = '%d.%d.%d' % (v.major, v.minor, v.micro)\n"
    "if v.releaselevel != 'final': iv += v.releaselevel[0] + str(v.serial)\n"
    "paths = [sysconfig.get_path('purelib'), sysconfig.get_path('platlib')]\n"
    "try: paths += site.getsitepackages([sys.base_prefix])\n"
    "except Exception: pass\n"
    "print(json.dumps({'paths': paths,\n"
    " 'markers': {'implementation_name': impl.name, 'implementation_version': iv,\n"
    "  'os_name': os.name, 'platform_machine': platform.machine(),\n"
    "  'platform_release': platform.release(), 'platform_system': platform.system(),\n"
    "  'platform_version': platform.version(),\n"
    "  'python_full_version': platform.python_version(),\n"
    "  'platform_python_implementation': platform.python_implementation(),\n"
    "  'python_version': '.'.join(platform.python_version_tuple()[:2]),\n"
    "  'sys_platform': sys.platform}}))\n"
)


@frozen
class Environment:
    """An installed Python environment, located but not yet read."""

    root: Path  # the venv folder or the interpreter given
    site_packages: tuple[Path, ...]
    markers: dict[str, str]  # PEP 508 marker values of that interpreter
    notes: tuple[str, ...] = field(default=())

    @property
    def folders(self) -> tuple[Path, ...]:
        """Where this environment's files may lie (links out of these are refused)."""
        return (self.root if self.root.is_dir() else self.root.parent,) + self.site_packages


def host_markers() -> dict[str, str]:
    """Marker values of the interpreter running mlgov."""
    from packaging.markers import default_environment

    return {key: str(value) for key, value in default_environment().items()}


def _within(path: Path, project: Path | None) -> bool:
    """Whether `path`, as written or with links resolved, lies inside the project."""
    if project is None:
        return False
    root = Path(os.path.abspath(project))
    written = Path(os.path.abspath(path))
    return written == root or written.is_relative_to(root) or inside(path, (Path(os.path.realpath(project)),))


def locate(python: str | Path, project: Path | None = None) -> Environment:
    """Find the site-packages of a virtual environment folder or an interpreter.

    `project` is the scanned folder: an interpreter inside it is never run.
    """
    path = Path(python)
    if not os.path.lexists(path):
        raise InputError("no such environment or interpreter", file=path)
    if path.is_dir() and _within(path, project):
        # A venv of the scanned tree is read only where it really lies inside it:
        # `.venv -> /usr` or a site-packages linked elsewhere would read (and
        # allow) folders outside the project.
        real_project = (Path(os.path.realpath(project)),) if project is not None else ()
        if not inside(path, real_project):
            raise InputError("the environment links outside the scanned project; not read", file=path)
        environment = _locate_folder(path, project)
        for folder in environment.site_packages:
            if not inside(folder, real_project):
                raise InputError("the environment links outside the scanned project; not read", file=folder)
        return environment
    if path.is_dir():
        return _locate_folder(path, project)
    if _within(path, project):
        raise InputError("this interpreter lies inside the scanned project; mlgov never runs a file from the "
                         "tree it scans. Give the venv folder instead (its files are read), or an "
                         "interpreter outside the project", file=path)
    # A venv's interpreter (bin/python, Scripts/python.exe) is read as its venv:
    # links are not resolved, since bin/python links to the base interpreter.
    folder = Path(os.path.abspath(path)).parent
    for root in (folder.parent, folder):
        if os.path.lexists(root / "pyvenv.cfg"):
            return _venv_interpreter(path, root)
    answer = _probe(path)
    return Environment(root=path, site_packages=answer[0], markers=answer[1])


def _locate_folder(path: Path, project: Path | None) -> Environment:
    cfg = path / "pyvenv.cfg"
    if os.path.lexists(cfg):
        return _from_pyvenv_cfg(path, cfg, base_allowed=not _within(path, project))
    return _from_layout(path)


def _venv_interpreter(python: Path, root: Path) -> Environment:
    venv = _from_pyvenv_cfg(root, root / "pyvenv.cfg", base_allowed=False)
    base_paths, markers = _probe(python)
    sites = list(venv.site_packages)
    if _include_system(root):
        # Under -S the venv's interpreter answers with its base's paths.
        sites += [p for p in base_paths if p.resolve() not in {s.resolve() for s in sites}]
    return Environment(root=root, site_packages=tuple(sites), markers=markers)


def _cfg_values(cfg: Path) -> dict[str, str]:
    text = read_input(cfg, "pyvenv.cfg", _CFG_BYTES, within=(cfg.parent,))
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if "=" not in raw:
            raise InputError(f"expected 'key = value', got {quote(raw.strip(), 80)}", file=cfg, line=number)
        key, _, value = raw.partition("=")
        values[key.strip().lower()] = value.strip()
    return values


def _include_system(root: Path) -> bool:
    return _cfg_values(root / "pyvenv.cfg").get("include-system-site-packages", "").lower() == "true"


def _site_folders(root: Path) -> list[Path]:
    # lib64 is a link to lib in venvs made on 64-bit Linux: one folder, read once.
    found: dict[Path, Path] = {}
    for pattern in ("lib/python3*/site-packages", "lib64/python3*/site-packages", "Lib/site-packages"):
        for candidate in sorted(root.glob(pattern)):
            if candidate.is_dir():
                found.setdefault(candidate.resolve(), candidate)
    return list(found.values())


def _layout_markers(root: Path, sites: list[Path], version: str) -> dict[str, str]:
    markers = host_markers()
    parts = version.split(".")
    if len(parts) >= 2 and all(x.isdigit() and len(x) < 4 for x in parts[:3]):
        markers["python_version"] = ".".join(parts[:2])
        markers["python_full_version"] = ".".join(parts[:3])
        markers["implementation_version"] = ".".join(parts[:3])
    else:
        # The folder name says which Python when pyvenv.cfg does not.
        name = sites[0].parent.name  # python3.11
        if re.fullmatch(r"python3\.\d{1,3}", name):
            markers["python_version"] = name[len("python"):]
    if (root / "Lib").is_dir() and not (root / "lib").is_dir():
        markers.update(sys_platform="win32", os_name="nt", platform_system="Windows")
    return markers


def _from_layout(root: Path) -> Environment:
    """A venv folder without pyvenv.cfg (copied, or committed): read by its layout, never run."""
    sites = _site_folders(root)
    if not sites:
        raise InputError("not a virtual environment (no pyvenv.cfg, no lib/python3.X/site-packages); "
                         "mlgov reads environments from their files and does not run interpreters "
                         "found in a scanned tree", file=root)
    note = (f"{root.name}: no pyvenv.cfg; read by its layout ({', '.join(s.relative_to(root).as_posix() for s in sites)})")
    return Environment(root=root, site_packages=tuple(sites), markers=_layout_markers(root, sites, ""),
                       notes=(note,))


def _from_pyvenv_cfg(root: Path, cfg: Path, base_allowed: bool = True) -> Environment:
    values = _cfg_values(cfg)
    version = values.get("version_info") or values.get("version") or ""
    sites = _site_folders(root)
    if not sites:
        raise InputError("virtual environment has no site-packages folder", file=root)
    markers = _layout_markers(root, sites, version)
    notes: list[str] = []
    if values.get("include-system-site-packages", "").lower() == "true":
        if base_allowed:
            sites += [p for p in _base_site_folders(values.get("home", ""), markers["python_version"])
                      if p.resolve() not in {s.resolve() for s in sites}]
        else:
            notes.append(f"{root.name}: include-system-site-packages = true, but the base interpreter's "
                         "packages are not read for a venv inside the scanned project; give its "
                         "interpreter with --python to include them")
    return Environment(root=root, site_packages=tuple(sites), markers=markers, notes=tuple(notes))


def _base_site_folders(home: str, python_version: str) -> list[Path]:
    """The base interpreter's site-packages, from pyvenv.cfg's `home` and the layouts
    CPython and Debian use: read from the file system, the base is not run."""
    if not home or not re.fullmatch(r"3\.\d{1,3}", python_version):
        return []
    prefix = Path(home).parent
    candidates = [prefix / "lib" / f"python{python_version}" / "site-packages",
                  prefix / "local" / "lib" / f"python{python_version}" / "dist-packages",
                  prefix / "lib" / "python3" / "dist-packages",
                  prefix / "lib" / f"python{python_version}" / "dist-packages"]
    return [p for p in candidates if p.is_dir()]


def _probe(python: Path) -> tuple[tuple[Path, ...], dict[str, str]]:
    """Ask an interpreter the user named for its site-packages and marker values."""
    import subprocess  # here: reading a venv from its files (the usual case) runs nothing
    import tempfile

    with tempfile.TemporaryFile() as out:
        try:
            # An empty environment: the job's secrets are not the interpreter's business,
            # and PYTHONPATH/PYTHONSTARTUP could not steer it anyway under -I.
            result = subprocess.run([str(python), "-I", "-S", "-c", _PROBE], stdout=out,
                                    stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env={},
                                    cwd=os.path.abspath(os.sep), timeout=PROBE_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise InputError(f"not a Python interpreter: no answer within {PROBE_TIMEOUT_S} s",
                             file=python) from None
        except (OSError, subprocess.SubprocessError) as exc:
            raise InputError(f"not a Python interpreter ({type(exc).__name__})", file=python) from None
        if result.returncode != 0:
            raise InputError("not a Python interpreter (it did not answer the path query)", file=python)
        out.seek(0)
        data = out.read(_PROBE_ANSWER_BYTES + 1)
    try:
        if len(data) > _PROBE_ANSWER_BYTES:
            raise ValueError("too long")
        answer = json.loads(data.decode("utf-8"))
        paths = [Path(p) for p in answer["paths"] if isinstance(p, str)]
        markers = {str(k): str(v) for k, v in answer["markers"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InputError("not a Python interpreter (unexpected answer)", file=python) from None
    unique: dict[Path, Path] = {}
    for path in paths:
        if path.is_dir():
            unique.setdefault(path.resolve(), path)  # purelib and platlib are often one folder
    return tuple(unique.values()), markers


def read_environment(env: Environment) -> list[Package]:
    """Every distribution installed in the environment, sorted by name.

    Files are read only inside the environment's own folders: a METADATA or
    INSTALLER linked to /proc/self/environ or a file beside the project is refused.
    """
    with confined(*env.folders):
        return _read_environment(env)


def _read_environment(env: Environment) -> list[Package]:
    seen: dict[str, Package] = {}
    for site in env.site_packages:
        try:
            entries = sorted(os.listdir(site))
        except OSError as exc:
            raise InputError(f"cannot list: {exc.strerror}", file=site) from None
        for entry in entries:
            if entry.endswith(".dist-info") or entry.endswith(".egg-info"):
                with reading(site / entry, "installed distribution"):
                    package = read_distribution(site / entry, env.markers)
                if package is not None and package.key not in seen:
                    # The first site-packages on the path wins, as at import time.
                    seen[package.key] = package
    return sorted(seen.values(), key=lambda p: p.key)


def _read_text(path: Path) -> str | None:
    # Through the guarded reader: a METADATA or INSTALLER that is a link out of the
    # environment, a FIFO or a huge file is an error naming it, not a hang or a leak.
    return read_optional(path, "installed-package file", _METADATA_BYTES)


# email.feedparser's headerRE: what a header line (or a continuation) starts with.
_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")


def parse_metadata(text: str) -> tuple[dict[str, list[str]], str]:
    """Core metadata headers (METADATA, PKG-INFO), parsed exactly as pip and importlib.metadata do:
    `email.parser` with the compat32 policy.

    A hand-written header loop disagrees with it on real files: scipy's multi-line `License:`
    holds continuation lines of only whitespace, which a loop that stops at the first blank-looking
    line takes for the end of the headers, losing Requires-Dist (the scipy -> numpy edge) and the
    classifiers. Header names are lower-cased; values are what compat32 returns (folded lines kept).

    This is email.feedparser's header pass (FeedParser._parsegen and _parse_headers, compat32's
    header_source_parse) step by step, without its line-by-line walk through the body (a README
    of several KB) and without importing the email package: reading an environment parses one of
    these per distribution. tests/test_metadata.py holds it to email.parser's answer (headers and
    body) on real files and on generated text. Text with lone surrogates goes to email.parser
    itself (compat32 turns such values into Header objects).
    """
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return _parse_metadata_email(text)
    lines: list[str] = []
    end = 0  # where the header lines end
    body = len(text)  # where the body starts: after an empty separator line, else at the first non-header
    # Lines as the feed parser cuts them: at \r\n, \r or \n, kept (StringIO with newline="").
    for line in io.StringIO(text, newline=""):
        if not _HEADER_LINE.match(line):
            body = end + len(line) if line[0] in "\r\n" else end
            break
        lines.append(line)
        end += len(line)
    headers: dict[str, list[str]] = {}
    value: list[str] = []
    last = len(lines) - 1
    for number, line in enumerate(lines):
        if line[0] in " \t":
            if value:  # a continuation; one before any header is dropped (a defect)
                value.append(line)
            continue
        if value:
            _store(headers, value)
            value = []
        if line.startswith("From "):
            if number == last and number != 0:
                return headers, line + text[body:]  # taken for the body's first line, pushed back
            continue  # a unix-from envelope line (first) or a misplaced one: not a header
        if line[0] == ":":
            continue  # no header name (a defect)
        value = [line]
    if value:
        _store(headers, value)
    return headers, text[body:]


def _store(headers: dict[str, list[str]], lines: list[str]) -> None:
    # compat32's header_source_parse
    name, value = lines[0].split(":", 1)
    value = value.lstrip(" \t") + "".join(lines[1:])
    headers.setdefault(name.lower(), []).append(value.rstrip("\r\n"))


def _parse_metadata_email(text: str) -> tuple[dict[str, list[str]], str]:
    from email.parser import HeaderParser
    from email.policy import compat32

    message = HeaderParser(policy=compat32).parsestr(text)
    headers: dict[str, list[str]] = {}
    for key, value in message.items():
        headers.setdefault(key.lower(), []).append(str(value))
    payload = message.get_payload()
    return headers, payload if isinstance(payload, str) else ""


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
        return values[0].strip() if values else None

    name = first("name") or ""
    version = first("version") or ""
    if not name or not version:
        return None
    from governance.collect.declared import check_version_text

    check_version_text(version, str(meta_file))
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
# reading an environment) is kept for lines this cannot read. No pattern here
# may backtrack: one greedy class, then plain string checks (linear in the line).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _quick_name(head: str) -> str | None:
    text = head.strip()
    match = _NAME.match(text)
    if match is None or not match.group(0)[-1].isalnum():
        return None
    rest = text[match.end():].lstrip()
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            return None
        rest = rest[close + 1:]
    if "@" in rest or "[" in rest:
        return None  # a direct reference or something odd: the full parser decides
    return match.group(0)


@lru_cache(maxsize=4096)
def _marker(text: str) -> Marker | None:
    try:
        return Marker(text)
    except InvalidMarker:
        return None


@lru_cache(maxsize=4096)
def _marker_verdict(text: str, environment: tuple[tuple[str, str], ...]) -> bool | None:
    """Whether a Requires-Dist marker holds in the environment; None when it does not parse.
    Cached: an environment's distributions repeat the same few markers hundreds of times."""
    marker = _marker(text)
    return None if marker is None else marker_applies(marker, dict(environment))


_canonical = lru_cache(maxsize=8192)(canonicalize_name)


def _requires(lines: list[str], markers: dict[str, str]) -> tuple[str, ...]:
    names: set[str] = set()
    environment: tuple[tuple[str, str], ...] | None = None
    for line in lines:
        head, _, marker_text = line.partition(";")
        quick = _quick_name(head)
        if quick is not None:
            name = quick
            marker_text = marker_text.strip()
            if marker_text:
                if environment is None:
                    environment = tuple(sorted(markers.items()))
                if not _marker_verdict(marker_text, environment):
                    continue  # false, or a marker that does not parse
        else:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue  # a broken dependency line of an installed package is not the user's input
            name, marker = requirement.name, requirement.marker
            if marker is not None and not marker_applies(marker, markers):
                continue
        names.add(_canonical(name))
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
    """Rows of a RECORD (CSV) with a path. Without a quote, carriage return or NUL, a CSV row is a
    line and its first field what comes before the first comma: counted without the csv module."""
    if '"' in text or "\r" in text or "\0" in text:
        return sum(1 for row in csv.reader(io.StringIO(text)) if row and row[0])
    return sum(1 for line in text.split("\n") if line and line[0] != ",")
