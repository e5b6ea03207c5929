"""`mlgov db update`: download OSV's PyPI all.zip for offline scans.

The download goes to a temporary file beside the destination; it replaces the
destination only once it is a complete zip whose members all parse as OSV
advisories (within the same bounds a scan applies), so an interrupted or
corrupt download never replaces a good database. Short timeouts and a few
retries: on a runner without a network this fails in seconds with a clear
message (exit 2), it does not hang.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from governance.errors import InputError, NetworkError
from governance.frozen import frozen

OSV_PYPI_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
TIMEOUT_S = 15.0  # per connect and per read, not for the whole transfer
ATTEMPTS = 3
CHUNK = 1 << 20

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@frozen
class Update:
    """An advisory database that was downloaded: where, how many advisories, its digest."""
    path: Path
    advisories: int
    size: int
    sha256: str


def default_path() -> Path:
    from governance.vulns.cache import cache_dir

    return cache_dir() / "osv" / "PyPI-all.zip"


def _fetch(url: str, target: Path, timeout: float) -> None:
    import urllib.request

    from governance.vulns.database import MAX_ZIP_BYTES

    request = urllib.request.Request(url, headers={"User-Agent": "mlgov (offline advisory database)"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(target, "wb") as out:  # noqa: S310
        total = 0
        while True:
            chunk = response.read(CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > MAX_ZIP_BYTES:
                raise InputError(f"the download is over {MAX_ZIP_BYTES} bytes; refusing it", file=url)
            out.write(chunk)
        expected = response.headers.get("Content-Length")
        if expected and expected.isdigit() and int(expected) != total:
            raise OSError(f"truncated download: {total} of {expected} bytes")


def update(destination: Path | None = None, url: str = OSV_PYPI_URL, attempts: int = ATTEMPTS,
           timeout: float = TIMEOUT_S, progress: Progress = _quiet, pause: float = 1.0) -> Update:
    import hashlib
    import urllib.error

    from governance.vulns.database import zip_records

    destination = destination or default_path()
    folder = destination.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder: {exc.strerror or exc}", file=folder) from None
    handle, name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=folder)
    from governance.output import mode_for

    os.fchmod(handle, mode_for(destination))  # not mkstemp's 0600: the user's umask decides
    os.close(handle)
    temporary = Path(name)
    try:
        last: Exception | None = None
        for attempt in range(1, attempts + 1):
            progress(f"downloading {url} (attempt {attempt} of {attempts})")
            try:
                _fetch(url, temporary, timeout)
                last = None
                break
            except urllib.error.HTTPError as exc:
                last = exc
                if exc.code < 500 and exc.code != 429:  # a 404 will not get better by asking again
                    break
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                last = exc
            if attempt < attempts:
                time.sleep(pause * attempt)
        if last is not None:
            reason = getattr(last, "reason", None) or last
            raise NetworkError(f"could not download {url} after {attempt} attempt(s): {reason}; "
                               "on an air-gapped runner, copy an all.zip from a connected machine and pass "
                               "it with --vuln-db")
        data = temporary.read_bytes()
        progress("checking the download")
        try:
            count = sum(1 for _ in zip_records(data, url))
        except InputError as exc:
            raise InputError(f"the download is not a usable advisory database, nothing was replaced: {exc}") from None
        os.replace(temporary, destination)
        return Update(path=destination, advisories=count, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    finally:
        temporary.unlink(missing_ok=True)
