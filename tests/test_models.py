"""Model files: found by content, judged without loading, in the SBOM, and gated by MODEL001-MODEL004.

The corpus in tests/data/models was made by the real libraries (make_corpus.py);
every malicious payload would only create a file named mlgov-marker* in the
current folder. The scans here run from an empty folder that must stay empty.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli
from governance.collect.models import find_models, sha256_file
from governance.collect.models.allowlist import disallowed
from governance.model import ModelFile

DATA = Path(__file__).parent / "data" / "models"
BENIGN = DATA / "benign"
EVIL = DATA / "malicious"
HUB = "hub/models--acme--tiny-bert/snapshots/0123456789abcdef0123456789abcdef01234567/model.safetensors"

BENIGN_FORMATS = {
    "array.npy": "numpy", "arrays.npz": "numpy-zip", "arrays-compressed.npz": "numpy-zip",
    "checkpoint.pt": "pytorch-zip", "forest.pkl": "pickle", "forest-protocol0.pkl": "pickle",
    "legacy.h5": "hdf5", "only.weights.h5": "hdf5", "legacy.pth": "pytorch-legacy", "model.gguf": "gguf",
    "model.keras": "keras", "model.onnx": "onnx", "onnx-external/model.onnx": "onnx", "model.pt": "pytorch-zip",
    "model.safetensors": "safetensors", "safetensors-named.bin": "safetensors",
    "torch-zip-named.ckpt": "pytorch-zip", "scripted.pt": "torchscript", "pipeline.joblib": "joblib",
    "pipeline-zlib.joblib": "joblib", "pipeline.joblib.gz": "joblib", HUB: "safetensors",
}

# file -> (rule, what the finding names)
MALICIOUS = {
    "os-system.pkl": ("MODEL001", "posix.system"),
    "os-system-stack-global.pkl": ("MODEL001", "os.system"),
    "exec-protocol0.pkl": ("MODEL001", "builtins.exec"),
    "inst.pkl": ("MODEL001", "builtins.exec"),
    "obj.pkl": ("MODEL001", "builtins.exec"),
    "memo-confusion.pkl": ("MODEL001", "os.system"),
    "pkgutil-resolve-name.pkl": ("MODEL001", "pkgutil.resolve_name"),
    "importlib-getattr.pkl": ("MODEL001", "importlib.import_module"),
    "pip-main.pkl": ("MODEL001", "pip.main"),
    "timeit.pkl": ("MODEL001", "timeit.timeit"),
    "cprofile-run.pkl": ("MODEL001", "cProfile.run"),
    "runpy-submodule.pkl": ("MODEL001", "runpy._run_code"),
    "asyncio-subprocess.pkl": ("MODEL001", "asyncio.subprocess.create_subprocess_shell"),
    "marshal-loads.pkl": ("MODEL001", "marshal.loads"),
    "ctypes-cdll.pkl": ("MODEL001", "ctypes.CDLL"),
    "dotted-name.pkl": ("MODEL001", "collections.OrderedDict.__init__.__globals__"),
    "build-on-global.pkl": ("MODEL001", "BUILD sets attributes of collections.OrderedDict itself"),
    "extension-code.pkl": ("MODEL001", "extension code 1"),
    "truncated-after-call.pkl": ("MODEL001", "posix.system"),
    "second-pickle.pkl": ("MODEL001", "os.system"),
    "renamed.safetensors": ("MODEL001", "os.system"),
    "renamed-model.txt": ("MODEL001", "os.system"),
    "polyglot.pt": ("MODEL001", "os.system"),
    "object-array.npy": ("MODEL001", "posix.system"),
    "object-member.npz": ("MODEL001", "posix.system"),
    "object-array.joblib": ("MODEL001", "posix.system"),
    "payload-zlib.joblib": ("MODEL001", "posix.system"),
    "torch-payload.ckpt": ("MODEL001", "os.system"),
    "torch-bad-crc.pt": ("MODEL001", "os.system"),
    "torch-duplicate.pt": ("MODEL001", "os.system"),
    "torch-outside.pt": ("MODEL001", "os.system"),
    "torch-second-prefix.pt": ("MODEL001", "os.system"),
    "torch-flag-bit.pt": ("MODEL001", "os.system"),
    "legacy-sysinfo.pth": ("MODEL001", "os.system"),
    "legacy-tar.pt": ("MODEL001", "os.system"),
    "lambda.keras": ("MODEL001", "Lambda layer 'double'"),
    "lambda.h5": ("MODEL001", "Lambda layer 'double'"),
    "outside-module.keras": ("MODEL001", "module 'mlgov_marker_pkg' outside Keras"),
    "onnx-escape.onnx": ("MODEL001", "'../../outside.bin' leaves the model's folder"),
    "onnx-absolute.onnx": ("MODEL001", "'/etc/hostname' is absolute"),
    "gguf-template.gguf": ("MODEL001", "chat template reaches Python internals"),
    "savedmodel/saved_model.pb": ("MODEL001", "TensorFlow op PyFunc"),
    "safetensors-huge-header.safetensors": ("MODEL003", "header claims 1000000000000 bytes"),
    "safetensors-not-json.safetensors": ("MODEL003", "header is not JSON"),
    "safetensors-short-data.safetensors": ("MODEL003", "outside the 16 data bytes"),
    "gguf-counts.gguf": ("MODEL003", "impossible counts"),
}
# Zip tricks and broken streams are also MODEL003, next to the MODEL001 of their payload.
ALSO_UNJUDGED = {
    "torch-bad-crc.pt": "bad CRC", "torch-duplicate.pt": "appears more than once",
    "torch-outside.pt": "points outside the archive", "truncated-after-call.pkl": "not a complete pickle",
}


def run(args: list[str]) -> tuple[int, str, str]:
    """The real entry point in a child process: exit codes and stderr exactly as a user sees them."""
    completed = subprocess.run([sys.executable, "-m", "governance", *args], capture_output=True, text=True,
                               check=False)
    return completed.returncode, completed.stdout, completed.stderr


def scan_json(*args: str, cwd: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    here = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, ["scan", *args, "--format", "json"], catch_exceptions=False)
    finally:
        os.chdir(here)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


@pytest.fixture(scope="module")
def benign() -> dict[str, ModelFile]:
    return {m.path: m for m in find_models(BENIGN)}


@pytest.fixture(scope="module")
def malicious() -> dict[str, ModelFile]:
    return {m.path: m for m in find_models(EVIL)}


def test_benign_files_are_found_by_content_with_their_format(benign: dict[str, ModelFile]) -> None:
    assert {path: m.format for path, m in benign.items()} == BENIGN_FORMATS
    # README.md and an HDF5 dataset (no Keras in it) are not models.
    assert "dataset-not-a-model.h5" not in benign


@pytest.mark.parametrize("path", sorted(BENIGN_FORMATS))
def test_benign_files_pass(benign: dict[str, ModelFile], path: str) -> None:
    model = benign[path]
    assert disallowed(model.format, model.globals) == []
    assert model.code == () and model.unparsed == ()
    assert model.sha256 == hashlib.sha256((BENIGN / path).read_bytes()).hexdigest()
    assert model.size == (BENIGN / path).stat().st_size


def test_model_cards_say_what_the_files_say(benign: dict[str, ModelFile]) -> None:
    assert dict(benign["model.safetensors"].card)["mlgov:tensor-count"] == "2"
    assert dict(benign["model.safetensors"].card)["mlgov:parameter-count"] == "16"
    assert dict(benign["model.onnx"].card)["mlgov:parameter-count"] == "12"
    assert dict(benign["model.gguf"].card)["architecture"] == "llama"
    assert dict(benign["model.keras"].card)["architecture"] == "Sequential"
    hub = benign[HUB]
    assert dict(hub.card)["architecture"] == "BertForMaskedLM"
    assert hub.purl == "pkg:huggingface/acme/tiny-bert@0123456789abcdef0123456789abcdef01234567"


def test_every_malicious_file_is_found(malicious: dict[str, ModelFile]) -> None:
    assert set(MALICIOUS) <= set(malicious)


@pytest.mark.parametrize("path", sorted(MALICIOUS))
def test_malicious_files_are_findings(malicious: dict[str, ModelFile], path: str) -> None:
    rule, named = MALICIOUS[path]
    model = malicious[path]
    reasons = disallowed(model.format, model.globals) + list(model.code)
    if rule == "MODEL001":
        assert any(named in r for r in reasons), (reasons, model.unparsed)
    else:
        assert any(named in r for r in model.unparsed), model.unparsed
    if path in ALSO_UNJUDGED:
        assert any(ALSO_UNJUDGED[path] in r for r in model.unparsed), model.unparsed


def test_scanning_the_malicious_corpus_runs_nothing(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(EVIL, project / "models")
    work = tmp_path / "cwd"
    work.mkdir()
    code, report = scan_json(str(project), "--policy", "production", cwd=work)
    assert code == 1
    assert list(work.iterdir()) == []
    assert not list(tmp_path.rglob("mlgov-marker*"))
    flagged = {f["file"] for f in report["findings"] if f["rule_id"] in ("MODEL001", "MODEL003")}
    assert {f"models/{p}" for p in MALICIOUS} <= flagged


# The payloads are real: loading a few of them with the standard library does create the marker.
@pytest.mark.parametrize("path", ["os-system.pkl", "exec-protocol0.pkl", "inst.pkl", "memo-confusion.pkl",
                                  "pkgutil-resolve-name.pkl", "importlib-getattr.pkl", "second-pickle.pkl"])
def test_the_payloads_would_run_if_loaded(tmp_path: Path, path: str) -> None:
    code = ("import pickle, sys\nf = open(sys.argv[1], 'rb')\n"
            "while True:\n    try:\n        pickle.load(f)\n    except EOFError:\n        break\n")
    subprocess.run([sys.executable, "-c", code, str(EVIL / path)], cwd=tmp_path, check=False,
                   capture_output=True, timeout=60)
    assert list(tmp_path.glob("mlgov-marker*")), "the payload did not run: the corpus would prove nothing"


def test_collect_never_loads_a_model() -> None:
    import ast

    forbidden = {"pickle.load", "pickle.loads", "pickle.Unpickler", "torch.load", "joblib.load", "np.load",
                 "numpy.load", "onnx.load", "marshal.loads", "importlib.import_module", "keras.models.load_model"}
    for module in (Path(__file__).parent.parent / "governance" / "collect" / "models").glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                assert name not in forbidden and name.split(".")[-1] not in \
                    ("exec", "eval", "__import__", "load_model", "Unpickler"), (module.name, name)


def test_sbom_carries_models_and_check_rejudges_them(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(EVIL, project / "models")
    shutil.copy(BENIGN / "model.safetensors", project / "weights.safetensors")
    sbom = tmp_path / "sbom.cdx.json"
    code, scanned = scan_json(str(project), "--policy", "production", "--sbom", str(sbom), cwd=tmp_path)
    document = json.loads(sbom.read_text())
    models = [c for c in document["components"] if c["type"] == "machine-learning-model"]
    assert {c["name"] for c in models} >= {"weights.safetensors", "models/os-system.pkl"}
    weights = next(c for c in models if c["name"] == "weights.safetensors")
    assert weights["hashes"] == [{"alg": "SHA-256", "content": sha256_file(BENIGN / "model.safetensors")}]
    assert {p["name"]: p["value"] for p in weights["modelCard"]["properties"]}["mlgov:tensor-count"] == "2"
    result = CliRunner().invoke(cli, ["check", str(sbom), "--policy", "production", "--format", "json"])
    assert result.exit_code == 1
    checked = json.loads(result.output)

    def key(report: dict) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
        return sorted((f["rule_id"], f["file"] or "", f["message"]) for f in report["findings"]
                      if f["rule_id"].startswith("MODEL"))
    assert key(checked) == key(scanned) != []


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("spec", ["1.5", "1.6", "1.7"])
def test_ml_bom_validates_and_reads_back(tmp_path: Path, fmt: str, spec: str) -> None:
    from governance.sbom.read import read_sbom

    out = tmp_path / f"sbom.{fmt}"
    result = CliRunner().invoke(cli, ["sbom", str(BENIGN), "-o", str(out), "--spec-version", spec])
    assert result.exit_code == 0, result.output
    back = read_sbom(out)
    assert back.models == find_models(BENIGN)


def test_models_outside_the_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    # Other people's code is never searched: a venv (by its pyvenv.cfg), node_modules, .git.
    for folder in ("env", "node_modules", ".git"):
        (project / folder).mkdir()
        shutil.copy(EVIL / "os-system.pkl", project / folder / "skipped.pkl")
    (project / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    hub = tmp_path / "cache"
    shutil.copytree(BENIGN / "hub", hub)
    code, report = scan_json(str(project), "--models", str(hub), cwd=tmp_path)
    assert code == 0 and report["findings"] == []
    found = find_models(project, (hub,))
    assert [m.purl for m in found] == ["pkg:huggingface/acme/tiny-bert@0123456789abcdef0123456789abcdef01234567"]
    code, _, stderr = run(["scan", str(project), "--models", str(tmp_path / "nope")])
    assert code == 2 and "nope: no such models folder" in stderr and "Traceback" not in stderr


def test_policy_formats_and_allowed_globals(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(BENIGN / "model.pt", project / "model.pt")
    shutil.copy(EVIL / "timeit.pkl", project / "timeit.pkl")
    code, report = scan_json(str(project), "--policy", "production", cwd=tmp_path)
    rules = sorted((f["rule_id"], f["file"]) for f in report["findings"])
    assert rules == [("MODEL001", "timeit.pkl"), ("MODEL002", "model.pt"), ("MODEL002", "timeit.pkl")]
    policy = tmp_path / "p.toml"
    policy.write_text('schema = 1\n[models]\nallow_formats = ["pytorch-zip", "pickle"]\n'
                      'allow_globals = ["timeit.timeit"]\n')
    code, report = scan_json(str(project), "--policy", str(policy), cwd=tmp_path)
    assert (code, report["findings"]) == (0, [])
    policy.write_text('schema = 1\n[models]\nallow_formats = ["pytorch"]\n')
    code, _, stderr = run(["scan", str(project), "--policy", str(policy)])
    assert code == 2 and "p.toml:3" in stderr and "unknown model format 'pytorch'" in stderr


def test_models_manifest(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(BENIGN / "model.safetensors", project / "a.safetensors")
    shutil.copy(BENIGN / "model.onnx", project / "b.onnx")
    policy = tmp_path / "p.toml"
    policy.write_text('schema = 1\n[models]\nmanifest = "models.lock"\n')
    code, report = scan_json(str(project), "--policy", str(policy), cwd=tmp_path)
    assert [f["rule_id"] for f in report["findings"]] == ["MODEL004"]  # no manifest yet
    result = CliRunner().invoke(cli, ["models", "lock", str(project)])
    assert result.exit_code == 0, result.output
    assert (project / "models.lock").read_text().count("[[model]]") == 2
    code, report = scan_json(str(project), "--policy", str(policy), cwd=tmp_path)
    assert (code, report["findings"]) == (0, [])
    shutil.copy(BENIGN / "safetensors-named.bin", project / "a.safetensors")  # same tensors, other bytes
    shutil.copy(BENIGN / "model.gguf", project / "c.gguf")
    code, report = scan_json(str(project), "--policy", str(policy), cwd=tmp_path)
    assert code == 1
    assert sorted((f["file"], f["message"].split(" ", 3)[2]) for f in report["findings"]) == \
        [("a.safetensors", "has"), ("c.gguf", "is")]


def test_another_tools_ml_bom_is_not_judged_as_safe(tmp_path: Path) -> None:
    sbom = tmp_path / "other.cdx.json"
    sbom.write_text(json.dumps({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"component": {"type": "application", "name": "x", "bom-ref": "x"}},
        "components": [{"type": "machine-learning-model", "bom-ref": "m", "name": "model.pt",
                        "hashes": [{"alg": "SHA-256", "content": "ab" * 32}]}]}))
    result = CliRunner().invoke(cli, ["check", str(sbom), "--format", "json"])
    findings = json.loads(result.output)["findings"]
    assert result.exit_code == 1
    assert [(f["rule_id"], f["file"]) for f in findings if f["rule_id"].startswith("MODEL")] == \
        [("MODEL003", "model.pt")]


def test_hashing_matches_and_reports_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import governance.collect.models as models

    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 << 20) + b"x")
    seen: list[str] = []
    monkeypatch.setattr(models, "LARGE", 1 << 20)
    assert sha256_file(big, seen.append) == hashlib.sha256(big.read_bytes()).hexdigest()
    assert seen and seen[-1].startswith("hashing big.bin: 100%")


def test_damaged_files_are_findings_never_crashes(tmp_path: Path) -> None:
    """Truncated, bit-flipped and padded copies of every corpus file: judged or MODEL003, no exception."""
    import random

    from governance.collect.models import judge_file

    rng = random.Random(14)
    sources = sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix not in (".md", ".py", ".txt"))
    for round_ in range(300):
        source = sources[round_ % len(sources)]
        data = bytearray(source.read_bytes())
        if round_ % 3 == 0:
            data = data[:rng.randrange(1, len(data))]
        elif round_ % 3 == 1:
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            at = rng.randrange(len(data))
            data[at:at] = rng.randbytes(rng.randrange(1, 16))
        damaged = tmp_path / source.name
        damaged.write_bytes(bytes(data))
        judge_file(damaged, source.name)  # must not raise


@pytest.mark.parametrize(("name", "text"), [
    ("web/app.js", 'var x = {"a": 1};\nconsole.log(x);\n'),  # byte 8 is "{": a safetensors length + header?
    ("settings.cfg", 'theme = {"dark": true}\n'),
    ("docs/gguf.md", "GGUF conversion notes\nuse convert_hf_to_gguf.py\n"),  # starts with GGUF's magic
    ("data/blob.dat", "12345678{\"x\":1}"),  # a length far past the end of the file
    # DeepSpeed's launcher (deepspeed 0.19.8 sdist): a Python script named like a torch checkpoint.
    ("bin/deepspeed.pt", "#!/usr/bin/env python3\n\nfrom deepspeed.launcher.runner import main\n"),
])
def test_text_that_starts_like_a_model_header_is_not_a_model(tmp_path: Path, name: str, text: str) -> None:
    # A file is taken for a model by content only when its header is plausible; a project's
    # JavaScript, config or notes must never fail the gate as an unreadable model (MODEL003).
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text)
    assert find_models(tmp_path) == ()
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [f["rule_id"] for f in json.loads(result.output)["findings"]] == []


@pytest.mark.parametrize(("name", "head"), [
    ("weights.safetensors", b"\xff\xff\xff\xff\x00\x00\x00\x00{\"a\":1}"),  # named a model: a lying header is judged
    ("model.gguf", b"GGUF\x07\x00\x00\x00"),
    ("weights.bin", b"\xff\xff\xff\xff\x00\x00\x00\x00{\"a\":1}"),
])
def test_a_file_named_as_a_model_with_a_lying_header_is_still_a_finding(tmp_path: Path, name: str,
                                                                       head: bytes) -> None:
    (tmp_path / name).write_bytes(head)
    assert [m.path for m in find_models(tmp_path)] == [name]


def test_terminal_summary_counts_model_files(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(BENIGN / "model.safetensors", project / "a.safetensors")
    shutil.copy(BENIGN / "model.gguf", project / "b.gguf")
    result = CliRunner().invoke(cli, ["scan", str(project)])
    assert result.exit_code == 0, result.output
    assert "2 model file(s): gguf, safetensors" in result.output


@pytest.mark.parametrize("name, content", [
    ("web/app.js", b'var x = {"a": 1};\n'),
    ("settings.cfg", b'theme = {"dark": true}\n'),
    ("data/blob.dat", (2**40).to_bytes(8, "little") + b'{"x": 1}' + b"\0" * 64),
])
def test_text_and_data_whose_ninth_byte_is_a_brace_are_not_models(tmp_path: Path, name: str,
                                                                    content: bytes) -> None:
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    assert [m.path for m in find_models(tmp_path)] == []


def test_a_named_safetensors_file_whose_header_lies_is_still_judged(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes((10**6).to_bytes(8, "little") + b'{"w": {}}')
    found = find_models(tmp_path)
    assert len(found) == 1 and found[0].format == "safetensors"
    assert any("header claims" in problem for problem in found[0].unparsed)


@pytest.mark.parametrize("kind", ["fifo", "dangling", "loop"])
def test_a_model_name_that_is_no_regular_file_is_unjudged_not_passed_over(tmp_path: Path, kind: str) -> None:
    # Each was skipped without a word: a PASS that never looked at model.pt.
    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\n")
    target = tmp_path / "model.pt"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dangling":
        target.symlink_to("weights/missing.pt")
    else:
        target.symlink_to("model.pt")
    (only,) = find_models(tmp_path)
    assert only.path == "model.pt" and only.format == "unknown" and "not read" in only.unparsed[0]
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1, result.output
    assert [f["rule_id"] for f in json.loads(result.output)["findings"]] == ["MODEL003"]


def test_other_non_regular_files_are_not_models(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "notes.txt")
    (tmp_path / "checkpoints.pt").mkdir()  # a folder named like a model is looked into, not judged
    (tmp_path / "checkpoints.pt" / "README").write_text("x")
    assert find_models(tmp_path) == ()
