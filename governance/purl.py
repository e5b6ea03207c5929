"""Package URLs as the purl specification spells them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.model import ContainerImage, Package


def pypi_name(name: str) -> str:
    # The purl spec's pypi type: lower case, '_' replaced by '-'.
    return name.lower().replace("_", "-")


# In a pypi purl's name and version, the characters packageurl's to_string() writes as they are
# (RFC 3986's unreserved ones; the name is already lower case with '-' for '_'), plus '+', which it
# writes as %2B. Such a purl (nearly every one) is spelled here directly: one is made per component.
_PLAIN_NAME = re.compile(r"[a-z0-9.~-]+")
_PLAIN_VERSION = re.compile(r"[A-Za-z0-9._~+-]+")


def package_purl(package: Package) -> str:
    if package.ecosystem == "pypi":
        name, version = pypi_name(package.name), package.version
        if _PLAIN_NAME.fullmatch(name) and (not version or _PLAIN_VERSION.fullmatch(version)):
            return f"pkg:pypi/{name}@{version.replace('+', '%2B')}" if version else f"pkg:pypi/{name}"
    from packageurl import PackageURL

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


def image_purl(image: ContainerImage) -> str | None:
    """A container image's purl, as the purl spec's `oci` and `docker` types say.

    With a digest: pkg:oci (registry-agnostic, the version is the digest, the
    location goes into repository_url and the tag into `tag`). Without one:
    pkg:docker, whose namespace is the user/organisation and whose version is the
    tag; a registry other than Docker Hub goes into repository_url. Docker Hub's
    official images (library/NAME) are written without the namespace, as the
    spec's own example `pkg:docker/cassandra@latest` is.
    """
    if image.registry is None or image.repository is None:
        return None
    from packageurl import PackageURL

    *path, last = image.repository.split("/")
    if image.digest:
        qualifiers = {"repository_url": f"{image.registry}/{image.repository}"}
        if image.tag:
            qualifiers["tag"] = image.tag
        return PackageURL(type="oci", name=last.lower(), version=image.digest, qualifiers=qualifiers).to_string()
    namespace = "/".join(path) or None
    qualifiers = {}
    if image.registry != "docker.io":
        qualifiers["repository_url"] = image.registry
    elif namespace == "library":
        namespace = None
    return PackageURL(type="docker", namespace=namespace, name=last, version=image.tag,
                      qualifiers=qualifiers or None).to_string()
