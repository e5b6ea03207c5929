"""mlgov reads real ML projects' lockfiles exactly as their installer would.

One test per case of ../shared/real-projects that has a lockfile: the set of
(name, version, source) mlgov reads for linux-x86_64 and the project's CPython
equals what the installer itself says (uv export, poetry export, pdm export,
pipenv requirements, conda-lock render; see tests/locktruth.py). For uv, the
hashes of every package are those of the entry the target installs.

The installer is run live when installed (.ci/run puts them in .tools/) and its
answer must then equal the recording in tests/data/lock-truth/; without it the
recording made by scripts/record_lock_truth.py is the truth. The end of the
run says how many cases agree.
"""

from __future__ import annotations

import tomllib

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from tests import locktruth
from tests.locktruth import CASES, Case

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


def test_every_case_agrees() -> None:
    """The suite's figure: how many real projects mlgov reads as their installer does."""
    missing = [c.id for c in CASES if c.id not in AGREEMENT]
    for case in CASES:
        if case.id in missing:
            AGREEMENT[case.id] = locktruth.mlgov(case) == locktruth.truth(case, case.recording.read_text())
    agreeing = sum(AGREEMENT.values())
    print(f"\nreal projects: {agreeing} of {len(CASES)} cases agree with their installer")
    assert agreeing == len(CASES), sorted(k for k, ok in AGREEMENT.items() if not ok)
