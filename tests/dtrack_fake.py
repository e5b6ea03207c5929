"""A local stand-in for an OWASP Dependency-Track API server, for the `mlgov publish` tests.

Dependency-Track (a Java server with a database) cannot be installed on the
test machines, so this serves the documented v1 endpoints on 127.0.0.1 with
the request checks and response shapes of Dependency-Track's OpenAPI document
and request classes (BomSubmitRequest, VexSubmitRequest):

  PUT /api/v1/bom, PUT /api/v1/vex   JSON body; `bom`/`vex` must be base64;
                                     projectName+projectVersion (or project);
                                     404 for an unknown project without autoCreate
  GET /api/v1/event/token/{uuid}     {"processing": bool}
  GET /api/v1/project/lookup         ?name=&version= -> the project; 404 when unknown
  GET /api/v1/violation/project/{uuid}, GET /api/v1/finding/project/{uuid}
Every call needs the X-Api-Key header (401 without a known key; 403 for a key
without the permission). To run the same tests against a real server, see
tests/test_publish.py's module docstring.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class State:
    keys: dict[str, set[str]] = field(default_factory=lambda: {
        "good-key": {"BOM_UPLOAD", "PROJECT_CREATION_UPLOAD", "VIEW_PORTFOLIO", "VIEW_POLICY_VIOLATION",
                     "VIEW_VULNERABILITY", "VULNERABILITY_ANALYSIS"},
        "read-only": {"VIEW_PORTFOLIO"}})
    projects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    processing_polls: int = 2  # how many polls answer processing=true
    violations: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    boms: list[dict[str, Any]] = field(default_factory=list)
    vex: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    force_status: dict[str, list[int]] = field(default_factory=dict)  # path prefix -> statuses to answer first
    delay_s: float = 0.0
    max_body: int = 50 * 1024 * 1024
    polls: dict[str, int] = field(default_factory=dict)


class Handler(BaseHTTPRequestHandler):
    state: State  # set on the subclass per server

    def log_message(self, *args: Any) -> None:  # quiet test output
        return None

    def _send(self, status: int, body: Any = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _permission(self, needed: str) -> bool:
        key = self.headers.get("X-Api-Key")
        if key not in self.state.keys:
            self._send(401)
            return False
        if needed not in self.state.keys[key]:
            self._send(403)
            return False
        return True

    def _forced(self, path: str) -> bool:
        for prefix, statuses in self.state.force_status.items():
            if path.startswith(prefix) and statuses:
                self._send(statuses.pop(0))
                return True
        return False

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        self.state.requests.append((method, path))
        if self.state.delay_s:
            time.sleep(self.state.delay_s)
        length = int(self.headers.get("Content-Length") or 0)
        # The body is read (or refused by size) before any answer, as a real server does:
        # answering first would leave the client writing into a closed connection.
        if length > self.state.max_body:
            # Drained first: a 413 sent mid-upload races the client's write (a broken pipe instead
            # of the answer, depending on socket buffers and load).
            left = length
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
            self.close_connection = True
            self._send(413)
            return
        raw = self.rfile.read(length) if length else b""
        if self._forced(path):
            return
        if method == "PUT" and path in ("/api/v1/bom", "/api/v1/vex"):
            return self._submit(path, raw)
        if method == "GET":
            match = re.fullmatch(r"/api/v1/(event|bom)/token/([^/]+)", path)
            if match:
                if not self._permission("BOM_UPLOAD"):
                    return
                token = match.group(2)
                count = self.state.polls.get(token, 0)
                self.state.polls[token] = count + 1
                return self._send(200, {"processing": count < self.state.processing_polls})
            if path == "/api/v1/project/lookup":
                if not self._permission("VIEW_PORTFOLIO"):
                    return
                query = parse_qs(parts.query)
                key = (query.get("name", [""])[0], query.get("version", [""])[0])
                project = self.state.projects.get(key)
                return self._send(200, project) if project else self._send(404)
            match = re.fullmatch(r"/api/v1/(violation|finding)/project/([^/]+)", path)
            if match:
                if not self._permission("VIEW_POLICY_VIOLATION" if match.group(1) == "violation"
                                        else "VIEW_VULNERABILITY"):
                    return
                if not any(p["uuid"] == match.group(2) for p in self.state.projects.values()):
                    return self._send(404)
                return self._send(200, self.state.violations if match.group(1) == "violation"
                                  else self.state.findings)
        self._send(404)

    def _submit(self, path: str, raw: bytes) -> None:
        is_bom = path.endswith("/bom")
        if not self._permission("BOM_UPLOAD" if is_bom else "VULNERABILITY_ANALYSIS"):
            return
        try:
            body = json.loads(raw)
        except ValueError:
            return self._send(400)
        field_name = "bom" if is_bom else "vex"
        payload = body.get(field_name)
        if not isinstance(payload, str) or not BASE64.match(payload):
            return self._send(400)
        name, version = body.get("projectName"), body.get("projectVersion")
        if not (isinstance(name, str) and name.strip() and isinstance(version, str)) and \
                not (isinstance(body.get("project"), str) and UUID.match(body["project"])):
            return self._send(400)
        key = (name, version)
        if key not in self.state.projects:
            if not (is_bom and body.get("autoCreate")):
                return self._send(404)
            if "PROJECT_CREATION_UPLOAD" not in self.state.keys[self.headers["X-Api-Key"]]:
                return self._send(403)
            self.state.projects[key] = {"uuid": str(uuid.uuid4()), "name": name, "version": version,
                                        "tags": body.get("projectTags") or [],
                                        "parent": {"name": body.get("parentName"),
                                                   "version": body.get("parentVersion")}
                                        if body.get("parentName") else None}
        document = json.loads(base64.b64decode(payload))
        (self.state.boms if is_bom else self.state.vex).append({"request": body, "document": document})
        self._send(200, {"token": str(uuid.uuid4())})

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")


class _Server(ThreadingHTTPServer):
    # Handler threads are joined when the server closes: a request still being answered after its
    # test ended (a client that gave up on a 413) must not write into a later test's output.
    daemon_threads = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (the upload-limit and timeout tests do) is expected, not a failure;
        # socketserver would print a traceback to whatever sys.stderr is at that moment.
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class FakeDependencyTrack:
    """Start with `with FakeDependencyTrack() as server:`; server.url is the base URL."""

    def __init__(self) -> None:
        self.state = State()
        handler = type("BoundHandler", (Handler,), {"state": self.state, "timeout": 30})
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeDependencyTrack":
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
