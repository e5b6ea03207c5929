"""Renderers: an Evaluation in, text out. They decide nothing.

RENDERERS maps a format name to a function; EXTENSIONS maps a report file's
extension to its format.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # the CLI imports this module for FORMATS at start-up: no model import at run time
    from governance.model import Evaluation

Renderer = Callable[["Evaluation"], str]

# format name -> "module:function", imported on first use to keep start-up small.
_RENDERERS: dict[str, str] = {
    "terminal": "governance.report.terminal:render",
    "md": "governance.report.markdown:render",
    "json": "governance.report.json_report:render",
    "html": "governance.report.html:render",
    "sarif": "governance.report.sarif:render",
    "junit": "governance.report.junit:render",
}
EXTENSIONS: dict[str, str] = {
    ".md": "md", ".markdown": "md", ".json": "json", ".txt": "terminal", ".html": "html", ".htm": "html",
    ".sarif": "sarif", ".sarif.json": "sarif", ".xml": "junit", ".junit.xml": "junit",
}
FORMATS: tuple[str, ...] = tuple(_RENDERERS)


def renderer(fmt: str) -> Renderer:
    module, _, function = _RENDERERS[fmt].partition(":")
    found: Renderer = getattr(importlib.import_module(module), function)
    return found


def format_for(filename: str) -> str | None:
    lowered = filename.lower()
    for extension in sorted(EXTENSIONS, key=len, reverse=True):
        if lowered.endswith(extension):
            return EXTENSIONS[extension]
    return None
