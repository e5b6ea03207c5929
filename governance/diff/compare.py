"""What changes when a candidate release replaces the one in production.

`compare(old, new)` takes two CycloneDX documents as dicts (mlgov's or another
tool's) and lists every change, by kind. It is pure: no files, no network.
Working on the SBOM's components rather than on an Inventory means whatever
a document carries (packages, framework builds, the hosts' GPU stacks, model
files, container images, vulnerabilities) is compared the same way, whichever
tool wrote it.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Iterable, Iterator
from urllib.parse import unquote

from governance.frozen import frozen

# Change kinds, in the order a reader wants them; each maps to the category a
# promotion gate can fail on (`mlgov diff --fail-on`).
KINDS: dict[str, str] = {
    "downgraded": "downgrade",
    "hash-changed": "hash-change",
    "distributions-changed": "distribution-change",
    "source-changed": "source-change",
    "build-changed": "build-change",
    "gpu-changed": "gpu-change",
    "model-changed": "model-change",
    "image-changed": "image-change",
    "finding-introduced": "new-finding",
    "finding-fixed": "fixed-finding",
    "upgraded": "upgrade",
    "added": "added",
    "removed": "removed",
}
CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(KINDS.values()))
# What a promotion gate fails on when the policy or the command line says nothing else.
DEFAULT_FAIL_ON: tuple[str, ...] = ("downgrade", "hash-change", "new-finding")

# Component properties that describe a framework's GPU build (collect/frameworks.py).
_BUILD_PREFIXES = ("mlgov:gpu-build", "mlgov:cuda", "mlgov:cudnn", "mlgov:rocm", "mlgov:keras-backend")
_GPU_KIND = "mlgov:gpu-component"
_HOST = "mlgov:host"
_SOURCE_QUALIFIERS = ("repository_url", "download_url", "vcs_url", "channel")


@frozen
class Change:
    """One difference between the two releases."""

    kind: str  # a key of KINDS
    subject: str  # what changed, in the user's words: "torch", "host gpu-a: driver", "models/x.safetensors"
    old: str | None = None
    new: str | None = None
    detail: str = ""
    component: str | None = None  # the purl (new side when both), for tools that key on it

    @property
    def category(self) -> str:
        return KINDS[self.kind]

    def sort_key(self) -> tuple[int, str, str]:
        return (list(KINDS).index(self.kind), self.subject.lower(), self.detail)


@frozen
class Side:
    """One release: its label (file or folder) and what it carries."""

    label: str
    document: dict[str, Any]
    findings: tuple[dict[str, Any], ...] | None = None  # from a JSON report, when given
    name: str | None = None
    version: str | None = None


@frozen
class Diff:
    """What changed between two SBOMs or reports."""
    old: str
    new: str
    changes: tuple[Change, ...]
    old_components: int = 0
    new_components: int = 0
    compared_findings: bool = False  # both sides carried findings or vulnerabilities
    notes: tuple[str, ...] = field(default_factory=tuple)

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    def failing(self, fail_on: Iterable[str]) -> tuple[Change, ...]:
        wanted = set(fail_on)
        if "any" in wanted:
            return self.changes
        return tuple(c for c in self.changes if c.category in wanted)


# ---------------------------------------------------------------- components


def walk(components: Any) -> Iterator[dict[str, Any]]:
    """Every component, nested ones included (CycloneDX allows a tree)."""
    for component in components or ():
        if isinstance(component, dict):
            yield component
            yield from walk(component.get("components"))


def _properties(component: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for prop in component.get("properties") or ():
        if isinstance(prop, dict) and isinstance(prop.get("name"), str):
            found.setdefault(prop["name"], str(prop.get("value", "")))
    return found


def _split_purl(purl: str) -> tuple[str, str | None, dict[str, str]]:
    """(type/namespace/name lower-cased, version, qualifiers) without a full purl parser:
    a malformed purl from another tool still compares by its text."""
    body = purl.split("#", 1)[0]
    body, _, query = body.partition("?")
    qualifiers = {}
    for pair in query.split("&") if query else ():
        key, _, value = pair.partition("=")
        qualifiers[key.lower()] = unquote(value)
    base, at, version = body.rpartition("@")
    if not at or "/" in version:
        base, version = body, ""
    base = base.lower()
    if base.startswith("pkg:pypi/"):
        base = base.replace("_", "-").replace(".", "-")
    return base, unquote(version) or None, qualifiers


def _source_text(value: str) -> str:
    """mlgov:source is compact JSON ({"kind", "url", ...}): shown as its URL (and revision)."""
    import json

    try:
        data = json.loads(value)
    except ValueError:
        return value
    if not isinstance(data, dict):
        return value
    url = str(data.get("url", ""))
    commit = data.get("commit")
    return f"{data.get('kind', 'source')} {url}" + (f"@{commit}" if commit else "")


def _hashes(component: dict[str, Any]) -> frozenset[str]:
    return frozenset(f"{h.get('alg')}:{str(h.get('content', '')).lower()}"
                     for h in component.get("hashes") or () if isinstance(h, dict) and h.get("content"))


@frozen
class _Item:
    """One component of either side, keyed for comparison."""
    category: str  # package | gpu | model | image
    key: tuple[str, ...]
    subject: str
    version: str | None
    purl: str | None
    hashes: frozenset[str]
    source: tuple[tuple[str, str], ...]
    build: tuple[tuple[str, str], ...]


def _item(component: dict[str, Any]) -> _Item:
    props = _properties(component)
    purl = component.get("purl") if isinstance(component.get("purl"), str) else None
    name = str(component.get("name", ""))
    group = component.get("group")
    version = component.get("version")
    version = str(version) if version is not None else None
    kind = str(component.get("type", "library"))
    base, purl_version, qualifiers = _split_purl(purl) if purl else ("", None, {})
    if version is None:
        version = purl_version
    source = tuple(sorted((k, v) for k, v in qualifiers.items() if k in _SOURCE_QUALIFIERS))
    if "mlgov:source" in props:
        source += (("source", _source_text(props["mlgov:source"])),)
    build = tuple(sorted((k, v) for k, v in props.items() if k.startswith(_BUILD_PREFIXES)))
    if _GPU_KIND in props:
        host = props.get(_HOST, "")
        gpu_kind = props[_GPU_KIND]
        position = props.get("mlgov:position", "")
        label = {"driver": "NVIDIA driver", "gpu": "GPU", "cuda-runtime": "CUDA runtime",
                 "cudnn": "cuDNN"}.get(gpu_kind, gpu_kind)
        subject = f"host {host}: {label}" + (f" #{position}" if position not in ("", "0") else "")
        if gpu_kind == "gpu":
            version = name  # a GPU has no version; what changes is the model of card
        return _Item("gpu", ("gpu", host, gpu_kind, position), subject, version, purl, frozenset(), (), ())
    if kind == "machine-learning-model":
        key = base or f"{group or ''}/{name}"
        return _Item("model", ("model", key), name, version, purl, _hashes(component), source, ())
    if kind == "container":
        # An image's identity is where it is used (file, stage or service) and its
        # registry/repository, not its purl: pinning a digest turns pkg:docker into pkg:oci.
        # Its tag and digest are what changes.
        digest = next((h for h in _hashes(component)), None)
        if digest is None and purl_version and purl_version.startswith("sha256:"):
            digest = purl_version
        tag = version if version and not version.startswith("sha256:") else props.get("mlgov:tag", "")
        repository = f"{group}/{name}" if group and name else (name or base)
        where = (props.get("mlgov:image-file", ""), props.get("mlgov:stage", "") or props.get("mlgov:service", ""))
        return _Item("image", ("image", repository.lower(), *where), repository, tag, purl,
                     frozenset({digest}) if digest else frozenset(), source, ())
    key = base or f"{kind}:{(group or '').lower()}/{name.lower()}"
    return _Item("package", ("package", key), name if not group or base.startswith("pkg:pypi/")
                 else f"{group}/{name}", version, purl, _hashes(component), source, build)


def _items(document: dict[str, Any]) -> dict[tuple[str, ...], list[_Item]]:
    root = ((document.get("metadata") or {}).get("component") or {}).get("bom-ref")
    found: dict[tuple[str, ...], list[_Item]] = {}
    for component in walk(document.get("components")):
        if root is not None and component.get("bom-ref") == root:
            continue
        item = _item(component)
        found.setdefault(item.key, []).append(item)
    return found


def _version_order(old: str | None, new: str | None) -> int | None:
    """-1, 0, 1 comparing the public versions; None when either does not parse."""
    from packaging.version import InvalidVersion, Version

    if old is None or new is None:
        return None
    try:
        a, b = Version(old), Version(new)
    except InvalidVersion:
        return None
    if a.public == b.public:
        return 0
    return -1 if b < a else 1


def _local(version: str | None) -> str:
    return version.partition("+")[2] if version else ""


def _compare_package(old: _Item, new: _Item) -> list[Change]:
    changes: list[Change] = []
    purl = new.purl or old.purl
    if old.version != new.version:
        order = _version_order(old.version, new.version)
        if order == 0:  # same release, another build: 2.5.1+cu124 -> 2.5.1+cu128
            changes.append(Change("build-changed", new.subject, old.version, new.version,
                                  f"local version {_local(old.version) or '(none)'} -> "
                                  f"{_local(new.version) or '(none)'}", purl))
        elif order == -1:
            changes.append(Change("downgraded", new.subject, old.version, new.version, "", purl))
        else:
            # A version that does not parse is reported as an upgrade only when
            # it cannot be ordered at all; the detail says so.
            changes.append(Change("upgraded", new.subject, old.version, new.version,
                                  "" if order == 1 else "versions cannot be ordered", purl))
    elif old.hashes and new.hashes and old.hashes != new.hashes:
        gone = len(old.hashes - new.hashes)
        came = len(new.hashes - old.hashes)
        detail = f"same version, {came} new and {gone} vanished distribution hash(es)"
        if came and gone:
            # Files vanished and others came for the same version: republished or substituted.
            changes.append(Change("hash-changed", new.subject, f"{old.version} {_short(old.hashes)}",
                                  f"{new.version} {_short(new.hashes)}", detail, purl))
        else:
            # Only added (wheels for a new Python were locked) or only dropped (a platform left
            # the lock): every file that stayed is the file that was tested.
            changes.append(Change("distributions-changed", new.subject, old.version, new.version, detail, purl))
    if old.source != new.source and (old.source or new.source):
        changes.append(Change("source-changed", new.subject, _fmt_pairs(old.source), _fmt_pairs(new.source),
                              "the index or source the package comes from changed", purl))
    if old.build != new.build and (old.build or new.build):
        before, after = dict(old.build), dict(new.build)
        keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        detail = ", ".join(f"{k.removeprefix('mlgov:')} {before.get(k, '-')} -> {after.get(k, '-')}" for k in keys)
        earlier = next((i for i, c in enumerate(changes) if c.kind == "build-changed"), None)
        if earlier is None:
            changes.append(Change("build-changed", new.subject, old.version, new.version, detail, purl))
        else:
            changes[earlier] = Change("build-changed", new.subject, old.version, new.version,
                                      f"{changes[earlier].detail}; {detail}", purl)
    return changes


def _fmt_pairs(pairs: tuple[tuple[str, str], ...]) -> str | None:
    return ", ".join(v if k == "source" else f"{k}={v}" for k, v in pairs) or None


def _compare_items(old: _Item, new: _Item) -> list[Change]:
    if old.category == "package":
        return _compare_package(old, new)
    if old.category == "gpu":
        if old.version != new.version:
            return [Change("gpu-changed", new.subject, old.version, new.version, "", new.purl)]
        return []
    if old.category == "model":
        if old.hashes != new.hashes and (old.hashes or new.hashes):
            return [Change("model-changed", new.subject, _short(old.hashes), _short(new.hashes),
                           "the model file's hash changed", new.purl)]
        if old.version != new.version:
            return [Change("model-changed", new.subject, old.version, new.version, "revision changed", new.purl)]
        return []
    changes = []
    if old.version != new.version or old.hashes != new.hashes:
        detail = []
        if old.version != new.version:
            detail.append(f"tag {old.version or '(none)'} -> {new.version or '(none)'}")
        if old.hashes != new.hashes:
            detail.append(f"digest {_short(old.hashes) or '(none)'} -> {_short(new.hashes) or '(none)'}")
        changes.append(Change("image-changed", new.subject, _image_ref(old), _image_ref(new),
                              ", ".join(detail), new.purl))
    return changes


def _short(hashes: frozenset[str]) -> str | None:
    if not hashes:
        return None
    alg, _, content = sorted(hashes)[0].partition(":")
    value = f"{alg}:{content[:12]}…" if len(content) > 16 else f"{alg}:{content}"
    return value if len(hashes) == 1 else f"{value} (+{len(hashes) - 1})"


def _image_ref(item: _Item) -> str:
    return item.subject + (f":{item.version}" if item.version else "") + \
        (f"@{sorted(item.hashes)[0].split(':', 1)[-1]}" if item.hashes else "")


_ADDED = {"package": "added", "gpu": "gpu-changed", "model": "model-changed", "image": "image-changed"}
_REMOVED = {"package": "removed", "gpu": "gpu-changed", "model": "model-changed", "image": "image-changed"}


def _component_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    before, after = _items(old), _items(new)
    changes: list[Change] = []
    for key in sorted(set(before) | set(after)):
        olds, news = before.get(key, []), after.get(key, [])
        # Several entries under one key (two versions side by side): pair the
        # equal versions first, then what is left in order.
        remaining_old = list(olds)
        unmatched_new = []
        for item in news:
            twin = next((o for o in remaining_old if o.version == item.version), None)
            if twin is not None:
                remaining_old.remove(twin)
                changes.extend(_compare_items(twin, item))
            else:
                unmatched_new.append(item)
        for o, n in zip(remaining_old, unmatched_new):
            changes.extend(_compare_items(o, n))
        for o in remaining_old[len(unmatched_new):]:
            label = "removed" if o.category == "package" else "no longer present"
            changes.append(Change(_REMOVED[o.category], o.subject, o.version, None, label, o.purl))
        for n in unmatched_new[len(remaining_old):]:
            label = "added" if n.category == "package" else "new"
            changes.append(Change(_ADDED[n.category], n.subject, None, n.version, label, n.purl))
    return changes


# ---------------------------------------------------------------- findings


def _sbom_findings(document: dict[str, Any]) -> dict[tuple[str, ...], str]:
    """vulnerabilities[] as (advisory, affected purl-without-version) -> label."""
    refs = {c.get("bom-ref"): c for c in walk(document.get("components"))}
    found: dict[tuple[str, ...], str] = {}
    for vulnerability in document.get("vulnerabilities") or ():
        if not isinstance(vulnerability, dict):
            continue
        ident = str(vulnerability.get("id", "?"))
        waived = isinstance(vulnerability.get("analysis"), dict) and \
            vulnerability["analysis"].get("state") in ("not_affected", "false_positive", "resolved")
        if waived:
            continue
        for affect in vulnerability.get("affects") or ():
            ref = affect.get("ref") if isinstance(affect, dict) else None
            component = refs.get(ref) or {}
            purl = component.get("purl") or str(ref)
            base = _split_purl(purl)[0] if isinstance(purl, str) and purl.startswith("pkg:") else str(purl)
            name = component.get("name") or base
            found[("VULN", ident, base)] = f"{ident} in {name}"
    return found


def _report_findings(findings: Iterable[dict[str, Any]]) -> dict[tuple[str, ...], str]:
    found: dict[tuple[str, ...], str] = {}
    for finding in findings:
        if finding.get("waived"):
            continue
        fingerprint = finding.get("fingerprint")
        if isinstance(fingerprint, str) and fingerprint:
            key: tuple[str, ...] = ("fp", fingerprint)
        else:
            # Without a fingerprint: what the finding is about, not where the line is
            # or which version carries it, so an upgrade that keeps the problem keeps the key.
            key = tuple(str(finding.get(k) or "") for k in ("rule_id", "package", "vulnerability", "host", "file"))
        label = f"{finding.get('rule_id', '?')} {finding.get('level', '')}: {finding.get('message', '')}".strip()
        found[key] = label
    return found


def check_shape(document: dict[str, Any]) -> None:
    """Read a side the way compare() will, so that a shape it cannot use fails here,
    where the caller still knows which file it came from."""
    for name in ("metadata",):
        if name in document and not isinstance(document[name], dict):
            raise ValueError(f"{name} is not an object")
    for name in ("components", "vulnerabilities"):
        if name in document and not isinstance(document[name], list):
            raise ValueError(f"{name} is not a list")
    component = (document.get("metadata") or {}).get("component")
    if component is not None and not isinstance(component, dict):
        raise ValueError("metadata.component is not an object")
    _items(document)
    _sbom_findings(document)


def compare(old: Side, new: Side) -> Diff:
    changes = _component_changes(old.document, new.document)
    compared = False
    notes: list[str] = []
    if old.findings is not None and new.findings is not None:
        before, after = _report_findings(old.findings), _report_findings(new.findings)
        compared = True
    else:
        before, after = _sbom_findings(old.document), _sbom_findings(new.document)
        carried = ("vulnerabilities" in old.document) and ("vulnerabilities" in new.document)
        compared = carried
        if not carried and (old.findings is not None or new.findings is not None):
            notes.append("findings were given for one side only: give --old-report and --new-report together")
    if compared:
        for key in sorted(set(after) - set(before)):
            changes.append(Change("finding-introduced", after[key], detail="introduced"))
        for key in sorted(set(before) - set(after)):
            changes.append(Change("finding-fixed", before[key], detail="fixed"))
    else:
        notes.append("findings not compared: neither the SBOMs' vulnerabilities[] nor JSON reports "
                     "(--old-report/--new-report) were available on both sides")
    count = (lambda d: sum(1 for _ in walk(d.get("components"))))
    return Diff(old=old.label, new=new.label, changes=tuple(sorted(changes, key=Change.sort_key)),
                old_components=count(old.document), new_components=count(new.document),
                compared_findings=compared, notes=tuple(notes))


def parse_fail_on(value: str) -> tuple[str, ...]:
    """`downgrade,hash-change` -> the categories; raises ValueError naming an unknown one."""
    wanted = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [v for v in wanted if v not in CATEGORIES and v not in ("any", "none")]
    if unknown:
        raise ValueError(f"unknown change kind {unknown[0]!r} (known: {', '.join(CATEGORIES)}, any, none)")
    return tuple(v for v in wanted if v != "none")


__all__ = ["Change", "Diff", "Side", "compare", "parse_fail_on", "CATEGORIES", "KINDS", "DEFAULT_FAIL_ON"]
