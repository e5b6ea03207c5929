"""Build small, real-shaped virtual environments on disk for tests.

A venv here is what mlgov reads: pyvenv.cfg and lib/pythonX.Y/site-packages
with *.dist-info folders (METADATA, RECORD, INSTALLER, direct_url.json).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Dist:
    name: str
    version: str
    summary: str = ""
    license_expression: str | None = None
    license: str | None = None
    classifiers: list[str] = field(default_factory=list)
    requires: list[str] = field(default_factory=list)
    urls: list[tuple[str, str]] = field(default_factory=list)
    installer: str | None = "pip"
    direct_url: dict[str, object] | None = None
    files: dict[str, str] = field(default_factory=dict)  # extra files in site-packages (path -> text)
    egg_info: bool = False


def metadata_text(dist: Dist) -> str:
    lines = ["Metadata-Version: 2.4" if dist.license_expression else "Metadata-Version: 2.1",
             f"Name: {dist.name}", f"Version: {dist.version}"]
    if dist.summary:
        lines.append(f"Summary: {dist.summary}")
    if dist.license_expression:
        lines.append(f"License-Expression: {dist.license_expression}")
    if dist.license:
        lines.append(f"License: {dist.license}")
    lines += [f"Classifier: {c}" for c in dist.classifiers]
    lines += [f"Project-URL: {label}, {url}" for label, url in dist.urls]
    lines += [f"Requires-Dist: {r}" for r in dist.requires]
    return "\n".join(lines) + "\n\nA long description that mlgov never needs.\n"


def make_venv(root: Path, dists: list[Dist], python_version: str = "3.11.7") -> Path:
    major_minor = ".".join(python_version.split(".")[:2])
    site = root / "lib" / f"python{major_minor}" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    (root / "pyvenv.cfg").write_text(
        f"home = /usr/bin\ninclude-system-site-packages = false\nversion = {python_version}\n", encoding="utf-8")
    for dist in dists:
        stem = f"{dist.name.replace('-', '_')}-{dist.version}"
        for relative, text in dist.files.items():
            target = site / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        if dist.egg_info:
            folder = site / f"{stem}.egg-info"
            folder.mkdir()
            (folder / "PKG-INFO").write_text(metadata_text(dist), encoding="utf-8")
            continue
        folder = site / f"{stem}.dist-info"
        folder.mkdir()
        (folder / "METADATA").write_text(metadata_text(dist), encoding="utf-8")
        if dist.installer:
            (folder / "INSTALLER").write_text(dist.installer + "\n", encoding="utf-8")
        if dist.direct_url is not None:
            (folder / "direct_url.json").write_text(json.dumps(dist.direct_url), encoding="utf-8")
        rows = []
        for relative, text in dist.files.items():
            digest = hashlib.sha256(text.encode()).hexdigest()
            rows.append(f"{relative},sha256={digest},{len(text)}")
        rows += [f"{stem}.dist-info/METADATA,,", f"{stem}.dist-info/RECORD,,"]
        (folder / "RECORD").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root
