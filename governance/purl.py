"""Package URLs as the purl specification spells them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from packageurl import PackageURL

if TYPE_CHECKING:
    from governance.model import Package


def pypi_name(name: str) -> str:
    # The purl spec's pypi type: lower case, '_' replaced by '-'.
    return name.lower().replace("_", "-")


def package_purl(package: Package) -> str:
    qualifiers: dict[str, str] = {}
    if package.ecosystem == "pypi":
        name = pypi_name(package.name)
        namespace = None
    elif package.ecosystem == "conda":
        name = package.name.lower()
        namespace = None
        for key in ("channel", "subdir", "build"):
            value = package.property(f"mlgov:conda:{key}")
            if value:
                qualifiers[key] = value
    else:
        name = package.name
        namespace = package.property("mlgov:namespace")
    # PackageURL percent-encodes the version, so a local version such as
    # 2.5.1+cu124 becomes 2.5.1%2Bcu124 as the spec requires.
    return PackageURL(type=package.ecosystem, namespace=namespace, name=name,
                      version=package.version, qualifiers=qualifiers or None).to_string()
