"""Publishing an SBOM to OWASP Dependency-Track, and reading back its verdict.

The documented REST API (v1), nothing else:
  PUT  /api/v1/bom                    BomSubmitRequest (JSON; the BOM base64) -> {"token"}
  GET  /api/v1/event/token/{token}    -> {"processing": bool}   (DT 4.11+)
  GET  /api/v1/bom/token/{token}      the same for older servers (deprecated there)
  GET  /api/v1/project/lookup?name=&version=  -> the project, with its uuid
  GET  /api/v1/violation/project/{uuid}       -> policy violations
  GET  /api/v1/finding/project/{uuid}         -> vulnerability findings
  PUT  /api/v1/vex                    VexSubmitRequest (JSON; the VEX base64) -> {"token"}
Authentication is the `X-Api-Key` header. The key comes from an environment
variable only, never an option: options land in shell history and CI logs.

Standard library only (urllib): one more HTTP dependency is not worth the
seven requests this makes.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable

from governance.errors import InputError, NetworkError
from governance.frozen import frozen

API_KEY_ENV = "MLGOV_DTRACK_API_KEY"
URL_ENV = "MLGOV_DTRACK_URL"
SEVERITIES = ("critical", "high", "medium", "low", "info", "unassigned")
VIOLATION_STATES = ("fail", "warn", "info")
# What `--fail-on` accepts: violation states (at or above), finding severities (at or above).
FAIL_ON = tuple(f"violation-{s}" for s in VIOLATION_STATES) + SEVERITIES + ("none",)
DEFAULT_FAIL_ON = ("violation-fail",)
MAX_RESPONSE_BYTES = 64 * 1024 * 1024

_HINTS = {
    400: "the server rejected the request as invalid",
    401: f"the API key was refused: check {API_KEY_ENV}",
    403: "the API key lacks a permission this needs (BOM_UPLOAD; PROJECT_CREATION_UPLOAD for --auto-create; "
         "VIEW_PORTFOLIO, VIEW_POLICY_VIOLATION and VIEW_VULNERABILITY to read the verdict; "
         "VULNERABILITY_ANALYSIS to upload waivers as VEX)",
    404: "not found: the project does not exist (use --auto-create) or the URL is not a Dependency-Track API",
    413: "the SBOM is larger than the server (or a proxy in front of it) accepts: raise its request size limit",
}


@frozen
class Project:
    """The Dependency-Track project an SBOM is published to."""
    name: str
    version: str
    parent_name: str | None = None
    parent_version: str | None = None
    tags: tuple[str, ...] = ()
    auto_create: bool = False


@frozen
class Violation:
    """A policy violation Dependency-Track reports for the project."""
    state: str  # fail | warn | info
    policy: str
    kind: str  # LICENSE | SECURITY | OPERATIONAL
    component: str


@frozen
class PortfolioFinding:
    """A vulnerability Dependency-Track reports for the project."""
    vulnerability: str
    severity: str
    component: str


@frozen
class Outcome:
    """What publishing gave back: the project, the processing tokens, violations and findings."""
    project_uuid: str
    token: str
    violations: tuple[Violation, ...]
    findings: tuple[PortfolioFinding, ...]
    vex_token: str | None = None
    waivers_sent: int = 0

    def blocking(self, fail_on: tuple[str, ...]) -> tuple[Violation | PortfolioFinding, ...]:
        found: list[Violation | PortfolioFinding] = []
        states = [s.removeprefix("violation-") for s in fail_on if s.startswith("violation-")]
        if states:
            worst = max(VIOLATION_STATES.index(s) for s in states)  # "warn" also fails on "fail"
            found += [v for v in self.violations if VIOLATION_STATES.index(v.state) <= worst]
        severities = [s for s in fail_on if s in SEVERITIES]
        if severities:
            worst = max(SEVERITIES.index(s) for s in severities)
            found += [f for f in self.findings if SEVERITIES.index(f.severity) <= worst]
        return tuple(found)


@dataclass
class Client:
    """A Dependency-Track API at `base_url` (the server's root; /api/v1 is added)."""

    base_url: str
    api_key: str
    timeout: float = 30.0
    retries: int = 3  # for connection errors, 429 and 5xx; never for 4xx
    backoff: float = 1.0  # seconds before the first retry, doubled each time
    sleep: Callable[[float], None] = field(default=time.sleep)
    progress: Callable[[str], None] = field(default=lambda _: None)

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InputError(f"not an http(s) URL: {self.base_url!r} (set {URL_ENV} or --url)")
        self.base_url = self.base_url.rstrip("/")
        if self.base_url.endswith("/api"):
            self.base_url = self.base_url[: -len("/api")]

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                 query: dict[str, str] | None = None) -> Any:
        url = f"{self.base_url}/api/v1{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {"X-Api-Key": self.api_key, "Accept": "application/json", "User-Agent": "mlgov"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        delay = self.backoff
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only
                    raw = response.read(MAX_RESPONSE_BYTES + 1)
                if len(raw) > MAX_RESPONSE_BYTES:
                    raise NetworkError(f"Dependency-Track: {method} {path}: response over {MAX_RESPONSE_BYTES} bytes")
                if not raw.strip():
                    return None
                try:
                    return json.loads(raw)
                except ValueError:
                    raise NetworkError(f"Dependency-Track: {method} {path}: the answer is not JSON "
                                       "(is the URL the API server, not the front end?)") from None
            except urllib.error.HTTPError as exc:
                retriable = exc.code == 429 or exc.code >= 500
                if not retriable or attempt == self.retries:
                    hint = _HINTS.get(exc.code, exc.reason or "")
                    raise NetworkError(f"Dependency-Track: {method} {path}: HTTP {exc.code}: {hint}") from None
                reason = f"HTTP {exc.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                if attempt == self.retries:
                    cause = getattr(exc, "reason", exc)
                    raise NetworkError(f"Dependency-Track: {method} {path}: cannot reach {self.base_url} "
                                       f"after {self.retries + 1} tries ({cause})") from None
                reason = str(getattr(exc, "reason", exc))
            self.progress(f"{method} {path}: {reason}; retrying in {delay:g} s")
            self.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------ the calls

    def upload_bom(self, bom: bytes, project: Project) -> str:
        body: dict[str, Any] = {"projectName": project.name, "projectVersion": project.version,
                                "autoCreate": project.auto_create,
                                "bom": base64.b64encode(bom).decode("ascii")}
        if project.parent_name:
            body["parentName"] = project.parent_name
            body["parentVersion"] = project.parent_version or ""
        if project.tags:
            body["projectTags"] = [{"name": tag} for tag in project.tags]
        answer = self._request("PUT", "/bom", body)
        token = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise NetworkError("Dependency-Track: PUT /bom: the answer holds no processing token")
        return token

    def wait(self, token: str, deadline_s: float, poll_s: float = 2.0) -> None:
        """Poll the processing token until the server has analysed the upload."""
        waited = 0.0
        legacy = False
        while True:
            try:
                answer = self._request("GET", f"/{'bom' if legacy else 'event'}/token/{token}")
            except NetworkError as exc:
                if not legacy and "HTTP 404" in str(exc):
                    legacy = True  # a server older than 4.11 has only /bom/token
                    continue
                raise
            if not (isinstance(answer, dict) and answer.get("processing")):
                return
            if waited >= deadline_s:
                raise NetworkError(f"Dependency-Track: the upload was still being processed after {deadline_s:g} s "
                                   "(raise --wait, or look at the project in Dependency-Track)")
            self.progress(f"Dependency-Track is processing the SBOM ({waited:g} s)")
            self.sleep(poll_s)
            waited += poll_s

    def project_uuid(self, project: Project) -> str:
        answer = self._request("GET", "/project/lookup", query={"name": project.name, "version": project.version})
        uuid = answer.get("uuid") if isinstance(answer, dict) else None
        if not isinstance(uuid, str):
            raise NetworkError("Dependency-Track: GET /project/lookup: the answer holds no project uuid")
        return uuid

    def violations(self, uuid: str) -> tuple[Violation, ...]:
        answer = self._request("GET", f"/violation/project/{uuid}", query={"suppressed": "false"})
        found = []
        for item in answer if isinstance(answer, list) else ():
            if not isinstance(item, dict) or _suppressed(item):
                continue
            condition = item.get("policyCondition")
            policy = condition.get("policy") if isinstance(condition, dict) else None
            policy = policy if isinstance(policy, dict) else {}
            state = str(policy.get("violationState", "FAIL")).lower()
            found.append(Violation(state=state if state in VIOLATION_STATES else "fail",
                                   policy=str(policy.get("name", "?")), kind=str(item.get("type", "?")),
                                   component=_component(item.get("component"))))
        return tuple(found)

    def findings(self, uuid: str) -> tuple[PortfolioFinding, ...]:
        answer = self._request("GET", f"/finding/project/{uuid}", query={"suppressed": "false"})
        found = []
        for item in answer if isinstance(answer, list) else ():
            if not isinstance(item, dict) or _suppressed(item):
                continue
            vulnerability = item.get("vulnerability")
            vulnerability = vulnerability if isinstance(vulnerability, dict) else {}
            severity = str(vulnerability.get("severity", "unassigned")).lower()
            found.append(PortfolioFinding(vulnerability=str(vulnerability.get("vulnId", "?")),
                                          severity=severity if severity in SEVERITIES else "unassigned",
                                          component=_component(item.get("component"))))
        return tuple(found)

    def upload_vex(self, vex: bytes, project: Project) -> str | None:
        answer = self._request("PUT", "/vex", {"projectName": project.name, "projectVersion": project.version,
                                               "vex": base64.b64encode(vex).decode("ascii")})
        token = answer.get("token") if isinstance(answer, dict) else None
        return token if isinstance(token, str) else None


def _suppressed(item: dict[str, Any]) -> bool:
    analysis = item.get("analysis")
    return isinstance(analysis, dict) and bool(analysis.get("isSuppressed"))


def _component(component: Any) -> str:
    if not isinstance(component, dict):
        return "?"
    name = str(component.get("name", "?"))
    version = component.get("version")
    return f"{name} {version}" if version else name


__all__ = ["Client", "Project", "Outcome", "Violation", "PortfolioFinding", "API_KEY_ENV", "URL_ENV", "FAIL_ON",
           "DEFAULT_FAIL_ON"]
