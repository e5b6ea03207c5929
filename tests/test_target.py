"""Target platforms as PEP 508 marker environments."""

from __future__ import annotations

import pytest
from packaging.markers import Marker

from governance.collect.target import PLATFORMS, label, resolve, target_markers
from governance.errors import InputError


@pytest.mark.parametrize("platform,marker,expected", [
    ("linux-x86_64", "platform_machine == 'x86_64' and sys_platform == 'linux'", True),
    ("linux-aarch64", "platform_machine == 'x86_64' and sys_platform == 'linux'", False),
    ("linux-aarch64", "platform_machine == 'aarch64' and platform_system == 'Linux'", True),
    ("macos-arm64", "sys_platform == 'darwin' and platform_machine == 'arm64'", True),
    ("windows-amd64", "sys_platform == 'win32' and os_name == 'nt'", True),
    ("windows-amd64", "platform_system == 'Linux'", False),
])
def test_platform_markers(platform: str, marker: str, expected: bool) -> None:
    environment = target_markers(platform, "3.11", {})
    assert Marker(marker).evaluate(environment) is expected


@pytest.mark.parametrize("python,version,full", [("3.11", "3.11", "3.11.0"), ("3.12.7", "3.12", "3.12.7")])
def test_python_markers(python: str, version: str, full: str) -> None:
    environment = target_markers("linux-x86_64", python, {})
    assert (environment["python_version"], environment["python_full_version"]) == (version, full)
    assert Marker("python_full_version < '3.12'").evaluate(environment) is (version == "3.11")


def test_every_platform_has_a_complete_environment() -> None:
    keys = {"sys_platform", "platform_system", "os_name", "platform_machine", "python_version",
            "python_full_version", "implementation_name", "platform_python_implementation"}
    for platform in PLATFORMS:
        assert keys <= set(target_markers(platform, "3.11", {}))
        assert label(target_markers(platform, "3.11", {})) == f"{platform}/py3.11"


@pytest.mark.parametrize("platform,python", [("solaris-sparc", None), (None, "2.7"), (None, "three")])
def test_bad_target_is_an_input_error(platform: str | None, python: str | None) -> None:
    with pytest.raises(InputError):
        target_markers(platform, python, {})


def test_no_target_means_the_scanned_interpreter() -> None:
    assert resolve(None, None) == (None, None)
    markers, shown = resolve(None, "3.12")
    assert markers is not None and markers["python_version"] == "3.12" and shown is not None and shown.endswith("/py3.12")
