"""The installed environment: located without importing, every dist-info read."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from governance.collect.environment import locate, read_environment
from governance.errors import InputError
from tests.fakevenv import Dist, make_venv


def _dists() -> list[Dist]:
    return [
        Dist("torch", "2.5.1+cu124", summary="Tensors and Dynamic neural networks",
             license_expression="BSD-3-Clause",
             requires=["numpy", "nvidia-cudnn-cu12==9.1.0.70; platform_system == 'Linux'",
                       "typing-extensions>=4.8", "opt-einsum>=3.3; extra == 'opt-einsum'",
                       "pywin32; sys_platform == 'win32'"],
             urls=[("Homepage", "https://pytorch.org/"), ("Source", "https://github.com/pytorch/pytorch")]),
        Dist("numpy", "2.1.3", license="BSD License"),
        Dist("typing_extensions", "4.12.2",
             classifiers=["License :: OSI Approved :: Python Software Foundation License"]),
        Dist("nvidia-cudnn-cu12", "9.1.0.70", license="NVIDIA Proprietary Software"),
        Dist("mytool", "0.1.0", installer="uv",
             direct_url={"url": "file:///src/mytool", "dir_info": {"editable": True}}),
        Dist("vcsdep", "1.0", direct_url={"url": "https://github.com/o/vcsdep",
                                          "vcs_info": {"vcs": "git", "commit_id": "a" * 40}}),
        Dist("oldstyle", "0.9", classifiers=["License :: OSI Approved :: MIT License"], egg_info=True),
    ]


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    return make_venv(tmp_path / "venv", _dists())


def test_locates_site_packages_from_pyvenv_cfg(venv: Path) -> None:
    env = locate(venv)
    assert env.site_packages == (venv / "lib" / "python3.11" / "site-packages",)
    assert env.markers["python_version"] == "3.11"


def test_reads_every_distribution_with_local_versions_kept(venv: Path) -> None:
    packages = {p.key: p for p in read_environment(locate(venv))}
    assert set(packages) == {"torch", "numpy", "typing-extensions", "nvidia-cudnn-cu12", "mytool",
                             "vcsdep", "oldstyle"}
    assert packages["torch"].version == "2.5.1+cu124"
    assert packages["torch"].purl == "pkg:pypi/torch@2.5.1%2Bcu124"
    assert packages["torch"].summary == "Tensors and Dynamic neural networks"


@pytest.mark.parametrize(("name", "expression", "text"), [
    ("torch", "BSD-3-Clause", None),  # PEP 639 License-Expression
    ("numpy", "BSD-3-Clause", None),  # free-text License field, mapped
    ("typing-extensions", "PSF-2.0", None),  # Trove classifier
    ("oldstyle", "MIT", None),  # classifier in an egg-info
    ("nvidia-cudnn-cu12", None, "NVIDIA Proprietary Software"),  # kept as text, not guessed
])
def test_licences_in_all_three_styles(venv: Path, name: str, expression: str | None, text: str | None) -> None:
    package = {p.key: p for p in read_environment(locate(venv))}[name]
    assert (package.license_expression, package.license_text) == (expression, text)


def test_requires_dist_markers_are_evaluated_for_the_environment(venv: Path) -> None:
    torch = {p.key: p for p in read_environment(locate(venv))}["torch"]
    # Linux-only nvidia dep is kept on this Linux host, the extra and the win32 one are not.
    expected = {"numpy", "typing-extensions"} | ({"nvidia-cudnn-cu12"} if sys.platform == "linux" else set())
    assert set(torch.requires) == expected


def test_installer_direct_url_and_record(venv: Path) -> None:
    packages = {p.key: p for p in read_environment(locate(venv))}
    assert packages["mytool"].installer == "uv"
    assert packages["mytool"].source is not None and packages["mytool"].source.editable
    vcs = packages["vcsdep"].source
    assert vcs is not None and (vcs.kind, vcs.vcs, vcs.commit) == ("vcs", "git", "a" * 40)
    assert packages["numpy"].property("mlgov:record-files") == "2"
    assert dict(packages["torch"].urls)["Source"] == "https://github.com/pytorch/pytorch"


def test_an_interpreter_is_asked_without_site(tmp_path: Path) -> None:
    env = locate(Path(sys.executable))
    assert env.site_packages, "the running interpreter has a site-packages"
    assert env.markers["python_version"] == f"{sys.version_info.major}.{sys.version_info.minor}"


def test_a_file_that_is_not_python_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(InputError) as caught:
        locate(fake)
    assert str(fake) in str(caught.value) and "not a Python interpreter" in str(caught.value)


def test_a_folder_that_is_not_a_venv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a virtual environment"):
        locate(tmp_path)


def test_a_bad_pyvenv_cfg_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\nthis is not a setting\n")
    with pytest.raises(InputError) as caught:
        locate(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / 'pyvenv.cfg'}:2:")


def test_a_lib64_link_to_lib_is_read_once(venv: Path) -> None:
    (venv / "lib64").symlink_to("lib")
    env = locate(venv)
    assert env.site_packages == (venv / "lib" / "python3.11" / "site-packages",)
