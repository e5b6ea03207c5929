"""Container files: Dockerfile syntax where it touches FROM, compose `image:`, image references."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.collect import containers
from governance.collect.containers import expand, parse_reference, read_all, read_compose, read_dockerfile
from governance.errors import InputError
from governance.model import ContainerImage

DATA = Path(__file__).parent / "data" / "containers"


def _summary(root: Path) -> list[tuple[str, int, str, str | None, bool, str | None]]:
    return [(i.file, i.line, i.kind, i.stage, i.runtime, i.reference) for i in read_all(root).images]


def test_syntax_cases() -> None:
    # Directives, comments, a continuation with a comment inside, lower-case `from`/`as`,
    # --platform, ARG defaults and ${VAR:-default}, heredoc bodies that look like FROM,
    # COPY --from and RUN --mount from= images, stage references, scratch, a registry port.
    assert _summary(DATA / "syntax") == [
        ("Dockerfile", 10, "from", "Toolchain", False, "python:3.11-slim-bookworm"),
        ("Dockerfile", 20, "copy-from", "Toolchain", False, "ghcr.io/astral-sh/uv:0.8.4"),
        ("Dockerfile", 21, "copy-from", "Toolchain", False, "docker.io/library/busybox:1.36"),
        ("Dockerfile", 29, "from", "final", True, "registry.example.com:5000/ml/serving:2.3.1"),
    ]
    first = read_all(DATA / "syntax").images[0]
    assert first.platform == "$BUILDPLATFORM"
    assert first.written == "python:${PYTHON_VERSION}-slim-${DISTRO:-bookworm}"
    last = read_all(DATA / "syntax").images[-1]
    assert (last.registry, last.repository, last.tag) == ("registry.example.com:5000", "ml/serving", "2.3.1")


def test_backtick_escape_directive() -> None:
    (image,) = read_all(DATA / "backtick").images
    assert image.reference == "mcr.microsoft.com/windows/servercore:ltsc2022"
    assert (image.registry, image.repository) == ("mcr.microsoft.com", "windows/servercore")


def test_multistage_runtime_is_the_final_chain() -> None:
    images = read_all(DATA / "multistage").images
    assert [(i.stage, i.runtime, i.cuda) for i in images] == [("builder", False, "12.4.1"), ("base", True, "12.4.0")]
    # The ENV of the runtime stage overrides what the tag's image declares.
    assert images[1].require_cuda.startswith("cuda>=12.4 brand=tesla,driver>=470")
    assert images[1].require_source == "ENV NVIDIA_REQUIRE_CUDA in Containerfile"
    assert images[0].require_cuda == "cuda>=12.4"


def test_arg_tagged_cuda_base() -> None:
    (image,) = read_all(DATA / "ml-cuda-arg").images
    assert image.written == "nvidia/cuda:${CUDA}-cudnn8-runtime-ubuntu22.04"
    assert (image.cuda, image.cudnn, image.require_cuda) == ("12.1.1", "8", "cuda>=12.1")


def test_unresolved_arg_is_kept_with_the_reason() -> None:
    (image,) = read_all(DATA / "unresolved").images
    assert image.registry is None and image.reference is None and image.purl is None
    assert "BASE_IMAGE" in (image.unresolved or "")


def test_nested_star_dockerfile_and_digests() -> None:
    images = read_all(DATA / "digest-pinned").images
    assert [i.file for i in images] == ["scripts/docker/serve_policy.Dockerfile"] * 2
    assert images[0].digest is not None and images[0].digest.startswith("sha256:3f0c19")
    assert images[0].purl == ("pkg:oci/cuda@sha256:3f0c19c3a0b4fbcbd3ae8e8cb1bc0b47e1bba8a3bde7cfc6cbf1d6f7e3e4a5b6"
                              "?repository_url=docker.io/nvidia/cuda&tag=12.4.1-cudnn-runtime-ubuntu22.04")
    assert images[1].tag is None and images[1].kind == "copy-from"


def test_compose_services() -> None:
    result = read_all(DATA / "compose")
    compose = [(i.service, i.line, i.reference) for i in result.images if i.kind == "compose"]
    assert compose == [
        ("trainer", 2, "nvidia/cuda:12.4.1-runtime-ubuntu22.04"),  # through the merge key, .env interpolated
        ("cache", 16, "redis"),
        ("registry-mirror", 18, "registry.local:5000/ml/feature-store:latest"),
        ("tracker", 25, "ghcr.io/mlflow/mlflow:v2.16.2"),
    ]
    assert any("service 'app' builds its image" in note for note in result.notes)
    cache = next(i for i in result.images if i.service == "cache")
    assert (cache.registry, cache.repository, cache.tag, cache.purl) == (
        "docker.io", "library/redis", None, "pkg:docker/redis")


def test_compose_default_without_dotenv() -> None:
    images, _ = read_compose("services:\n  a:\n    image: nvidia/cuda:${TAG:-12.6.3-base-ubuntu24.04}\n"
                             "  b:\n    image: ${REGISTRY}/app:1\n", "compose.yml", {})
    assert images[0].reference == "nvidia/cuda:12.6.3-base-ubuntu24.04"
    assert "REGISTRY" in (images[1].unresolved or "") and "environment or .env" in (images[1].unresolved or "")


def test_alias_bomb_is_refused() -> None:
    with pytest.raises(InputError, match="alias bomb"):
        read_all(DATA / "alias-bomb")


def test_compose_anchors_within_reason_are_read() -> None:
    text = "x: &base\n  image: python:3.12\nservices:\n" + "".join(f"  s{n}:\n    <<: *base\n" for n in range(50))
    images, _ = read_compose(text, "compose.yml", {})
    assert len(images) == 50 and {i.line for i in images} == {2}


@pytest.mark.parametrize(("text", "message", "line"), [
    ("services: [\n", "invalid YAML", 2),
    ("- a\n- b\n", "a compose file is a mapping", 1),
    ("services:\n  a:\n    image: [x]\n", "`image` is not a string", 3),
])
def test_bad_compose(text: str, message: str, line: int) -> None:
    with pytest.raises(InputError, match=message) as raised:
        read_compose(text, "compose.yml", {})
    assert raised.value.line == line


@pytest.mark.parametrize(("text", "message", "line"), [
    ("# escape=x\nFROM python\n", "escape", 1),
    ("FROM python\nRUN <<EOF\necho\n", "heredoc <<EOF is not closed", 2),
    ("LABEL a=b\nFROM python\n", "LABEL before the first FROM", 1),
    ("ARG X=1\n", "no FROM instruction", None),
    ("FROM\n", "FROM names no image", 1),
    ("FROM python AS\n", "expected `FROM", 1),
    ("FROM Nvidia/CUDA:12.4.1-base-ubuntu22.04\n", "lower case", 1),
    ("FROM python@sha256:abc\n", "invalid digest", 1),
])
def test_bad_dockerfile(text: str, message: str, line: int | None) -> None:
    with pytest.raises(InputError, match=message) as raised:
        read_dockerfile(text, "Dockerfile")
    assert raised.value.line == line


def test_bad_container_file_exits_2_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from governance.cli import main

    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nFROM Bad/Name\n")
    with pytest.raises(SystemExit) as stop:
        main(["scan", str(tmp_path)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "Dockerfile:2:" in err and "lower case" in err and "Traceback" not in err


def test_directives_stop_at_the_first_other_line() -> None:
    # `# escape=` after a comment is a comment, so the backslash still continues lines.
    text = "# a comment\n# escape=`\nFROM python:3.11 \\\n  AS base\n"
    (image,) = read_dockerfile(text, "Dockerfile")
    assert image.stage == "base"


def test_escaped_dollar_and_empty_continuation_lines() -> None:
    text = "ARG V=3.11\nFROM python:\\\n\n${V}\n"
    (image,) = read_dockerfile(text, "Dockerfile")
    assert image.reference == "python:3.11"


@pytest.mark.parametrize(("text", "env", "expected", "missing"), [
    ("${A}", {"A": "1"}, "1", []),
    ("$A-x", {"A": "1"}, "1-x", []),
    ("${A:-d}", {"A": ""}, "d", []),
    ("${A-d}", {"A": ""}, "", []),
    ("${A:-d}", {}, "d", []),
    ("${A:+x}", {"A": "1"}, "x", []),
    ("${A:+x}", {}, "", []),
    ("${A:-${B:-z}}", {}, "z", []),
    ("\\${A}", {"A": "1"}, "${A}", []),
    ("${A}", {"A": None}, "", ["A"]),
    ("img:${T}", {}, "img:", ["T"]),
])
def test_expand(text: str, env: dict[str, str | None], expected: str, missing: list[str]) -> None:
    assert expand(text, env) == (expected, missing)


@pytest.mark.parametrize(("reference", "expected"), [
    ("python", ("docker.io", "library/python", None, None)),
    ("python:3.11", ("docker.io", "library/python", "3.11", None)),
    ("pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime",
     ("docker.io", "pytorch/pytorch", "2.5.1-cuda12.4-cudnn9-runtime", None)),
    ("index.docker.io/library/redis:7", ("docker.io", "library/redis", "7", None)),
    ("registry.local:5000/img:latest", ("registry.local:5000", "img", "latest", None)),
    ("registry.local:5000/img", ("registry.local:5000", "img", None, None)),
    ("localhost/team/img:1", ("localhost", "team/img", "1", None)),
    ("nvcr.io/nvidia/pytorch:24.05-py3", ("nvcr.io", "nvidia/pytorch", "24.05-py3", None)),
    ("ghcr.io/a/b@sha256:" + "ab" * 32, ("ghcr.io", "a/b", None, "sha256:" + "ab" * 32)),
    ("GHCR.IO/a/b:1", ("ghcr.io", "a/b", "1", None)),
])
def test_parse_reference(reference: str, expected: tuple[str, str, str | None, str | None]) -> None:
    assert parse_reference(reference) == expected


def test_find_skips_virtual_environments(tmp_path: Path) -> None:
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("")
    (tmp_path / ".venv" / "lib" / "Dockerfile").write_text("FROM x\n")
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "pyvenv.cfg").write_text("")
    (tmp_path / "env" / "Dockerfile").write_text("FROM x\n")
    (tmp_path / ".devcontainer").mkdir()
    (tmp_path / ".devcontainer" / "Dockerfile").write_text("FROM python:3.12\n")
    (tmp_path / "docker").mkdir()
    for name in ("Dockerfile.gpu", "cuda-12.dockerfile", "Containerfile", "compose.override.yaml",
                 "docker-compose.prod.yml", "environment.yml", "notes.txt"):
        (tmp_path / "docker" / name).write_text("FROM x\n" if "ocker" in name or "ontainer" in name else "a: 1\n")
    found = [p.relative_to(tmp_path).as_posix() for p in containers.find(tmp_path)]
    assert found == [".devcontainer/Dockerfile", "docker/Containerfile", "docker/Dockerfile.gpu",
                     "docker/compose.override.yaml", "docker/cuda-12.dockerfile", "docker/docker-compose.prod.yml"]


def test_real_projects_read_without_errors(shared_dir: Path) -> None:
    # The corpus keeps no container files (its README says why); every case must
    # still be read without an error and without mistaking other files for them.
    root = shared_dir / "real-projects"
    for case in sorted(p for p in root.iterdir() if p.is_dir()):
        result = read_all(case)
        for image in result.images:
            assert image.file and image.line >= 1
            assert image.unresolved or image.registry


def test_quoted_heredoc_marker_is_not_a_heredoc() -> None:
    text = 'FROM python:3.11\nRUN echo "<<EOF" && cat <<\'DONE\'\nFROM not:an-image\nDONE\nFROM redis:7 AS r\n'
    assert [i.reference for i in read_dockerfile(text, "Dockerfile")] == ["python:3.11", "redis:7"]


def test_templates_and_dockerignore_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    (tmp_path / "Dockerfile.dockerignore").write_text("*.pyc\n")
    (tmp_path / "Dockerfile.j2").write_text("FROM {{ base }}\n")
    result = read_all(tmp_path)
    assert [i.reference for i in result.images] == ["python:3.12"]
    assert result.files == ("Dockerfile",)
    assert result.notes == ("Dockerfile.j2: a Dockerfile template, not read; scan the Dockerfile it renders "
                            "to judge its base images",)


# Container files written for these tests after the patterns the real projects in
# ../shared/real-projects use (their README describes each; the files themselves
# were not kept): (files, expected (file, line, reference or None, runtime) per image).
PATTERNS: dict[str, tuple[dict[str, str], list[tuple[str, int, str | None, bool]]]] = {
    "cuda-arg-with-conda": ({"docker/Dockerfile": (
        "ARG CUDA=12.2.2\n"
        "FROM nvidia/cuda:${CUDA}-cudnn8-runtime-ubuntu20.04\n"
        "# CUDA_VERSION comes from the base image's ENV, not from an ARG of this file\n"
        "RUN conda install -y -c nvidia cuda=${CUDA_VERSION} \\\n"
        "    && pip install jaxlib==0.4.26+cuda12.cudnn89 -f https://example.invalid/jax_releases.html\n")},
        [("docker/Dockerfile", 2, "nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu20.04", True)]),
    "uv-copied-from-an-image": ({"docker/Dockerfile": (
        "FROM nvidia/cuda:12.6.3-base-ubuntu24.04\n"
        "COPY --from=ghcr.io/astral-sh/uv:0.9.2 /uv /uvx /bin/\n"
        "RUN uv sync --frozen\n")},
        [("docker/Dockerfile", 1, "nvidia/cuda:12.6.3-base-ubuntu24.04", True),
         ("docker/Dockerfile", 2, "ghcr.io/astral-sh/uv:0.9.2", False)]),
    "ngc-base-with-scratch-stages": ({
        "docker/Dockerfile": (
            "ARG BASE_IMAGE=nvcr.io/nvidia/cuda-dl-base:25.05-cuda12.9-devel-ubuntu24.04\n"
            "FROM scratch AS sources\nCOPY pyproject.toml /src/\n\n"
            "FROM ${BASE_IMAGE} AS base\nRUN apt-get update\n\n"
            "FROM base AS hermetic\nCOPY --from=sources /src /opt/src\n\n"
            "FROM hermetic AS release\n"),
        "docker/Dockerfile.ngc_pytorch": "ARG BASE=nvcr.io/nvidia/pytorch:25.12-py3\nFROM ${BASE}\nRUN true"},
        [("docker/Dockerfile", 5, "nvcr.io/nvidia/cuda-dl-base:25.05-cuda12.9-devel-ubuntu24.04", True),
         ("docker/Dockerfile.ngc_pytorch", 2, "nvcr.io/nvidia/pytorch:25.12-py3", True)]),
    "lower-case-dockerfiles-with-require-env": ({
        "docker/cuda-10-1.dockerfile": (
            "ARG BASE=python:3.7\nFROM ${BASE}\n"
            "ENV CUDA_VERSION 10.1.243\n"
            "ENV NVIDIA_REQUIRE_CUDA \"cuda>=10.1 brand=tesla,driver>=384,driver<385 brand=tesla,driver>=396,driver<397\"\n"
            "RUN apt-get install -y libcudnn7=$CUDNN_VERSION-1+cuda10.1\n"),
        "docker/conda.dockerfile": "FROM continuumio/miniconda3:4.7.10\nRUN conda install -y python=3.7"},
        [("docker/conda.dockerfile", 1, "continuumio/miniconda3:4.7.10", True),
         ("docker/cuda-10-1.dockerfile", 2, "python:3.7", True)]),
    "tensorflow-gpu-and-compose-2": ({
        "dockerfile": "FROM tensorflow/tensorflow:2.6.0-gpu\nRUN pip install git+https://example.invalid/tts.git\n",
        "docker-compose.yml": ("version: '2.6'\nservices:\n  tts:\n    build: .\n    image: tts\n"
                               "    runtime: nvidia\n    environment:\n      - CUDA_VISIBLE_DEVICES=0\n")},
        [("dockerfile", 1, "tensorflow/tensorflow:2.6.0-gpu", True)]),
    "pytorch-image-built-from-args": ({"docker/Dockerfile": (
        "ARG PYTORCH_VERSION=2.4.1\nARG CUDA_VERSION=12.1\nARG CUDNN_VERSION=9\n"
        "FROM pytorch/pytorch:${PYTORCH_VERSION}-cuda${CUDA_VERSION}-cudnn${CUDNN_VERSION}-runtime AS base\n"
        "FROM base AS core\nRUN pip install deeplabcut\n"
        "FROM core AS gui\nRUN pip install napari\n")},
        [("docker/Dockerfile", 4, "pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime", True)]),
    "own-base-and-onbuild-base": ({
        "docker/Dockerfile.latest-core": "FROM deeplabcut/deeplabcut:base\nRUN pip install deeplabcut==2.3.5\n",
        "pytorch-notebook/Dockerfile": "ARG PANGEO_BASE_IMAGE_TAG=2024.01.15\nFROM pangeo/base-image:${PANGEO_BASE_IMAGE_TAG}\n"},
        [("docker/Dockerfile.latest-core", 1, "deeplabcut/deeplabcut:base", True),
         ("pytorch-notebook/Dockerfile", 2, "pangeo/base-image:2024.01.15", True)]),
    "containerfile-with-base-arg": ({"containers/cuda/Containerfile": (
        "ARG BASE_IMAGE=quay.io/centos/centos:stream9\nFROM ${BASE_IMAGE}\n"
        "RUN dnf config-manager --add-repo https://example.invalid/cuda-rhel9.repo && dnf install -y cuda-toolkit-12-8\n")},
        [("containers/cuda/Containerfile", 2, "quay.io/centos/centos:stream9", True)]),
    "private-registry-base": ({"Dockerfile": (
        "ARG CUDA_MAJOR_VERSION=12\nARG CUDA_MINOR_VERSION=6\n"
        "FROM cgr.dev/chainguard/python:latest-dev AS builder\nFROM cgr.dev/chainguard/python:latest\n")},
        [("Dockerfile", 3, "cgr.dev/chainguard/python:latest-dev", False),
         ("Dockerfile", 4, "cgr.dev/chainguard/python:latest", True)]),
    "lower-case-as-multistage": ({"Dockerfile": (
        "FROM nvidia/cuda:11.7.1-cudnn8-devel-ubuntu22.04 as builder\nRUN make\n"
        "FROM nvidia/cuda:11.7.1-cudnn8-runtime-ubuntu22.04\nCOPY --from=builder /app /app\n")},
        [("Dockerfile", 1, "nvidia/cuda:11.7.1-cudnn8-devel-ubuntu22.04", False),
         ("Dockerfile", 3, "nvidia/cuda:11.7.1-cudnn8-runtime-ubuntu22.04", True)]),
    "ngc-pytorch-yy-mm": ({"Dockerfile": "FROM nvcr.io/nvidia/pytorch:21.05-py3\nENV PYTHONDONTWRITEBYTECODE=1\n"},
                          [("Dockerfile", 1, "nvcr.io/nvidia/pytorch:21.05-py3", True)]),
    "builder-and-base-runtime": ({"Dockerfile": (
        "ARG PYTORCH_VERSION=2.7.0\n"
        "FROM nvidia/cuda:12.4.1-devel-ubuntu22.04 AS pytorch-install\n"
        "RUN pip install torch==${PYTORCH_VERSION}\n"
        "FROM pytorch-install AS kernel-builder\n"
        "FROM nvidia/cuda:12.4.0-base-ubuntu22.04 AS base\n"
        "COPY --from=pytorch-install /opt/venv /opt/venv\n"
        "FROM base AS sagemaker\n"
        "FROM base\n")},
        [("Dockerfile", 2, "nvidia/cuda:12.4.1-devel-ubuntu22.04", False),
         ("Dockerfile", 5, "nvidia/cuda:12.4.0-base-ubuntu22.04", True)]),
    "compose-anchor-with-build-and-profiles": ({"docker/docker-compose.yml": (
        "x-invokeai: &invokeai\n  image: \"ghcr.io/invoke-ai/invokeai:latest\"\n  build:\n    context: ..\n"
        "    dockerfile: docker/Dockerfile\n  volumes:\n    - ./data:/invokeai\n\n"
        "services:\n  invokeai-cuda:\n    <<: *invokeai\n    deploy:\n      resources:\n        reservations:\n"
        "          devices:\n            - driver: nvidia\n              count: 1\n              capabilities: [gpu]\n"
        "  invokeai-cpu:\n    <<: *invokeai\n    profiles: [cpu]\n"),
        "docker/Dockerfile": "FROM docker.io/library/python:3.12-slim\n"},
        [("docker/Dockerfile", 1, "docker.io/library/python:3.12-slim", True)]),
    "gpu-and-cpu-dockerfiles": ({"Dockerfile.gpu": "FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04\n",
                                 "Dockerfile.cpu": "FROM ubuntu:22.04\n"},
                                [("Dockerfile.cpu", 1, "ubuntu:22.04", True),
                                 ("Dockerfile.gpu", 1, "nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04", True)]),
}


@pytest.mark.parametrize("case", sorted(PATTERNS))
def test_real_project_patterns(tmp_path: Path, case: str) -> None:
    files, expected = PATTERNS[case]
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    result = read_all(tmp_path)
    assert [(i.file, i.line, i.reference, i.runtime) for i in result.images] == expected
    for image in result.images:
        assert image.purl and image.registry and image.repository


def test_real_project_patterns_bring_what_the_tags_say(tmp_path: Path) -> None:
    def facts(case: str) -> list[tuple[str | None, str | None, str | None, str | None]]:
        folder = tmp_path / case
        for name, text in PATTERNS[case][0].items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        return [(i.cuda, i.cudnn, i.framework, i.framework_version) for i in read_all(folder).images]

    assert facts("pytorch-image-built-from-args") == [("12.1", "9", "torch", "2.4.1")]
    assert facts("ngc-pytorch-yy-mm") == [("11.3.0", "8.2.0.51", "torch", None)]
    assert facts("cuda-arg-with-conda") == [("12.2.2", "8", None, None)]
    assert facts("tensorflow-gpu-and-compose-2") == [(None, None, None, None)]  # 2.6 is older than the table
    written = _written(tmp_path / "spleeter", "lower-case-dockerfiles-with-require-env")
    (python,) = [i for i in written if i.cuda is None and i.require_cuda]
    assert python.require_cuda.startswith("cuda>=10.1 brand=tesla") and python.require_source is not None


def _written(folder: Path, case: str) -> tuple[ContainerImage, ...]:
    for name, text in PATTERNS[case][0].items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return read_all(folder).images


def test_a_huge_tree_is_searched_up_to_a_bound_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from governance.collect import container_files

    monkeypatch.setattr(container_files, "MAX_WALK_ENTRIES", 5)
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    data = tmp_path / "data"
    data.mkdir()
    for n in range(10):
        (data / f"{n}.bin").write_text("x")
    (data / "deeper").mkdir()
    (data / "deeper" / "Dockerfile").write_text("FROM redis:7\n")
    result = read_all(tmp_path)
    assert [i.reference for i in result.images] == ["python:3.12"]
    assert any("stopped looking after 5 entries" in note for note in result.notes)


# --- hostile shapes: each once crashed (exit 3) or took quadratic time -------------------------

@pytest.mark.parametrize("args", [
    'A=1 B="two words" C=\'single $x\'', 'A="esc \\" quote" B=a\\ b', 'A="" B=\'\'', 'A="back\\\\slash"',
    'A="keep \\n"', 'A=unterminated"', 'A=trailing\\', "A=`tick`", "\tA=1\r\nB=2 ",
])
@pytest.mark.parametrize("escape", ["\\", "`"])
def test_words_split_as_posix_shlex_does(args: str, escape: str) -> None:
    import shlex

    lexer = shlex.shlex(args, posix=True)
    lexer.whitespace_split, lexer.escape, lexer.commenters = True, escape, ""
    try:
        expected = list(lexer)
    except ValueError:
        expected = args.split()
    assert containers._words(args, escape) == expected


def test_a_megabyte_quoted_env_value_is_read_in_linear_time() -> None:
    import time

    # shlex grows a word by string concatenation: this line took ~20 s (quadratic); now milliseconds.
    text = 'FROM python:3.11\nENV NVIDIA_REQUIRE_CUDA="cuda>=12.4 ' + "'" * 1_000_000 + '"\n'
    started = time.perf_counter()
    (image,) = read_dockerfile(text, "Dockerfile")
    assert time.perf_counter() - started < 5
    assert image.require_cuda is not None and image.require_cuda.startswith("cuda>=12.4 ''")


def test_many_dollars_are_expanded_in_linear_time() -> None:
    import time

    started = time.perf_counter()
    assert expand("$" * 1_000_000, {}) == ("$" * 1_000_000, [])
    assert time.perf_counter() - started < 5


def test_substitutions_nested_beyond_reason_are_an_input_error() -> None:
    assert expand("${A:-" * 16 + "x" + "}" * 16, {}) == ("x", [])
    with pytest.raises(ValueError, match="nested more than"):
        expand("${A:-" * 20_000 + "x" + "}" * 20_000, {})
    with pytest.raises(InputError, match="nested more than") as raised:
        read_dockerfile("FROM python:" + "${A:-" * 20_000 + "3.11" + "}" * 20_000 + "\n", "Dockerfile")
    assert raised.value.line == 1 and len(str(raised.value)) < 400
    # An ENV value keeps its text as written, as for any value that cannot be expanded.
    (image,) = read_dockerfile("FROM python:3.11\nENV A=" + "${A:-" * 20_000 + "x" + "}" * 20_000 + "\n", "Dockerfile")
    assert image.reference == "python:3.11"


def test_a_mapping_that_merges_itself_is_read() -> None:
    images, _ = read_compose("services:\n  s: &a\n    <<: *a\n  t: &b\n    <<: *b\n    image: python:3.12\n",
                             "compose.yml", {})
    assert [(i.service, i.reference) for i in images] == [("t", "python:3.12")]


def test_compose_nested_beyond_the_parser_is_exit_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from governance.cli import main

    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\n")
    (tmp_path / "compose.yaml").write_text("services: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(SystemExit) as stop:
        main(["scan", str(tmp_path)])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "compose.yaml" in err and "nested too deeply" in err


def test_a_dockerfile_with_thousands_of_stages_is_refused_at_the_first_one_over() -> None:
    # 20,000 FROM lines took 20 s (each looked up every stage before it); real files have a handful.
    text = "".join(f"FROM python:3.11 AS s{n}\n" for n in range(20_000))
    with pytest.raises(InputError, match="more than 500 build stages") as raised:
        read_dockerfile(text, "Dockerfile")
    assert raised.value.line == 501
    assert len(read_dockerfile(text[:text.index("FROM python:3.11 AS s500\n")], "Dockerfile")) == 500


@pytest.mark.parametrize("kind", ["fifo", "dangling"])
def test_a_container_name_that_is_no_regular_file_is_said_not_read(tmp_path: Path, kind: str) -> None:
    import os

    (tmp_path / "sub").mkdir()
    target = tmp_path / "sub" / "Dockerfile"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to("Dockerfile.base")
    result = read_all(tmp_path)
    assert result.files == () and [u.file for u in result.unread] == ["sub/Dockerfile"]
