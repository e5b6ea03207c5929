"""pypi purls spelled directly are the ones packageurl's PackageURL.to_string() writes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from governance.model import Package
from governance.purl import package_purl, pypi_name

_NAME_PIECES = ["torch", "Zope", ".", "-", "_", "~", "a1", "é", " ", "/", "%", ":", "+", "@", "?", "#", "A"]
_VERSION_PIECES = ["1", ".", "0", "+", "cu124", "rc1", "post2", "dev3", "!", "_", "-", "~", " ", "é", "/", "%",
                   ":", "@", "local.7", "A"]


def library(name: str, version: str | None) -> object:
    try:
        return PackageURL(type="pypi", name=pypi_name(name), version=version).to_string()
    except Exception as exc:  # noqa: BLE001 - the library fails on some names; the same must happen
        return type(exc)


def ours(name: str, version: str | None) -> object:
    try:
        return package_purl(Package(name=name, version=version))
    except Exception as exc:  # noqa: BLE001 - the library fails on some names; the same must happen
        return type(exc)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_NAME_PIECES), max_size=6), st.one_of(st.none(),
       st.lists(st.sampled_from(_VERSION_PIECES), max_size=6).map("".join)))
def test_pypi_purls_are_packageurls(name: list[str], version: str | None) -> None:
    assert ours("".join(name), version) == library("".join(name), version)


def test_real_names_and_versions() -> None:
    cases = [("torch", "2.5.1+cu124"), ("zope.interface", "7.2"), ("typing_extensions", "4.12.2"),
             ("Jinja2", "3.1.4"), ("foo", "1!2.0"), ("foo", None), ("foo", ""), ("bar", "1.0 "),
             ("nvidia-cublas-cu12", "12.4.5.8")]
    for name, version in cases:
        assert ours(name, version) == library(name, version), (name, version)
    assert ours("torch", "2.5.1+cu124") == "pkg:pypi/torch@2.5.1%2Bcu124"
