"""The SBOM is written and read section by section.

A section is one part of the Inventory (the packages, the hosts' GPU stacks,
the vulnerabilities, ...) and the CycloneDX it becomes: it contributes plain
dicts in the JSON document's form (components, dependency entries, metadata
properties, vulnerabilities) and reads its part back from that form. The
build puts the contributions together, validates once, and derives the XML
from the same dicts (governance/sbom/xml.py), so a new kind of component is
one new module listed in SECTIONS and nothing else.

Reading: every component is offered to the sections after the first in
order; the first that `owns` it gets it, and what nobody owns goes to the
first section, packages (which also reads other tools' SBOMs). Each
section's `read` returns the Inventory fields it fills.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Protocol

from governance.frozen import frozen

if TYPE_CHECKING:
    from governance.model import Inventory

Json = dict[str, Any]


@frozen
class Contribution:
    """What one section adds to the document, in the JSON form."""

    components: tuple[Json, ...] = ()
    dependencies: tuple[Json, ...] = ()
    properties: tuple[Json, ...] = ()  # metadata.properties
    vulnerabilities: tuple[Json, ...] = ()


class Section(Protocol):
    def write(self, inventory: Inventory) -> Contribution:
        """This section's part of the document (empty when the Inventory has none)."""

    def owns(self, component: Json) -> bool:
        """True for a component this section wrote (and reads back)."""

    def read(self, document: Json, components: list[Json]) -> dict[str, Any]:
        """Inventory fields from the document and the components this section owns."""


def prop(name: str, value: Any) -> Json:
    return {"name": name, "value": value if isinstance(value, str) else str(value)}


def properties(component: Json) -> dict[str, str]:
    """A component's (or the metadata's) properties as a dict; the last one of a name wins."""
    return {str(p.get("name")): str(p.get("value", "")) for p in component.get("properties") or []
            if isinstance(p, dict)}


def sections() -> tuple[Section, ...]:
    """Every section, in document order; packages first, and it takes what no other section owns."""
    from governance.sbom import containers, coverage, gpu, models, packages, vulns

    return (packages.SECTION, gpu.SECTION, containers.SECTION, models.SECTION, vulns.SECTION, coverage.SECTION)


_URI_UNSAFE = re.compile(r'[\x00-\x20\x7f"<>\\^`{|}\[\]]|%(?![0-9A-Fa-f]{2})')


def uri(text: str) -> str:
    """A URL from metadata made a valid IRI reference (JSON) and anyURI (XML).

    Metadata is hostile input: a space, a quote or a stray % would make the
    whole SBOM fail validation. Those characters are percent-encoded (as
    cyclonedx-python-lib's XsUri does for some of them); a second '#' too.
    """
    fixed = _URI_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), text)
    head, hash_sign, fragment = fixed.partition("#")
    return head + hash_sign + fragment.replace("#", "%23") if hash_sign else fixed
