"""mlgov reads real ML projects' lockfiles exactly as their installer would.

One test per case of ../shared/real-projects that has a lockfile: the set of
(name, version, source) mlgov reads for linux-x86_64 and the project's CPython
equals what the installer itself says (uv export, poetry export, pdm export,
pipenv requirements, conda-lock render; see tests/locktruth.py). For uv, the
hashes of every package are those of the entry the target installs.

The installer is run live when installed (.ci/run puts them in .tools/) and its
answer must then equal the recording in tests/data/lock-truth/; without it the
recording made by scripts/record_lock_truth.py is the truth.

The requirements files and conda environment files of the corpus have no
resolver that can answer here (their indexes and channels are unreachable, and
today's PyPI is not the project's date): there the truth is the installer's own
parser, run offline (tests/reqtruth.py): pip's requirements-file parser with the
markers evaluated for the target, and conda-lock's environment-file parser with
pip's for the `pip:` section. Every folder of the corpus has at least one case;
the end of the run says how many of them agree.
"""

from __future__ import annotations

import tomllib

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from tests import locktruth, reqtruth
from tests.locktruth import CASES, Case
from tests.reqtruth import ENV_CASES, REQ_CASES, EnvCase, ReqCase

AGREEMENT: dict[str, bool] = {}


def _truth(case: Case) -> str:
    recorded = case.recording.read_text()
    if locktruth.tool_path(case.tool) is None:
        print(f"{case.id}: {case.tool} is not installed; the recorded answer is the truth")
        return recorded
    try:
        live = locktruth.stable(locktruth.run_tool(case))
    except locktruth.Unavailable as why:
        print(f"{case.id}: {why}; the recorded answer is the truth")
        return recorded
    assert live == recorded, (f"{case.tool} now answers differently for {case.id}: "
                              "run scripts/record_lock_truth.py and review the change")
    return live


@pytest.fixture(autouse=True, scope="module")
def _corpus() -> None:
    if not locktruth.CORPUS.is_dir():
        pytest.fail(f"{locktruth.CORPUS} is missing: the real-project corpus must sit beside the checkout")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_mlgov_reads_what_the_installer_installs(case: Case) -> None:
    expected = locktruth.truth(case, _truth(case))
    got = locktruth.mlgov(case)
    AGREEMENT[case.id] = got == expected
    assert expected, "the tool's answer is empty: the comparison would prove nothing"
    assert sorted(got - expected) == [] and sorted(expected - got) == []


PYLOCK_CASES = [c for c in CASES if c.tool == "uv-pylock"]


@pytest.mark.parametrize("case", PYLOCK_CASES, ids=[c.id for c in PYLOCK_CASES])
def test_a_scan_with_lock_lists_what_the_installer_installs_from_that_variant(case: Case) -> None:
    """mlcg's pylock.X.toml files are alternatives: a scan of the folder with `--lock pylock.X.toml`
    (its pyproject.toml read beside it, the uv.lock and the other variants not) lists what
    `uv pip install -r pylock.X.toml` installs, no more; pylock.no_hashes.toml, the git dependency
    the variants leave out, is judged with the variant it is installed after."""
    expected = locktruth.truth(case, _truth(case))
    for other in case.scan_with:
        expected |= locktruth.truth(locktruth.by_id(other), _truth(locktruth.by_id(other)))
    got = locktruth.mlgov_scan(case)
    assert sorted(got - expected) == [] and sorted(expected - got) == []


UV_CASES = [c for c in CASES if c.tool == "uv"]


@pytest.mark.parametrize("case", UV_CASES, ids=[c.id for c in UV_CASES])
def test_hashes_are_those_of_the_entry_the_target_installs(case: Case) -> None:
    from governance.collect import lockfiles
    from governance.collect.selection import Selection

    exported = tomllib.loads(case.recording.read_text())
    markers = locktruth.target_markers(case)
    environment = {**markers, "extras": frozenset(), "dependency_groups": frozenset()}
    expected: dict[tuple[str, str], set[str]] = {}
    for package in exported["packages"]:
        marker = package.get("marker")
        if marker and not Marker(marker).evaluate(environment, context="lock_file"):  # type: ignore[arg-type]
            continue
        files = [package.get("sdist"), package.get("archive")] + list(package.get("wheels", []))
        digests = {f"sha256:{f['hashes']['sha256']}" for f in files if isinstance(f, dict) and f.get("hashes")}
        if digests:
            expected[(canonicalize_name(package["name"]), str(package.get("version")))] = digests
    result = lockfiles.read(case.folder / "uv.lock", case.folder, markers, Selection(extras=case.extras))
    got = {(d.key, d.version or ""): {str(h) for h in d.provenance.hashes} for d in result.declarations}
    for key, digests in expected.items():
        # uv's export keeps the wheels for the target's Python; the lock entry has them all.
        assert digests <= got[key], key
        assert len(got[key]) >= len(digests)
    torch = [k for k in got if k[0] == "torch"]
    assert len(torch) <= 1, torch


def test_the_truth_is_the_pinned_pip() -> None:
    """pip._internal is no public API: the test extra pins the pip whose parser is the truth."""
    print(f"\nrequirements files read by pip {reqtruth.pip_version()}'s own parser")
    assert reqtruth.pip_version() == reqtruth.PIP_VERSION, \
        f"pip {reqtruth.pip_version()} is installed; reinstall the test extra (pip=={reqtruth.PIP_VERSION})"


def _pip_refusal(case: ReqCase) -> str | None:
    try:
        reqtruth.truth(case)
    except reqtruth.PipRefuses as refusal:
        return str(refusal)
    return None


@pytest.mark.parametrize("case", REQ_CASES, ids=[c.id for c in REQ_CASES])
def test_mlgov_reads_a_requirements_file_as_pip_does(case: ReqCase) -> None:
    """Line by line: what `pip install -r FILE` hands its resolver for the target (file, line,
    name, exact pin, extras, URL/VCS/path source, constraint or not, hashes) equals mlgov's
    reading; a file pip refuses, mlgov refuses too (exit 2 naming the file and line)."""
    from governance.errors import InputError

    if case.why:
        print(f"{case.id}: {case.platform} CPython {case.python}: {case.why}")
    refusal = _pip_refusal(case)
    if refusal is not None:
        print(f"{case.id}: pip refuses the file: {refusal}")
        with pytest.raises(InputError) as caught:
            reqtruth.mlgov_reads(case)
        AGREEMENT[case.id] = str(caught.value).startswith(f"{case.file}:")
        assert AGREEMENT[case.id], str(caught.value)
        return
    expected = reqtruth.truth(case)
    got = reqtruth.mlgov_reads(case)
    AGREEMENT[case.id] = got == expected
    assert expected or case.id == "instructlab-cpu", "pip read nothing: the comparison would prove nothing"
    assert sorted(set(got) - set(expected)) == [] and sorted(set(expected) - set(got)) == []
    assert got == expected  # the same lines as often (a line read twice or dropped twice fails)


# Folders whose scan reads exactly the case's file (and its includes): there the scan's components must
# be what pip is asked for, merged by name (an exact pin from an applying line, else no version).
SCAN_CASES = [c for c in REQ_CASES if c.id in
              ("alphafold2-docker", "deep-live-cam", "deeplabcut-2023", "jamun-2024-findlinks", "jamun-env")]


@pytest.mark.parametrize("case", SCAN_CASES, ids=[c.id for c in SCAN_CASES])
def test_a_scan_lists_what_pip_is_asked_for(case: ReqCase) -> None:
    """deep-live-cam: `torch==2.8.0+cu128; sys_platform == 'darwin'` beside an unpinned Linux `torch`:
    on Linux pip is asked for `torch` with no version, so the component has none."""
    from governance.collect import ScanOptions, collect

    folder = case.path.parent
    expected_lines = reqtruth.truth(case)
    inventory = collect(ScanOptions(project=folder, include_environment=False, include_models=False,
                                    markers=reqtruth.target(case.platform, case.python)))
    read = {str((case.root / file).relative_to(folder)) for file, *_ in expected_lines}
    assert sorted(inventory.sources) == sorted(read), "the scan reads other files than pip: not comparable"
    asked: dict[str, str] = {}
    for _file, _line, name, version, *_rest, constraint, _hashes in expected_lines:
        if name and not constraint:
            asked[name] = version or asked.get(name, "")
    got = {canonicalize_name(p.name): p.version or "" for p in inventory.packages if p.ecosystem == "pypi"}
    assert sorted(set(got.items()) - set(asked.items())) == [] and sorted(set(asked.items()) - set(got.items())) == []


def _conda_truth(case: EnvCase) -> str:
    recorded = case.recording.read_text()
    if reqtruth.conda_lock_python() is None:
        print(f"{case.id}: conda-lock is not installed; its recorded reading is the truth")
        return recorded
    live = reqtruth.run_conda_lock(case)
    assert live == recorded, (f"conda-lock now reads {case.file} of {case.case} differently: "
                              "run scripts/record_lock_truth.py and review the change")
    return live


@pytest.mark.parametrize("case", ENV_CASES, ids=[c.id for c in ENV_CASES])
def test_mlgov_reads_a_conda_environment_file_as_conda_does(case: EnvCase) -> None:
    """Every conda spec as conda's MatchSpec reads it (through conda-lock's environment-file parser):
    name, version (exact, or MatchSpec's fuzzy/range form), build, channel; and the `pip:` section as
    pip reads the requirements file conda writes for it; a `conda list --explicit` file as conda's
    explicit() reads it (url_pat, MatchSpec(url)): name, version, build, URL, subdir, md5. conda itself
    cannot run here (it is not on PyPI and its channels are unreachable), so what it would resolve is
    not compared."""
    expected = reqtruth.env_truth(case, _conda_truth(case))
    got = reqtruth.mlgov_env(case)
    AGREEMENT[case.id] = got == expected
    assert expected[0], "conda-lock read no conda spec: the comparison would prove nothing"
    for mine, theirs in zip(got, expected):
        assert sorted(set(mine) - set(theirs)) == [] and sorted(set(theirs) - set(mine)) == []
    assert got == expected


ALL_IDS = [c.id for c in CASES] + [c.id for c in REQ_CASES] + [c.id for c in ENV_CASES]


def test_every_folder_of_the_corpus_has_its_cases() -> None:
    assert len(ALL_IDS) == len(set(ALL_IDS)), "case ids must be unique"
    folders = {p.name for p in locktruth.CORPUS.iterdir() if p.is_dir()}
    covered = {c.case for c in CASES} | {c.case for c in REQ_CASES} | {c.case for c in ENV_CASES}
    assert sorted(folders - covered) == [], "a real project without a comparison with its installer"
    assert sorted(covered - folders) == []


def _agrees(case: ReqCase) -> bool:
    from governance.errors import InputError

    if _pip_refusal(case) is None:
        return reqtruth.mlgov_reads(case) == reqtruth.truth(case)
    try:
        reqtruth.mlgov_reads(case)
    except InputError as refusal:
        return str(refusal).startswith(f"{case.file}:")
    return False


def test_every_case_agrees() -> None:
    """The suite's figure: how many real projects mlgov reads as their installer does."""
    for case in CASES:
        if case.id not in AGREEMENT:
            AGREEMENT[case.id] = locktruth.mlgov(case) == locktruth.truth(case, case.recording.read_text())
    for req in REQ_CASES:
        if req.id not in AGREEMENT:
            AGREEMENT[req.id] = _agrees(req)
    for env in ENV_CASES:
        if env.id not in AGREEMENT:
            AGREEMENT[env.id] = reqtruth.mlgov_env(env) == reqtruth.env_truth(env, env.recording.read_text())
    print("\n" + summary())
    assert all(AGREEMENT[i] for i in ALL_IDS), sorted(k for k in ALL_IDS if not AGREEMENT[k])


def summary() -> str:
    """The figure for the whole corpus (also written at the end of the run by conftest.py)."""
    def count(ids: list[str]) -> tuple[int, int]:
        judged = [i for i in ids if i in AGREEMENT]
        return sum(AGREEMENT[i] for i in judged), len(judged)

    everything, locks = count(ALL_IDS), count([c.id for c in CASES])
    reqs, envs = count([c.id for c in REQ_CASES]), count([c.id for c in ENV_CASES])
    projects = {c.case for c in (*CASES, *REQ_CASES, *ENV_CASES) if c.id in AGREEMENT}
    return (f"real projects: {everything[0]} of {everything[1]} cases ({len(projects)} projects) read exactly as "
            f"their installer (or its parser) reads them: lockfiles {locks[0]} of {locks[1]} by their installer, "
            f"requirements files {reqs[0]} of {reqs[1]} by pip {reqtruth.pip_version()}'s parser, "
            f"conda environment and explicit files {envs[0]} of {envs[1]} by conda's own parsers "
            f"(conda-lock {reqtruth.CONDA_LOCK_VERSION})")
