"""A lockfile field of the wrong type is bad input: exit 2 naming the file, the field's line, the
entry and the field; never a package at a made-up version, never "unexpected content".

Each case edits one field of a fixture the real tool wrote (tests/data/lockfiles/*), the way a
hand edit or a hostile pull request would.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.entry import invoke

DATA = Path(__file__).parent / "data" / "lockfiles"


def _edit(tmp_path: Path, folder: str, name: str, pattern: str, replacement: str) -> tuple[Path, int]:
    """A copy of the fixture with the first match of pattern replaced; the line of the match."""
    project = tmp_path / "project"
    shutil.copytree(DATA / folder, project)
    text = (project / name).read_text()
    match = re.search(pattern, text, flags=re.MULTILINE)
    assert match, pattern
    (project / name).write_text(text[:match.start()] + replacement + text[match.end():])
    return project, text.count("\n", 0, match.start()) + 1


CASES = [
    # (folder, file, what is replaced, by what, the message)
    ("pipenv", "Pipfile.lock", r'"version": "==2\.5\.1"', '"version": 3',
     "default.absl-py: `version` is a number, where the format has a string"),
    ("pipenv", "Pipfile.lock", r'"markers": "sys_platform == \'linux\'"', '"markers": ["linux"]',
     "default.absl-py: `markers` is a list, where the format has a string"),
    ("pipenv", "Pipfile.lock", r'"hashes": \[', '"hashes": [7, ',
     "default.absl-py: `hashes[0]` is a number, where the format has a string"),
    ("uv", "uv.lock", r'^version = "1\.6\.3"', "version = 163",
     "package astunparse: `version` is a number, where the format has a string"),
    ("uv", "uv.lock", r'^wheels = \[\n    \{ url = "[^"]+astunparse[^"]+", hash = "[^"]+"',
     'wheels = [\n    { url = "x", hash = 5',
     "package astunparse: `wheels[0].hash` is a number, where the format has a string"),
    ("poetry", "poetry.lock", r'^version = "1\.6\.3"', "version = true",
     "package astunparse: `version` is true/false, where the format has a string"),
    ("poetry", "poetry.lock", r'^markers = "sys_platform == \\"linux\\""\nfiles', "markers = 3\nfiles",
     "`markers` is a number, where the format has a string or a table"),
    ("pdm", "pdm.lock", r'^dependencies = \[\n    "six",\n    "wheel",\n\]', 'dependencies = "six"',
     "package astunparse: `dependencies` is a string, where the format has a list"),
    ("uv-variants/editable-project", "pylock.toml", r'^index = "file:///fixtures/uv-variants/indexes/main"',
     "index = { url = 1 }", "package typinglike: `index` is a table, where the format has a string"),
]


@pytest.mark.parametrize(("folder", "name", "pattern", "replacement", "says"), CASES,
                         ids=[f"{c[1]}-{c[4].split('`')[1]}" for c in CASES])
def test_a_field_of_the_wrong_type_is_exit_2_naming_it(tmp_path: Path, folder: str, name: str, pattern: str,
                                                      replacement: str, says: str) -> None:
    project, line = _edit(tmp_path, folder, name, pattern, replacement)
    sbom = tmp_path / "sbom.json"
    code, out = invoke(["sbom", str(project), "--target-platform", "linux-x86_64", "--target-python", "3.11",
                        "-o", str(sbom)])
    assert code == 2, out
    assert f"{name}:{line}: " in out and says in out, out
    assert "unexpected content" not in out and "Traceback" not in out
    assert not sbom.exists()


def _pin002_lines(project: Path) -> dict[str, int | None]:
    code, out = invoke(["scan", str(project), "--format", "json", "--no-vuln-db", "--target-platform",
                        "linux-x86_64", "--target-python", "3.11", "--policy", "production"])
    assert code == 1, out
    return {f["package"]: f["line"] for f in json.loads(out)["findings"] if f["rule_id"] == "PIN002"}


@pytest.mark.parametrize("indent", [None, 2, "\t"], ids=["one-line", "two-spaces", "tabs"])
def test_pin002_on_a_pipfile_lock_names_the_entry_line_whatever_the_layout(tmp_path: Path,
                                                                           indent: int | str | None) -> None:
    project = tmp_path / "project"
    shutil.copytree(DATA / "pipenv", project)
    data = json.loads((project / "Pipfile.lock").read_text())
    for entry in list(data["default"].values())[:3]:
        entry.pop("hashes")  # PIN002: the policy wants hashes
    text = json.dumps(data, indent=indent)
    (project / "Pipfile.lock").write_text(text)
    lines = _pin002_lines(project)
    assert len(lines) == 3, lines
    for package, line in lines.items():
        assert line is not None, package
        expected = next(i for i, raw in enumerate(text.splitlines(), 1) if f'"{package}"' in raw) \
            if indent is not None else 1
        assert line == expected, (package, line, expected)
