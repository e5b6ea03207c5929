"""The traps real ML lockfiles set, each on a fixture made by the real tool.

tests/data/lockfiles/uv-variants: torch-like stand-ins on local indexes (the
PyTorch index cannot be reached where the fixtures were made; see its
regenerate.py): one version from two indexes chosen per platform, +cpu/+cu128
variants behind conflicting extras, and conflicting groups with default-groups.
uv's own export for each choice of extras/groups is the truth.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from governance.cli import cli, main
from governance.collect import lockfiles
from governance.collect.selection import Selection
from governance.collect.target import target_markers
from governance.errors import InputError

VARIANTS = Path(__file__).resolve().parent / "data" / "lockfiles" / "uv-variants"
PLATFORMS = ["linux-x86_64", "linux-aarch64", "macos-arm64", "windows-amd64"]
CHOICES = [
    ("platform-indexes", "default", Selection()),
    ("conflict-extras", "default", Selection()),
    ("conflict-extras", "cpu", Selection(extras=("cpu",))),
    ("conflict-extras", "cu128", Selection(extras=("cu128",))),
    ("conflict-groups", "default", Selection()),
    ("conflict-groups", "no-dev", Selection(no_dev=True)),
    ("conflict-groups", "cpu", Selection(groups=("cpu",), no_default_groups=True)),
]

Entry = tuple[str, str, str]  # name, version, index folder name


def _index_name(url: str | None) -> str:
    return (url or "").rstrip("/").rsplit("/", 1)[-1]


def uv_says(project: str, choice: str, markers: dict[str, str]) -> dict[Entry, set[str]]:
    exported = tomllib.loads((VARIANTS / "exports" / f"{project}.{choice}.pylock.toml").read_text())
    environment = {**markers, "extras": frozenset(), "dependency_groups": frozenset()}
    found = {}
    for package in exported["packages"]:
        marker = package.get("marker")
        if marker and not Marker(marker).evaluate(environment, context="lock_file"):  # type: ignore[arg-type]
            continue
        digests = {f"sha256:{w['hashes']['sha256']}" for w in package.get("wheels", [])}
        found[(canonicalize_name(package["name"]), package["version"], _index_name(package.get("index")))] = digests
    return found


def mlgov_says(project: str, selection: Selection, markers: dict[str, str]) -> dict[Entry, set[str]]:
    folder = VARIANTS / project
    result = lockfiles.read(folder / "uv.lock", folder, markers, selection)
    return {(d.key, d.version or "", _index_name(d.provenance.source.url if d.provenance.source else None)):
            {str(h) for h in d.provenance.hashes} for d in result.declarations}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("project,choice,selection", CHOICES, ids=[f"{p}-{c}" for p, c, _ in CHOICES])
def test_uv_entries_and_hashes_are_those_uv_sync_installs(project: str, choice: str, selection: Selection,
                                                          platform: str) -> None:
    markers = target_markers(platform, "3.11", {})
    expected = uv_says(project, choice, markers)
    assert mlgov_says(project, selection, markers) == expected


def test_one_version_from_two_indexes_takes_the_linux_entry_with_its_cuda_wheels() -> None:
    got = mlgov_says("platform-indexes", Selection(), target_markers("linux-x86_64", "3.11", {}))
    torch = [entry for entry in got if entry[0] == "torchlike"]
    assert torch == [("torchlike", "2.9.1", "main")]
    assert {entry[0] for entry in got} == {"torchlike", "typinglike", "nvlike-cublas", "tritonlike"}
    mac = mlgov_says("platform-indexes", Selection(), target_markers("macos-arm64", "3.11", {}))
    assert {entry for entry in mac if entry[0] == "torchlike"} == {("torchlike", "2.9.1", "cpu")}
    assert got[torch[0]].isdisjoint(mac[("torchlike", "2.9.1", "cpu")])


def test_default_groups_choose_the_cuda_variant_and_nothing_else() -> None:
    got = mlgov_says("conflict-groups", Selection(), target_markers("linux-x86_64", "3.11", {}))
    assert {e[:2] for e in got if e[0] == "torchlike"} == {("torchlike", "2.10.0+cu128")}


def test_conflicting_groups_are_refused_as_uv_refuses_them() -> None:
    folder = VARIANTS / "conflict-groups"
    with pytest.raises(InputError, match="incompatible"):
        lockfiles.read(folder / "uv.lock", folder, target_markers("linux-x86_64", "3.11", {}),
                       Selection(groups=("cpu",)))


def test_unknown_extra_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sbom", str(VARIANTS / "conflict-extras"), "--extra", "rocm", "--target-platform", "linux-x86_64",
              "--target-python", "3.11"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "uv.lock: --extra rocm" in error and "cpu, cu128" in error


@pytest.mark.parametrize("command", ["sbom", "scan"])
def test_sbom_and_scan_take_the_extra(tmp_path: Path, command: str) -> None:
    out = tmp_path / "sbom.json"
    args = [command, str(VARIANTS / "conflict-extras"), "--extra", "cu128", "--target-platform", "linux-x86_64",
            "--target-python", "3.11"]
    args += ["-o", str(out)] if command == "sbom" else ["--sbom", str(out), "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1), result.output
    document = json.loads(out.read_text())
    torch = [c for c in document["components"] if c["name"] == "torchlike"]
    assert [c["version"] for c in torch] == ["2.10.0+cu128"]
    expected = uv_says("conflict-extras", "cu128", target_markers("linux-x86_64", "3.11", {}))
    assert {f"sha256:{h['content']}" for h in torch[0]["hashes"]} == \
        expected[("torchlike", "2.10.0+cu128", "cu128")]
    if command == "scan":
        findings = json.loads(result.output)["findings"]
        assert not [f for f in findings if f["rule_id"] == "LOCK001"]


STALE = VARIANTS / "stale"


def _scan_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["scan", *args, "--target-platform", "linux-x86_64", "--target-python", "3.11",
                                      "--format", "json", "--policy", "production"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)


def test_a_stale_lock_is_lock_drift_not_unpinned_packages(tmp_path: Path) -> None:
    # uv itself refuses this lock (recorded by regenerate.py):
    assert "needs to be updated" in (VARIANTS / "exports" / "stale.locked-refused.txt").read_text()
    out = tmp_path / "sbom.json"
    report = _scan_json(str(STALE), "--sbom", str(out))
    rules = [f["rule_id"] for f in report["findings"]]
    assert "DRIFT004" in rules and "PIN001" not in rules
    drift = [f["message"] for f in report["findings"] if f["rule_id"] == "DRIFT004"]
    assert any("==2.10.0" in m and "2.9.1" in m for m in drift), drift
    # the requirement uv.lock does not record at all is drift too (`uv sync --locked` refuses both)
    assert any(m.startswith("coloramalike: pyproject.toml:") and "which uv.lock does not record" in m for m in drift)
    components = {(c["name"], c.get("version")) for c in json.loads(out.read_text())["components"]}
    # every version comes from the lock (typinglike==4 in the manifest, 4.0 in the lock); the package
    # the lock does not record (coloramalike) is not a component
    assert components == {("torchlike", "2.9.1"), ("typinglike", "4.0"), ("nvlike-cublas", "12.8.1"),
                          ("tritonlike", "3.5.0")}
    checked = CliRunner().invoke(cli, ["check", str(out), "--format", "json", "--policy", "production"])
    assert "DRIFT004" in [f["rule_id"] for f in json.loads(checked.output)["findings"]]


def test_a_stale_lock_names_what_it_does_not_record() -> None:
    from governance.collect import ScanOptions, collect

    inventory = collect(ScanOptions(project=STALE, markers=target_markers("linux-x86_64", "3.11", {}),
                                    include_environment=False))
    assert any("coloramalike" in note and "stale" in note for note in inventory.notes)


def test_packages_of_extras_not_asked_for_are_never_components() -> None:
    from governance.collect import ScanOptions, collect

    inventory = collect(ScanOptions(project=VARIANTS / "conflict-extras", include_environment=False,
                                    markers=target_markers("linux-x86_64", "3.11", {})))
    assert {(p.name, p.version) for p in inventory.packages if p.name == "torchlike"} == {("torchlike", "2.10.0")}


EXTRA_MARKERS = Path(__file__).resolve().parent / "data" / "lockfiles" / "poetry-extra-markers"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_poetry_extra_keeps_the_marker_of_its_dependency(platform: str) -> None:
    from tests.locktruth import _from_requirements

    markers = target_markers(platform, "3.11", {})
    expected = {(name, version) for name, version, _ in
                _from_requirements((EXTRA_MARKERS / "poetry-export.txt").read_text(), markers)}
    result = lockfiles.read(EXTRA_MARKERS / "poetry.lock", EXTRA_MARKERS, markers)
    got = {(d.key, d.version) for d in result.declarations}
    assert got == expected
    assert (("colorama", "0.4.6") in got) == (platform == "windows-amd64")


def test_pylock_editable_project_is_the_root_not_a_versionless_dependency(tmp_path: Path) -> None:
    folder = VARIANTS / "editable-project"
    out = tmp_path / "sbom.json"
    result = CliRunner().invoke(cli, ["sbom", str(folder), "--target-platform", "linux-x86_64",
                                      "--target-python", "3.11", "-o", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["metadata"]["component"]["name"] == "editable-project"
    assert [(c["name"], c.get("version")) for c in document["components"]] == [("typinglike", "4.0")]


# conda environment files: conda itself is not on PyPI and its channels cannot be reached here, so no
# tool can say what `conda env create` would install; these tests hold mlgov to what the files say
# (conda's MatchSpec grammar) on the real projects' own files.
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "real-projects"


def _inventory(folder: Path):  # type: ignore[no-untyped-def]
    from governance.collect import ScanOptions, collect

    if not folder.is_dir():
        pytest.fail(f"{folder} is missing: the real-project corpus must sit beside the checkout")
    return collect(ScanOptions(project=folder, markers=target_markers("linux-x86_64", "3.11", {}),
                               include_environment=False))


@pytest.mark.parametrize("case,name", [("glados", "environment_cuda.yml"),
                                       ("lightning-hydra-template-2021", "conda_env_gpu.yaml"),
                                       ("kraken", "environment_cuda.yml"),
                                       ("stable-diffusion", "environment.yaml"),
                                       ("deeplabcut/conda-environments", "DEEPLABCUT.yaml")])
def test_conda_environment_files_under_any_name_are_read(case: str, name: str) -> None:
    assert name in _inventory(CORPUS / case).sources


def test_mlflow_conda_yaml_is_read(tmp_path: Path) -> None:
    (tmp_path / "conda.yaml").write_text("channels:\n- conda-forge\ndependencies:\n- python=3.11.9\n- pip<=24.0\n"
                                         "- pip:\n  - mlflow==2.17.0\n  - torch==2.5.1\nname: mlflow-env\n")
    inventory = _inventory(tmp_path)
    assert {(p.name, p.version) for p in inventory.packages if p.ecosystem == "pypi"} == \
        {("mlflow", "2.17.0"), ("torch", "2.5.1")}


def test_pip_entries_that_are_git_urls_or_paths_are_components_with_their_source() -> None:
    inventory = _inventory(CORPUS / "stable-diffusion")  # `-e git+...@master#egg=taming-transformers`, `-e .`
    by_name = {p.name: p for p in inventory.packages}
    taming = by_name["taming-transformers"]
    assert taming.source is not None and taming.source.kind == "vcs" and taming.source.commit == "master"
    assert by_name["clip"].source is not None and by_name["clip"].source.kind == "vcs"


def test_a_pip_entry_naming_no_package_is_a_note_not_exit_2() -> None:
    inventory = _inventory(CORPUS / "deeplabcut-2023" / "conda-environments")  # `-e ../[gui]`
    assert any("DEEPLABCUT_M1.yaml:44" in note and "names no package" in note for note in inventory.notes)


def test_channel_qualifier_only_when_the_spec_names_one_and_fuzzy_versions_kept() -> None:
    stylegan = {p.name: p for p in _inventory(CORPUS / "stylegan3").packages if p.ecosystem == "conda"}
    assert stylegan["pytorch"].version == "1.9.1"  # `pytorch=1.9.1`
    assert "channel=" not in stylegan["pytorch"].purl  # the file lists channels; the spec names none
    kraken = {p.name: p for p in _inventory(CORPUS / "kraken").packages if p.ecosystem == "conda"}
    assert "channel=conda-forge" in kraken["pytorch"].purl  # `conda-forge::pytorch~=2.4.0`


def test_conda_build_string_is_kept_on_the_package() -> None:
    inventory = _inventory(CORPUS / "pangeo-docker-images" / "pytorch-notebook")
    specs = [p for p in inventory.packages if p.name == "pytorch" and
             any(pr.file == "environment.yml" for pr in p.provenance)]
    assert specs and specs[0].property("mlgov:conda:build") is not None


@pytest.mark.parametrize(("spec", "version", "build", "specifier"), [
    # conda's MatchSpec (conda-lock 1.1.1's vendored copy) on the corpus's own specs
    ("python >= 3.8", None, None, ">=3.8"),  # stylegan3: not version `>=` with build `3.8`
    ("cuda-toolkit>= 12.6.3", None, None, ">=12.6.3"),  # glados environment_cuda.yml
    ("nvidiacub=1.10.0=0", "1.10.0", "0", "==1.10.0"),  # paris (conda env export): a numeric build
    ("plotly-orca=1.2.1=1", "1.2.1", "1", "==1.2.1"),
    ("numpy=1.26.4=py311_0", "1.26.4", "py311_0", "==1.26.4"),
    ("pytorch>=2.7.0=cuda12*", None, "cuda12*", ">=2.7.0"),  # pangeo
    ("pytorch 1.9.1 py3.9_cuda11.1_cudnn8.0.5_0", "1.9.1", "py3.9_cuda11.1_cudnn8.0.5_0", "==1.9.1"),
    ("pytorch=1.12.1", "1.12.1", None, "==1.12.1.*"),  # fuzzy, names one release
    ("numpy=1.26", None, None, "==1.26.*"),
    ("pytorch==1.12.1", "1.12.1", None, "==1.12.1"),
])
def test_conda_specs_split_as_conda_splits_them(spec: str, version: str | None, build: str | None,
                                                specifier: str) -> None:
    from governance.collect.lockfiles.conda import _SPEC, _conda_version

    match = _SPEC.match(spec)
    assert match is not None
    assert _conda_version(match.group("rest")) == (version, build, specifier)


def test_a_local_project_pip_entry_is_named_only_by_what_the_folder_states() -> None:
    # stable-diffusion's `-e .`: the corpus keeps no setup.py, so pip would learn the name only by
    # building it (it is latent-diffusion, not the folder's name); kraken's `file:.` is named by setup.cfg.
    inventory = _inventory(CORPUS / "stable-diffusion")
    assert "stable-diffusion" not in {p.name for p in inventory.packages}
    assert any("environment.yaml" in note and "'.'" in note for note in inventory.notes), inventory.notes
    kraken = _inventory(CORPUS / "kraken")
    assert any(p.name == "kraken" and p.source is not None and p.source.kind == "path" for p in kraken.packages)


def test_the_cpu_group_of_a_cuda12_default_project_through_the_command(tmp_path: Path) -> None:
    """`uv sync --no-default-groups --group cpu`: the command gives the cpu torch alone."""
    from tests.entry import invoke

    out = tmp_path / "s.cdx.json"
    code, output = invoke(["sbom", str(VARIANTS / "conflict-groups"), "--no-default-groups", "--group", "cpu",
                           "--target-platform", "linux-x86_64", "--target-python", "3.11", "-o", str(out)])
    assert code == 0, output
    versions = {c["name"]: c.get("version") for c in json.loads(out.read_text())["components"]}
    assert versions["torchlike"] == "2.10.0+cpu" and "coloramalike" not in versions
    code, output = invoke(["sbom", str(VARIANTS / "conflict-groups"), "--group", "cpu",
                           "--target-platform", "linux-x86_64", "--target-python", "3.11"])
    assert code == 2 and "incompatible" in output  # as uv: cpu conflicts with the default cuda12


def test_a_uv_lock_without_its_project_is_said(tmp_path: Path) -> None:
    """uv 0.13 refuses `uv export --frozen` of a revision < 5 uv.lock with no pyproject.toml beside it (7 of
    108 real sdists ship theirs that way, e.g. baseten-performance-client 0.1.16's python_bindings/uv.lock);
    mlgov still reads it, and says so."""
    from governance.collect import lockfiles
    from governance.collect.target import target_markers

    text = (Path(__file__).parent / "data" / "lockfiles" / "uv" / "uv.lock").read_text()
    markers = target_markers("linux-x86_64", "3.11", {})
    for revision, said in ((3, True), (5, False)):
        folder = tmp_path / f"r{revision}"
        folder.mkdir()
        (folder / "uv.lock").write_text(text.replace("revision = 5", f"revision = {revision}", 1))
        notes = lockfiles.read(folder / "uv.lock", folder, markers).notes
        assert any("no pyproject.toml beside it" in n for n in notes) == said, notes
