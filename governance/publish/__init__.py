"""`mlgov publish`: an SBOM into a Dependency-Track portfolio, the policy's waivers as VEX,
and the portfolio's verdict (policy violations, findings) back as an exit code."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any, Callable

from governance import __version__
from governance.model import Inventory
from governance.publish.dtrack import Client, Outcome, Project


def vex_document(inventory: Inventory) -> dict[str, Any] | None:
    """The analysed (waived) vulnerabilities as a CycloneDX 1.6 VEX; None when there are none.

    `affects` names each component by the bom-ref it has in the uploaded SBOM
    (mlgov writes the purl there), which is how Dependency-Track ties an
    analysis to the component it uploaded.
    """
    entries = []
    for vulnerability in inventory.vulnerabilities:
        if not vulnerability.analysis_state:
            continue
        package = next((p for p in inventory.packages if p.key == vulnerability.package
                        and p.version == vulnerability.version), None)
        ref = package.purl if package is not None else f"pkg:pypi/{vulnerability.package}@{vulnerability.version}"
        analysis: dict[str, Any] = {"state": vulnerability.analysis_state}
        if vulnerability.analysis_justification:
            analysis["justification"] = vulnerability.analysis_justification
        if vulnerability.analysis_detail:
            analysis["detail"] = vulnerability.analysis_detail
        entries.append({"bom-ref": f"vex:{vulnerability.id}:{ref}", "id": vulnerability.id,
                        "analysis": analysis, "affects": [{"ref": ref}]})
    if not entries:
        return None
    digest = uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(entries, sort_keys=True))
    return {
        "bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": digest.urn, "version": 1,
        "metadata": {"tools": {"components": [{"type": "application", "group": "mlgov", "name": "mlgov",
                                               "version": __version__}]}},
        "vulnerabilities": entries,
    }


def waived_inventory(sbom: Path, policy_name: str | None, stage: str | None, today: dt.date) -> Inventory:
    """The SBOM's inventory, with the policy's live waivers applied to its vulnerabilities."""
    from governance.sbom.read import read_sbom

    inventory = read_sbom(sbom)
    if policy_name is None:
        return inventory
    from governance.policy.load import load_policy
    from governance.policy.waivers import annotate

    policy = load_policy(policy_name, stage)
    return annotate(inventory, policy.waivers, today, policy.name)


def publish(client: Client, sbom: Path, sbom_bytes: bytes, project: Project, inventory: Inventory,
            wait_s: float, progress: Callable[[str], None]) -> Outcome:
    from governance.sbom.validate import validate

    progress(f"uploading {sbom} to {client.base_url} as {project.name} {project.version}")
    token = client.upload_bom(sbom_bytes, project)
    client.wait(token, wait_s)
    vex = vex_document(inventory)
    vex_token = None
    if vex is not None:
        text = json.dumps(vex, indent=2, ensure_ascii=False)
        validate(text, "json", "1.6")  # never send the portfolio an invalid document
        progress(f"uploading {len(vex['vulnerabilities'])} waiver(s) as VEX")
        vex_token = client.upload_vex(text.encode("utf-8"), project)
        if vex_token:
            client.wait(vex_token, wait_s)
    uuid_ = client.project_uuid(project)
    return Outcome(project_uuid=uuid_, token=token, violations=client.violations(uuid_),
                   findings=client.findings(uuid_), vex_token=vex_token,
                   waivers_sent=len(vex["vulnerabilities"]) if vex else 0)


__all__ = ["publish", "vex_document", "waived_inventory"]
