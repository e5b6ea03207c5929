"""setup.cfg's install_requires / extras_require, compared with setuptools' own reading
(setuptools.config.setupcfg.read_configuration: what `pip install .` builds from)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from governance.collect.lockfiles import setupcfg
from governance.collect.selection import Selection
from governance.collect.target import target_markers
from tests.entry import invoke
from tests.locktruth import CORPUS

MARKERS = target_markers("linux-x86_64", "3.11", {})


def setuptools_reads(path: Path) -> dict[str | None, list[str]]:
    from setuptools.config.setupcfg import read_configuration

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # metadata files (README.rst) the corpus did not keep
        options = read_configuration(str(path), ignore_option_errors=True)["options"]
    found: dict[str | None, list[str]] = {None: list(options.get("install_requires", []))}
    found.update(options.get("extras_require", {}))
    return found


def mlgov_reads(path: Path) -> dict[str | None, list[str]]:
    result = setupcfg.read(path, path.parent, MARKERS, Selection())
    found: dict[str | None, list[str]] = {None: []}
    for d in result.declarations:
        group = None if d.provenance.group == "main" else d.provenance.group
        extras = f"[{','.join(d.provenance.extras)}]" if d.provenance.extras else ""
        marker = f"; {d.provenance.markers}" if d.provenance.markers else ""
        url = f" @ {d.provenance.source.url}" if d.provenance.source else ""
        found.setdefault(group, []).append(f"{d.name}{extras}{d.provenance.specifier}{url}{marker}")
    return found


def normal(found: dict[str | None, list[str]]) -> dict[str | None, list[str]]:
    from packaging.requirements import Requirement

    return {k: sorted(str(Requirement(r)) for r in v) for k, v in found.items()}


def test_kraken_setup_cfg_reads_as_setuptools_reads_it() -> None:
    path = CORPUS / "kraken" / "setup.cfg"
    expected = normal(setuptools_reads(path))
    assert len(expected[None]) == 25 and expected["test"] == ["hocr-spec", "pytest"]
    assert normal(mlgov_reads(path)) == expected


TRAPS = """\
[metadata]
name = traps

[options]
install_requires =
    numpy==2.1.3
    # a comment line inside the list
    torch>=2.4; sys_platform == "linux"
    pywin32==306; sys_platform == "win32"
    requests[socks]>=2.31
    pkg @ https://example.org/pkg-1.0.tar.gz

[options.extras_require]
test = pytest==8.3.3; hypothesis
gpu = file: extras/gpu.txt

[flake8]
max-line-length = 100
format = %%(path)s
"""


def test_the_traps_read_as_setuptools_reads_them(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text(TRAPS)
    (tmp_path / "extras").mkdir()
    (tmp_path / "extras" / "gpu.txt").write_text("nvidia-cudnn-cu12==9.1.0.70\n# cuDNN for torch\ncupy-cuda12x\n")
    assert normal(mlgov_reads(tmp_path / "setup.cfg")) == normal(setuptools_reads(tmp_path / "setup.cfg"))


def test_a_scan_lists_what_applies_on_the_target_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text(TRAPS)
    (tmp_path / "extras").mkdir()
    (tmp_path / "extras" / "gpu.txt").write_text("nvidia-cudnn-cu12==9.1.0.70\n")
    code, output = invoke(["sbom", str(tmp_path), "-o", str(tmp_path / "s.json")])
    assert code == 0, output
    names = {c["name"]: c.get("version") for c in json.loads((tmp_path / "s.json").read_text())["components"]}
    # Extras nobody asked for and Windows-only lines are not installed on linux-x86_64.
    assert names == {"numpy": "2.1.3", "torch": None, "requests": None, "pkg": None}
    code, output = invoke(["scan", str(tmp_path), "--extra", "gpu", "--format", "json"])
    report = json.loads(output)
    pins = {(f["package"], f["file"], f["line"]) for f in report["findings"] if f["rule_id"] == "PIN001"}
    assert ("torch", "setup.cfg", 8) in pins
    assert report["summary"]["components"] == 5  # nvidia-cudnn-cu12 from extras/gpu.txt, asked for


@pytest.mark.parametrize("text", ["[flake8]\nmax-line-length = 100\n", "[metadata]\nname = x\n"])
def test_a_setup_cfg_of_settings_only_is_not_a_dependency_input(tmp_path: Path, text: str) -> None:
    (tmp_path / "setup.cfg").write_text(text)
    assert not setupcfg.matches(tmp_path / "setup.cfg")


@pytest.mark.parametrize(("text", "said"), [
    ("[options]\ninstall_requires =\n    numpy==\n", "setup.cfg:3: invalid requirement 'numpy=='"),
    ("[options]\ninstall_requires = pkg @ https://x.org/a%20b.tar.gz\n", "setup.cfg: invalid setup.cfg: '%' must"),
    ("[options]\ninstall_requires\n  = numpy\n[options\n", "setup.cfg:2: invalid setup.cfg: cannot parse the line 'install_requires\\n'"),
])
def test_a_broken_setup_cfg_is_exit_2_with_its_line(tmp_path: Path, text: str, said: str) -> None:
    (tmp_path / "setup.cfg").write_text(text)
    code, output = invoke(["scan", str(tmp_path)])
    assert code == 2 and said in output, output


def test_file_directive_outside_the_project_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (tmp_path / "secret.txt").write_text("numpy\n")
    (project / "setup.cfg").write_text("[options]\ninstall_requires = file: ../secret.txt\n")
    code, output = invoke(["scan", str(project)])
    assert code == 2 and "lies outside the scanned folders" in output


def test_a_file_directive_into_a_requirements_folder_is_read_not_flagged(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[options]\ninstall_requires = file: requirements/base.txt\n")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "base.txt").write_text("numpy==2.1.3\n")
    code, output = invoke(["scan", str(tmp_path), "--policy", "production", "--format", "json"])
    report = json.loads(output)
    assert "requirements/base.txt" in report["sources"]
    assert [f for f in report["findings"] if f["rule_id"] == "COV002"] == []


def test_a_line_before_the_first_section_is_an_error_at_its_line(tmp_path: Path) -> None:
    # configparser's MissingSectionHeaderError is a ParsingError without `errors`: an AttributeError before.
    from governance.errors import InputError

    (tmp_path / "setup.cfg").write_text("\ufeffname = x\n[options]\ninstall_requires = numpy\n")
    with pytest.raises(InputError, match="before the first \\[section\\]") as raised:
        setupcfg.read(tmp_path / "setup.cfg", tmp_path, MARKERS)
    assert raised.value.line == 1
