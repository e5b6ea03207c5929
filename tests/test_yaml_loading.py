"""YAML lockfiles and environment files: the same data and the same refusals with libyaml (the C
pre-pass refusing aliases, then the C safe loader) and without it (the pure-Python loader).

The speed is measured by benchmarks/bench_yaml.py, not here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from governance.collect.lockfiles import _common as c
from governance.errors import InputError

DATA = Path(__file__).parent / "data" / "lockfiles"
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "real-projects"

BILLION_LAUGHS = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]" for i in range(1, 12)]
) + "\ndependencies: [python=3.11]\n"


@pytest.fixture(params=["libyaml", "pure-python"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "libyaml":
        if not yaml.__with_libyaml__:
            pytest.fail("PyYAML without libyaml: the wheels on PyPI have it; the fast path would go untested")
    else:
        monkeypatch.setattr(yaml, "__with_libyaml__", False)
    return str(request.param)


@pytest.mark.parametrize("text", [BILLION_LAUGHS, "a: &x 1\nb: *x\n", "- &x {k: v}\n- *x\n"])
def test_aliases_are_refused_with_their_line(loader: str, text: str) -> None:
    with pytest.raises(InputError) as raised:
        c.load_yaml(text, "environment.yml")
    line = next(i for i, raw in enumerate(text.splitlines(), 1) if "*" in raw)
    assert str(raised.value) == f"environment.yml:{line}: invalid YAML: YAML aliases (*name) are not accepted"


def test_an_anchor_without_an_alias_is_plain_data(loader: str) -> None:
    assert c.load_yaml("a: &x [1, 2]\nb: 3\n", "conda-lock.yml") == {"a": [1, 2], "b": 3}


@pytest.mark.parametrize(("text", "line"), [
    ("a: [1, 2\nb: 3\n", 2),
    ("a: !!python/object/apply:os.system ['true']\n", 1),
    ("a: 1\n  b: 2\n", 2),
])
def test_bad_yaml_is_exit_2_with_a_line(loader: str, text: str, line: int) -> None:
    with pytest.raises(InputError) as raised:
        c.load_yaml(text, "conda-lock.yml")
    assert raised.value.line == line and str(raised.value).startswith(f"conda-lock.yml:{line}: invalid YAML: ")


@pytest.mark.parametrize("path", [
    DATA / "conda" / "conda-lock.yml", DATA / "conda" / "environment.yml",
    DATA / "conda-pytorch-cuda118" / "conda-lock.yml",
], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_both_loaders_give_the_data_safe_load_gives(loader: str, path: Path) -> None:
    text = path.read_text()
    assert c.load_yaml(text, path.name) == yaml.safe_load(text)


def test_the_c_path_reads_a_real_880_package_conda_lock_as_safe_load_does() -> None:
    # yaml.safe_load is the pure-Python reference; the C path must build exactly its data
    # (timestamps, numbers, nulls included) for pangeo's conda-lock.yml.
    assert yaml.__with_libyaml__
    text = (CORPUS / "pangeo-docker-images" / "pytorch-notebook" / "conda-lock.yml").read_text()
    data = c.load_yaml(text, "conda-lock.yml")
    assert len(data["package"]) > 800
    assert data == yaml.safe_load(text)


def test_with_libyaml_the_document_is_built_by_the_c_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pure-Python loader took ~2.5 s on pangeo's 880-package conda-lock.yml (benchmarks/bench_yaml.py);
    # a change that falls back to it everywhere must not pass unnoticed.
    assert yaml.__with_libyaml__
    used: list[object] = []
    real = yaml.load

    def spy(stream: str, Loader: object) -> object:  # noqa: N803 - PyYAML's keyword
        used.append(Loader)
        return real(stream, Loader=Loader)  # noqa: S506 - the loader under test is a safe one

    monkeypatch.setattr(yaml, "load", spy)
    assert c.load_yaml((DATA / "conda" / "conda-lock.yml").read_text(), "conda-lock.yml")["version"] == 1
    assert used == [yaml.CSafeLoader]
