"""The scan pipeline as functions the CLI (and tests) call: collect, SBOM, evaluate."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from governance.collect import ScanOptions, collect
from governance.frozen import frozen
from governance.model import Evaluation, GpuStack, Inventory

if TYPE_CHECKING:
    from governance.vulns import VulnRequest

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@frozen
class SbomRequest:
    """The SBOM to write: format, CycloneDX version, reproducibility."""
    fmt: str = "json"  # "json" | "xml"
    spec_version: str = "1.6"
    reproducible: bool = False


def make_sbom(inventory: Inventory, request: SbomRequest, progress: Progress = _quiet) -> str:
    """Serialise and validate; raises SchemaViolation rather than return an invalid SBOM."""
    from governance.sbom.build import serialise_with_document
    from governance.sbom.validate import validate_json, validate_xml

    progress(f"building the CycloneDX {request.spec_version} SBOM ({len(inventory.packages)} components)")
    text, document = serialise_with_document(inventory, request.fmt, request.spec_version, request.reproducible)
    progress("validating the SBOM against the CycloneDX schema")
    if request.fmt == "xml":
        validate_xml(text, request.spec_version)
    else:
        validate_json(document, request.spec_version)  # the dict the text was written from, not parsed again
    return text


def now_utc() -> datetime:
    from governance.sbom.build import fixed_time

    return fixed_time() or datetime.now(timezone.utc).replace(microsecond=0)


@frozen
class ScanResult:
    """A scan's inventory, its evaluation, and the SBOM text when one was asked for."""
    inventory: Inventory
    evaluation: Evaluation
    sbom: str | None


def scan(options: ScanOptions, policy_name: str, stage: str | None, sbom: SbomRequest | None,
         progress: Progress = _quiet, now: datetime | None = None, vulns: VulnRequest | None = None) -> ScanResult:
    # Policy, rules and vulnerability matching are imported here, not at the top:
    # `mlgov sbom` needs none of them and pays for none of them at start-up.
    from governance.policy.evaluate import evaluate
    from governance.policy.load import load_policy
    from governance.vulns import find_vulnerabilities

    policy = load_policy(policy_name, stage)  # a bad policy fails before any work is done
    now = now or now_utc()
    inventory = collect(options, progress)
    if vulns is not None and vulns.wanted:
        inventory = find_vulnerabilities(inventory, vulns, policy, now, progress)
    text = make_sbom(inventory, sbom, progress) if sbom is not None else None
    digest = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None
    progress(f"evaluating policy {policy.name} (stage {policy.stage})")
    inventory = with_model_manifest(inventory, policy, options.project)
    evaluation = evaluate(inventory, policy, now, sbom_digest=digest)
    return ScanResult(inventory=inventory, evaluation=evaluation, sbom=text)


def check_sbom(path: Path, policy_name: str, stage: str | None, now: datetime | None = None,
               vulns: VulnRequest | None = None, progress: Progress = _quiet,
               hosts: tuple[GpuStack, ...] | None = None) -> Evaluation:
    """Judge an SBOM; `hosts` (from --host) replace the hosts it records, so that an auditor
    judges it against today's fleet."""
    from dataclasses import replace

    from governance.collect.frameworks import attribute_sbom
    from governance.inputs import read_input
    from governance.policy.evaluate import evaluate
    from governance.policy.load import load_policy
    from governance.sbom.read import MAX_SBOM_BYTES, parse_sbom

    policy = load_policy(policy_name, stage)
    text = read_input(path, "SBOM", MAX_SBOM_BYTES)  # read once: parsed, and digested for the report
    inventory = parse_sbom(text, str(path))
    inventory = replace(inventory, packages=attribute_sbom(inventory.packages, inventory.target),
                        hosts=inventory.hosts if hosts is None else hosts)
    digest = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    # An SBOM does not say where its project lives: the manifest is looked up
    # from where `mlgov check` runs (normally the repository's root).
    inventory = with_model_manifest(inventory, policy, Path("."))
    now = now or now_utc()
    if vulns is not None and vulns.wanted:
        from governance.vulns import find_vulnerabilities

        # Re-judge the SBOM's components against the advisories known now.
        inventory = find_vulnerabilities(inventory, vulns, policy, now, progress)
    return evaluate(inventory, policy, now, sbom_digest=digest)


def with_model_manifest(inventory: Inventory, policy: Any, project: Path) -> Inventory:
    """The models manifest the policy names (`[models] manifest`), read relative to the project."""
    named = policy.get("models", "manifest")
    if not named:
        return inventory
    from dataclasses import replace

    from governance.collect.models import manifest

    return replace(inventory, model_manifest=manifest.read(project / named, named))


__all__ = ["scan", "make_sbom", "check_sbom", "SbomRequest", "ScanResult", "ScanOptions"]
