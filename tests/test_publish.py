"""`mlgov publish`: upload to Dependency-Track, poll, VEX from the policy's waivers, exit by the verdict.

Dependency-Track cannot be installed on the test machines: these tests run
against tests/dtrack_fake.py, a server on 127.0.0.1 that implements the
documented endpoints and their responses. No test reaches beyond loopback.

Against a real server: start one (e.g. the `dependencytrack/bundled` image),
create an API key with BOM_UPLOAD, PROJECT_CREATION_UPLOAD, VIEW_PORTFOLIO,
VIEW_POLICY_VIOLATION, VIEW_VULNERABILITY and VULNERABILITY_ANALYSIS, then
    MLGOV_DTRACK_URL=http://localhost:8081 MLGOV_DTRACK_API_KEY=... \\
        python -m pytest tests/test_publish.py -k real_server
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.dtrack_fake import FakeDependencyTrack
from tests.entry import invoke
from governance.errors import NetworkError
from governance.publish.dtrack import Client, Project

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
VULNDB = SHARED / "vulndb" / "pypa-advisory-db-2024-10-10.osv.zip"
LEGACY = REPO / "sample_projects" / "legacy-vision"


@pytest.fixture(autouse=True)
def polls_without_idle_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The fake server answers at once, so the client's pauses (2 s between polls of the processing
    token, back-off before a retry) are recorded, not slept: they were a minute of idle CI time."""
    slept: list[float] = []
    real_init = Client.__init__

    def init(self: Client, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("sleep", slept.append)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Client, "__init__", init)
    return slept


@pytest.fixture
def server() -> FakeDependencyTrack:
    with FakeDependencyTrack() as fake:
        yield fake


@pytest.fixture(scope="module")
def sbom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The legacy-vision sample's SBOM with the real advisory database's vulnerabilities."""
    if not VULNDB.is_file():
        pytest.skip("../shared/vulndb is not beside the checkout")
    out = tmp_path_factory.mktemp("sbom") / "legacy.cdx.json"
    code, output = invoke(["sbom", str(LEGACY), "--vuln-db", str(VULNDB), "-o", str(out), "--reproducible"])
    assert code == 0, output
    return out


def publish(server: FakeDependencyTrack, sbom: Path, *extra: str, key: str = "good-key") -> tuple[int, str]:
    env = {"MLGOV_DTRACK_URL": server.url, "MLGOV_DTRACK_API_KEY": key}
    return invoke(["publish", str(sbom), "--project", "legacy-vision", "--project-version", "1.0.0", *extra], env)


def test_upload_polls_until_processed_and_passes_without_violations(server: FakeDependencyTrack, sbom: Path,
                                                                    polls_without_idle_waits: list[float]) -> None:
    code, output = publish(server, sbom, "--auto-create", "--parent", "ml-platform@2026.12", "--tag", "team-vision",
                           "--tag", "gpu")
    assert code == 0, output
    assert output.splitlines()[-1].startswith("PASS published")
    upload = server.state.boms[0]
    request = upload["request"]
    assert (request["projectName"], request["projectVersion"], request["autoCreate"]) == ("legacy-vision", "1.0.0",
                                                                                        True)
    assert (request["parentName"], request["parentVersion"]) == ("ml-platform", "2026.12")
    assert request["projectTags"] == [{"name": "team-vision"}, {"name": "gpu"}]
    assert upload["document"] == json.loads(sbom.read_text())  # the SBOM, byte for byte
    # processing=true twice, then false: three polls of the token before reading the verdict.
    polls = [p for m, p in server.state.requests if p.startswith("/api/v1/event/token/")]
    assert len([p for p in polls if p.endswith(next(iter(server.state.polls)))]) == 3
    assert polls_without_idle_waits == [2.0, 2.0]  # a pause before each poll that follows processing=true
    assert ("GET", "/api/v1/project/lookup") in server.state.requests
    assert server.state.requests[-1][1].startswith("/api/v1/finding/project/")


def _violation(state: str, suppressed: bool = False) -> dict:
    return {"type": "LICENSE", "component": {"name": "pillow", "version": "9.0.0"},
            "policyCondition": {"policy": {"name": "no-copyleft", "violationState": state}},
            "analysis": {"isSuppressed": suppressed}}


@pytest.mark.parametrize("violations, fail_on, expected", [
    ([_violation("FAIL")], "violation-fail", 1),
    ([_violation("WARN")], "violation-fail", 0),
    ([_violation("WARN")], "violation-warn", 1),
    ([_violation("INFO")], "violation-warn", 0),
    ([_violation("FAIL", suppressed=True)], "violation-fail", 0),
    ([], "violation-info", 0),
    ([_violation("FAIL")], "none", 0),
])
def test_policy_violations_set_the_exit_code(server: FakeDependencyTrack, sbom: Path, violations: list,
                                            fail_on: str, expected: int) -> None:
    server.state.violations = violations
    code, output = publish(server, sbom, "--auto-create", "--fail-on", fail_on)
    assert code == expected, output
    shown = [v for v in violations if not v["analysis"]["isSuppressed"]]
    assert ("no-copyleft" in output) == bool(shown)


def test_findings_fail_at_or_above_the_severity(server: FakeDependencyTrack, sbom: Path) -> None:
    server.state.findings = [{"component": {"name": "pillow", "version": "9.0.0"},
                              "vulnerability": {"vulnId": "CVE-2022-22817", "severity": "HIGH"},
                              "analysis": {"isSuppressed": False}}]
    assert publish(server, sbom, "--auto-create", "--fail-on", "critical")[0] == 0
    code, output = publish(server, sbom, "--fail-on", "high")
    assert code == 1 and "CVE-2022-22817" in output
    assert publish(server, sbom, "--fail-on", "low")[0] == 1


def test_waivers_travel_as_a_valid_vex(server: FakeDependencyTrack, sbom: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text((LEGACY / "mlgov-policy.toml").read_text().replace(
        'ticket = "VIS-1433"', 'ticket = "VIS-1433"\njustification = "code_not_reachable"'))
    code, output = publish(server, sbom, "--auto-create", "--policy", str(policy), "--today", "2026-12-02")
    assert code == 0, output
    assert len(server.state.vex) == 1
    vex = server.state.vex[0]["document"]
    entries = vex["vulnerabilities"]
    waived_tf = [e for e in entries if e["affects"][0]["ref"].startswith("pkg:pypi/tensorflow-gpu@2.4.0")]
    assert len(waived_tf) > 200 and all(e["analysis"]["state"] == "in_triage" for e in waived_tf)
    torch = [e for e in entries if e["id"] == "CVE-2022-45907"]
    assert torch and torch[0]["analysis"] == {
        "state": "not_affected", "justification": "code_not_reachable",
        "detail": torch[0]["analysis"]["detail"]}
    assert "VIS-1433" in torch[0]["analysis"]["detail"]
    # Every affects ref names a component of the uploaded SBOM.
    refs = {c["bom-ref"] for c in server.state.boms[0]["document"]["components"]}
    assert {e["affects"][0]["ref"] for e in entries} <= refs
    assert f"{len(entries)} waiver(s) sent as VEX" in output
    # After expiry nothing is waived, so nothing is sent.
    server.state.vex.clear()
    code, output = publish(server, sbom, "--policy", str(policy), "--today", "2030-07-01")
    assert server.state.vex == [] and "0 waiver(s) sent" in output


@pytest.mark.parametrize("setup, key, extra, expected", [
    (None, "wrong-key", ["--auto-create"], "HTTP 401: the API key was refused"),
    (None, "read-only", ["--auto-create"], "HTTP 403: the API key lacks a permission"),
    (None, "good-key", [], "HTTP 404: not found: the project does not exist (use --auto-create)"),
    ("small", "good-key", ["--auto-create"], "HTTP 413: the SBOM is larger than the server"),
    ("bad-request", "good-key", ["--auto-create"], "HTTP 400"),
])
def test_http_errors_exit_2_with_what_to_do(server: FakeDependencyTrack, sbom: Path, setup: str | None, key: str,
                                           extra: list[str], expected: str) -> None:
    if setup == "small":
        server.state.max_body = 1024
    if setup == "bad-request":
        server.state.force_status["/api/v1/bom"] = [400]
    code, output = publish(server, sbom, *extra, key=key)
    assert code == 2, output
    assert expected in output
    assert key not in output or key == "good-key" and "good-key" not in output


def test_a_transient_server_error_is_retried(server: FakeDependencyTrack, sbom: Path) -> None:
    server.state.force_status["/api/v1/bom"] = [503]
    code, output = publish(server, sbom, "--auto-create", "-v")
    assert code == 0, output
    assert "HTTP 503; retrying" in output
    assert [r for r in server.state.requests if r == ("PUT", "/api/v1/bom")] == [("PUT", "/api/v1/bom")] * 2


def test_retries_back_off_and_give_up(server: FakeDependencyTrack) -> None:
    server.state.force_status["/api/v1/bom"] = [500, 502, 503, 504, 500]
    slept: list[float] = []
    client = Client(server.url, "good-key", retries=3, backoff=0.5, sleep=slept.append)
    with pytest.raises(NetworkError, match="HTTP 504"):  # the fourth and last try
        client.upload_bom(b"{}", Project("p", "1", auto_create=True))
    assert slept == [0.5, 1.0, 2.0]


def test_a_server_that_does_not_answer_times_out(server: FakeDependencyTrack) -> None:
    server.state.delay_s = 1.0
    client = Client(server.url, "good-key", timeout=0.2, retries=1, sleep=lambda _: None)
    with pytest.raises(NetworkError, match="cannot reach .* after 2 tries"):
        client.upload_bom(b"{}", Project("p", "1", auto_create=True))


def test_processing_that_never_ends_stops_at_the_wait(server: FakeDependencyTrack, sbom: Path) -> None:
    server.state.processing_polls = 10**6
    code, output = publish(server, sbom, "--auto-create", "--wait", "0")
    assert code == 2 and "still being processed after 0 s" in output


def test_no_key_no_url_and_bad_options_exit_2_before_any_request(server: FakeDependencyTrack, sbom: Path) -> None:
    code, output = invoke(["publish", str(sbom), "--project", "p", "--project-version", "1"],
                          {"MLGOV_DTRACK_URL": server.url})
    assert code == 2 and "set MLGOV_DTRACK_API_KEY" in output
    code, output = invoke(["publish", str(sbom), "--project", "p", "--project-version", "1"],
                          {"MLGOV_DTRACK_API_KEY": "good-key"})
    assert code == 2 and "MLGOV_DTRACK_URL" in output
    code, output = publish(server, sbom, "--fail-on", "violations")
    assert code == 2 and "unknown value 'violations'" in output
    code, output = publish(server, sbom, "--parent", "no-version")
    assert code == 2 and "NAME@VERSION" in output
    assert server.state.requests == []
    code, output = invoke(["publish", str(sbom), "--project", "p", "--project-version", "1", "--url",
                           "ftp://example"], {"MLGOV_DTRACK_API_KEY": "good-key"})
    assert code == 2 and "not an http(s) URL" in output


def test_the_api_key_has_no_command_line_option() -> None:
    code, output = invoke(["publish", "--help"])
    assert code == 0 and "--api-key" not in output and "MLGOV_DTRACK_API_KEY" in output


@pytest.mark.skipif(not (os.environ.get("MLGOV_DTRACK_URL") and os.environ.get("MLGOV_DTRACK_API_KEY")),
                    reason="a real Dependency-Track server cannot be installed here; set MLGOV_DTRACK_URL "
                           "and MLGOV_DTRACK_API_KEY to run this against one")
def test_real_server(sbom: Path) -> None:  # pragma: no cover - needs a server
    env = {k: os.environ[k] for k in ("MLGOV_DTRACK_URL", "MLGOV_DTRACK_API_KEY")}
    code, output = invoke(["publish", str(sbom), "--project", "mlgov-test-legacy-vision", "--project-version",
                           "1.0.0", "--auto-create", "--policy", str(LEGACY / "mlgov-policy.toml"), "-v",
                           "--fail-on", "none"], env)
    assert code == 0, output
    assert "PASS published" in output


def test_the_fake_server_leaves_no_request_thread_behind_and_stays_quiet_on_a_hang_up(
        capsys: pytest.CaptureFixture[str]) -> None:
    """A request thread that outlived its test once wrote a BrokenPipe traceback into a later test's
    captured output (found by running the suite in a shuffled order)."""
    import socket
    import threading

    before = set(threading.enumerate())
    with FakeDependencyTrack() as server:
        port = int(server.url.rsplit(":", 1)[1])
        for _ in range(5):  # ask, then hang up before reading the answer
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"GET /api/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    left = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == []
    assert "Traceback" not in capsys.readouterr().err
