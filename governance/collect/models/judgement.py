"""What reading one model file found: the shared result every format module fills in."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Judgement:
    """What reading one model file found: its format, what loading it would run, what could not be parsed."""
    format: str
    framework: str | None = None
    globals: set[str] = field(default_factory=set)  # every global a pickle in it imports
    code: list[str] = field(default_factory=list)  # other ways loading it runs code or reaches out
    unparsed: list[str] = field(default_factory=list)  # what could not be parsed or judged
    card: dict[str, str] = field(default_factory=dict)  # what the file says about the model
    extra_files: list[str] = field(default_factory=list)  # files it loads besides itself (ONNX external data)

    def cannot(self, what: str) -> None:
        if what not in self.unparsed:
            self.unparsed.append(what)

    def runs(self, what: str) -> None:
        if what not in self.code:
            self.code.append(what)


# Bounds on what is read into memory from one model (hostile input is normal input).
MAX_PICKLE_BYTES = 1 << 30  # a pickle member or decompressed stream walked
MAX_JSON_BYTES = 64 << 20  # a config.json, a safetensors header
