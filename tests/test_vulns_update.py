from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli
from governance.errors import InputError, NetworkError
from governance.vulns import cache
from governance.vulns.update import default_path, update
from tests.osv_helpers import advisory, write_zip


class Server:
    def __init__(self, responses: list[tuple[int, bytes]]) -> None:
        self.responses = responses
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                status, body = outer.responses[min(outer.hits, len(outer.responses) - 1)]
                outer.hits += 1
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/PyPI/all.zip"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def good_zip(tmp_path: Path) -> bytes:
    return write_zip(tmp_path / "src.zip", [advisory("PYSEC-1", package="a", versions=["1"]),
                                            advisory("PYSEC-2", package="b", versions=["2"])]).read_bytes()


@pytest.fixture
def serve() -> Iterator[object]:
    servers: list[Server] = []

    def start(responses: list[tuple[int, bytes]]) -> Server:
        servers.append(Server(responses))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/all.zip"


def test_download_after_a_server_error(tmp_path: Path, serve, good_zip: bytes) -> None:
    server = serve([(503, b"busy"), (200, good_zip)])
    result = update(tmp_path / "db" / "osv.zip", url=server.url, pause=0)
    assert server.hits == 2 and result.advisories == 2 and result.path.read_bytes() == good_zip
    assert [p.name for p in (tmp_path / "db").iterdir()] == ["osv.zip"]  # no temporary left behind


def test_a_not_found_is_not_retried(tmp_path: Path, serve) -> None:
    server = serve([(404, b"no")])
    with pytest.raises(NetworkError, match="after 1 attempt"):
        update(tmp_path / "osv.zip", url=server.url, pause=0)
    assert server.hits == 1


@pytest.mark.parametrize("body", [b"<html>captive portal</html>", b"PK\x03\x04truncated"])
def test_a_bad_download_never_replaces_a_good_database(tmp_path: Path, serve, good_zip: bytes, body: bytes) -> None:
    destination = tmp_path / "db" / "osv.zip"
    destination.parent.mkdir()
    destination.write_bytes(good_zip)
    with pytest.raises(InputError, match="nothing was replaced"):
        update(destination, url=serve([(200, body)]).url, pause=0)
    assert destination.read_bytes() == good_zip and [p.name for p in destination.parent.iterdir()] == ["osv.zip"]


def test_an_invalid_advisory_in_the_download_is_refused(tmp_path: Path, serve) -> None:
    body = write_zip(tmp_path / "bad.zip", [], extra={"X.json": b"{"}).read_bytes()
    with pytest.raises(InputError, match="X.json"):
        update(tmp_path / "osv.zip", url=serve([(200, body)]).url, pause=0)


def test_no_network_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(NetworkError, match="after 3 attempt.*--vuln-db"):
        update(tmp_path / "osv.zip", url=closed_port_url(), pause=0)
    assert time.monotonic() - started < 5


def test_cli_update_and_scan_with_it(tmp_path: Path, serve, good_zip: bytes, monkeypatch) -> None:
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    server = serve([(200, good_zip)])
    result = CliRunner().invoke(cli, ["db", "update", "--url", server.url])
    assert result.exit_code == 0, result.output
    assert default_path() == tmp_path / "cache" / "osv" / "PyPI-all.zip" and default_path().is_file()
    assert result.output.startswith(f"{default_path()}: 2 PyPI advisories")


def test_cli_without_network_exits_2(tmp_path: Path) -> None:
    from governance.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["db", "update", "--to", str(tmp_path / "osv.zip"), "--url", closed_port_url()])
    assert exit_info.value.code == 2
