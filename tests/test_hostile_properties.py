"""Property tests, one per reader: arbitrary bytes and arbitrary JSON/TOML/YAML shapes
give exit 0, 1 or 2 (never 3, the internal-error class), and never hang.

Deterministic by construction: `derandomize=True` (examples derived from the
test itself, not a random seed), no example database, a bounded number of
examples, no deadline (a loaded CI machine must not fail a test), but a hard
per-example alarm that fails a hang.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.cli import main

# More examples for a deeper local run: MLGOV_PROPERTY_EXAMPLES=500 pytest tests/test_hostile_properties.py
EXAMPLES = int(os.environ.get("MLGOV_PROPERTY_EXAMPLES", "12"))
HANG_S = 20
PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=EXAMPLES,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Keys the readers look for, mixed with arbitrary ones, so that shapes reach deep code.
KEYS = st.sampled_from([
    "name", "version", "source", "dependencies", "package", "packages", "metadata", "markers", "marker",
    "hashes", "hash", "url", "wheels", "sdist", "extras", "optional-dependencies", "groups", "default",
    "develop", "_meta", "requires", "files", "lock-version", "content-hash", "registry", "editable",
    "path", "git", "rev", "index", "specifiers", "requires-python", "project", "tool", "poetry", "pdm",
    "uv", "format", "host", "nvidia", "driver_version", "gpus", "cuda_runtimes", "cudnn", "components",
    "bomFormat", "specVersion", "properties", "value", "purl", "licenses", "id", "affected", "ranges",
    "events", "introduced", "fixed", "ecosystem", "schema", "fail_on", "rules", "waivers", "stages",
    "level", "reason", "expires", "channels", "platform", "category", "manager", "optional",
]) | st.text(max_size=8)
TRICKY = st.sampled_from(["", "torch", "1.0", "==1.0", "5\u00b20", "1" * 60, "\ud800", "\x00", "\u202e",
                          "../../etc/passwd", "::error::x", "python_version > '3'", "sha256:" + "a" * 64,
                          "git+https://x/y@z", "-1", "None", "*"])
SCALARS = st.none() | st.booleans() | st.integers(min_value=-(10 ** 30), max_value=10 ** 30) \
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20) | TRICKY
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
                    max_leaves=25)
JSON_OBJECT = st.dictionaries(KEYS, JSON, max_size=6)


def _toml_able(value: Any) -> Any:
    """TOML has no null and no mixed nesting restrictions worth modelling: drop None."""
    if isinstance(value, dict):
        return {str(k): _toml_able(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_toml_able(v) for v in value if v is not None]
    return value


def toml_text(data: dict[str, Any]) -> str:
    try:
        return tomli_w.dumps(_toml_able(data))
    except (TypeError, ValueError, UnicodeError):
        return "x = 1\n"


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def hang(signum: int, frame: object) -> None:
        raise TimeoutError(f"an example ran over {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def exit_code(args: list[str]) -> int:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), time_limit(HANG_S):
        try:
            main(args)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 2
        else:
            code = 0
    assert code in (0, 1, 2), (code, err.getvalue()[-500:])
    assert "Traceback" not in err.getvalue()
    return code


def in_project(files: dict[str, bytes], args: Callable[[Path], list[str]]) -> int:
    folder = Path(tempfile.mkdtemp(prefix="mlgov-prop-"))
    try:
        project = folder / "proj"
        project.mkdir()
        for name, data in files.items():
            target = project / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return exit_code(args(project))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def scan(project: Path) -> list[str]:
    return ["scan", str(project), "--format", "json"]


def encoded(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


TOML_LOCKS = ["uv.lock", "poetry.lock", "pdm.lock", "pylock.toml", "pyproject.toml"]


@pytest.mark.parametrize("name", TOML_LOCKS + ["Pipfile.lock", "environment.yml", "conda-lock.yml",
                                               "requirements.txt", "setup.cfg"])
@PROPERTY
@given(data=st.binary(max_size=600))
def test_any_bytes_in_a_project_file(name: str, data: bytes) -> None:
    in_project({name: data}, scan)


@pytest.mark.parametrize("name", TOML_LOCKS)
@PROPERTY
@given(shape=JSON_OBJECT, version=st.sampled_from([1, "1", "1.0", "2.0", "2.1", 4, None]))
def test_any_toml_shape_in_a_lockfile(name: str, shape: dict[str, Any], version: Any) -> None:
    if version is not None:
        shape = {"version": version, "lock-version": version, **shape}
    in_project({name: encoded(toml_text(shape))}, scan)


@pytest.mark.parametrize("name", ["Pipfile.lock", "environment.yml", "conda-lock.yml"])
@PROPERTY
@given(shape=JSON)
def test_any_json_or_yaml_shape_in_a_lockfile(name: str, shape: Any) -> None:
    in_project({name: encoded(json.dumps(shape))}, scan)


LINE = st.lists(st.sampled_from(list("abz019 .-_=<>!~;@[],#\\\"'/:*+$\t")) | TRICKY, max_size=20).map("".join)


@PROPERTY
@given(lines=st.lists(LINE | st.sampled_from(["-r other.txt", "-c other.txt", "-e .", "--hash=sha256:00",
                                              "-r requirements.txt", "--index-url", "-i http://x"]),
                      max_size=12))
def test_any_requirements_lines(lines: list[str]) -> None:
    text = "\n".join(lines)
    in_project({"requirements.txt": encoded(text), "other.txt": b"six\n"}, scan)


@PROPERTY
@given(metadata=st.binary(max_size=400) | st.lists(LINE, max_size=10).map(lambda ls: encoded("\n".join(ls))),
       cfg=st.binary(max_size=80), installer=st.binary(max_size=40), direct_url=JSON)
def test_any_installed_distribution(metadata: bytes, cfg: bytes, installer: bytes, direct_url: Any) -> None:
    site = ".venv/lib/python3.11/site-packages/x-1.dist-info/"
    in_project({".venv/pyvenv.cfg": cfg, site + "METADATA": b"Name: x\nVersion: 1\n" + metadata,
                site + "INSTALLER": installer, site + "direct_url.json": encoded(json.dumps(direct_url)),
                site + "RECORD": metadata}, scan)


PROFILE_TOP = st.fixed_dictionaries({"format": st.just("mlgov-host-profile") | SCALARS,
                                     "version": st.just(1) | SCALARS}, optional={
    "host": JSON, "nvidia": JSON | st.fixed_dictionaries({"driver_version": JSON, "gpus": JSON}),
    "cuda_runtimes": JSON, "cudnn": JSON})


@PROPERTY
@given(profile=PROFILE_TOP | JSON, raw=st.none() | st.binary(max_size=200))
def test_any_host_profile(profile: Any, raw: bytes | None) -> None:
    data = raw if raw is not None else encoded(json.dumps(profile))
    in_project({"requirements.txt": b"six==1.16.0\n", "../host.json": data},
               lambda p: scan(p) + ["--host", str(p.parent / "host.json")])


SBOM_TOP = st.fixed_dictionaries({"bomFormat": st.just("CycloneDX"), "specVersion": st.sampled_from(["1.5", "1.6"])},
                                 optional={"components": JSON, "metadata": JSON, "dependencies": JSON,
                                           "vulnerabilities": JSON})


@PROPERTY
@given(sbom=SBOM_TOP, raw=st.none() | st.binary(max_size=200), xml=st.booleans())
def test_any_sbom(sbom: dict[str, Any], raw: bytes | None, xml: bool) -> None:
    if raw is not None:
        data = raw
    elif xml:
        data = encoded('<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6">'
                       + "".join(f"<{k}>{json.dumps(v)[:50]}</{k}>" for k, v in sbom.items()
                                 if k.isidentifier()) + "</bom>")
    else:
        data = encoded(json.dumps(sbom))
    in_project({"../sbom.json": data}, lambda p: ["check", str(p.parent / "sbom.json"), "--format", "json"])


@PROPERTY
@given(policy=JSON_OBJECT, raw=st.none() | st.binary(max_size=200))
def test_any_policy(policy: dict[str, Any], raw: bytes | None) -> None:
    data = raw if raw is not None else encoded(toml_text({"schema": 1, **policy}))
    in_project({"requirements.txt": b"six==1.16.0\n", "../policy.toml": data},
               lambda p: scan(p) + ["--policy", str(p.parent / "policy.toml")])


ADVISORY = st.fixed_dictionaries({"id": st.just("PYSEC-0") | SCALARS}, optional={
    "affected": st.lists(st.fixed_dictionaries({}, optional={
        "package": st.fixed_dictionaries({"name": st.just("six") | SCALARS, "ecosystem": st.just("PyPI") | SCALARS})
        | JSON, "ranges": JSON, "versions": JSON}), max_size=3) | JSON,
    "modified": SCALARS, "severity": JSON, "summary": SCALARS, "aliases": JSON, "withdrawn": SCALARS})


@PROPERTY
@given(advisory=ADVISORY | JSON, raw=st.none() | st.binary(max_size=200), as_zip=st.booleans())
def test_any_advisory(advisory: Any, raw: bytes | None, as_zip: bool) -> None:
    data = raw if raw is not None else encoded(json.dumps(advisory))
    if as_zip:  # OSV's all.zip form, indexed without the cache
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("PYSEC-0.json", data)
        in_project({"requirements.txt": b"six==1.16.0\n", "../all.zip": buffer.getvalue()},
                   lambda p: scan(p) + ["--vuln-db", str(p.parent / "all.zip")])
        return
    in_project({"requirements.txt": b"six==1.16.0\n", "../osv/PYSEC-0.json": data},
               lambda p: scan(p) + ["--vuln-db", str(p.parent / "osv")])


@PROPERTY
@given(lines=st.lists(st.text(max_size=60), max_size=8), single=st.text(max_size=80))
def test_any_text_in_a_setup_cfg_requirement_list(lines: list[str], single: str) -> None:
    body = "\n".join("    " + line for line in lines)
    text = f"[options]\ninstall_requires =\n{body}\n\n[options.extras_require]\nx = {single}\n"
    in_project({"setup.cfg": encoded(text)}, scan)
