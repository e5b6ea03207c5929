from __future__ import annotations

import socket
from pathlib import Path

import pytest

from governance.errors import NetworkError
from governance.model import Inventory, Package, Project
from governance.vulns import VulnRequest, attach, cache


@pytest.mark.parametrize("service", ["osv", "pypi"])
def test_unreachable_service_is_a_clear_error(service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pip_audit")
    with socket.socket() as s:  # a port nothing listens on: the connection is refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{port}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    inventory = Inventory(project=Project("p"), packages=(Package("pillow", "9.0.0"),))
    with pytest.raises(NetworkError, match=f"the {service} vulnerability service .*--vuln-db"):
        attach(inventory, VulnRequest(service=service))
