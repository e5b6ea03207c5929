"""Where shipped policies and templates are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder of shipped `policies` or `templates`.

    A wheel carries them under governance/_data (setup.py copies them there);
    a checkout or an editable install reads the top-level folders.
    """
    bundled = _PACKAGE / "_data" / name
    if bundled.is_dir():
        return bundled
    return _PACKAGE.parent / name
