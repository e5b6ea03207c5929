"""`mlgov diff`: every kind of change between two releases, from SBOMs mlgov wrote for two
real lock revisions (made by uv: tests/data/promotion/make_revisions.py), from folders
scanned on the fly, and from other tools' SBOMs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli
from tests.entry import invoke
from governance.diff.compare import Side, compare, parse_fail_on

DATA = Path(__file__).resolve().parent / "data"
REVISIONS = DATA / "promotion"
TARGET = ["--target-platform", "linux-x86_64", "--target-python", "3.11"]


def sbom(tmp_path: Path, folder: Path, name: str, *extra: str) -> Path:
    out = tmp_path / name
    code, output = invoke(["sbom", str(folder), "-o", str(out), "--reproducible", *TARGET, *extra])
    assert code == 0, output
    return out


@pytest.fixture
def revisions(tmp_path: Path) -> tuple[Path, Path]:
    return sbom(tmp_path, REVISIONS / "rev-a", "a.cdx.json"), sbom(tmp_path, REVISIONS / "rev-b", "b.cdx.json")


def diff_json(*args: str) -> tuple[int, dict]:
    code, output = invoke(["diff", *args, "--format", "json"])
    assert code in (0, 1), output
    return code, json.loads(output)


def changes(report: dict, kind: str) -> list[dict]:
    return [c for c in report["changes"] if c["kind"] == kind]


def test_two_real_lock_revisions_list_every_change(revisions: tuple[Path, Path]) -> None:
    code, report = diff_json(str(revisions[0]), str(revisions[1]), "--fail-on", "none")
    assert code == 0 and report["verdict"] == "pass"
    assert [(c["subject"], c["old"], c["new"]) for c in changes(report, "downgraded")] == [
        ("numpy", "2.1.3", "2.0.2")]
    assert [(c["subject"], c["old"], c["new"]) for c in changes(report, "upgraded")] == [("idna", "3.7", "3.10")]
    assert [(c["subject"], c["new"]) for c in changes(report, "added")] == [("packaging", "24.2")]
    assert [(c["subject"], c["old"]) for c in changes(report, "removed")] == [("six", "1.16.0")]
    # The same version rebuilt and served from another index: uv recorded other hashes.
    hashed = changes(report, "hash-changed")
    assert [c["subject"] for c in hashed] == ["mlgov-demo-weights"]
    assert hashed[0]["old"].startswith("1.0.0 SHA-256:be4c2e33") and hashed[0]["new"].startswith("1.0.0 SHA-256:a180bd41")
    moved = changes(report, "source-changed")
    assert [c["subject"] for c in moved] == ["mlgov-demo-weights"]
    assert "/a/simple/" in moved[0]["old"] and "/b/simple/" in moved[0]["new"]
    # Nothing else changed: no invented entries.
    assert report["summary"]["blocking"] == 0
    assert sum(v for k, v in report["summary"].items() if k != "blocking") == 6


def test_the_default_gate_fails_a_downgrade_and_a_hash_change(revisions: tuple[Path, Path]) -> None:
    code, report = diff_json(str(revisions[0]), str(revisions[1]))
    assert code == 1 and report["verdict"] == "fail"
    assert sorted(c["kind"] for c in report["changes"] if c["blocking"]) == ["downgraded", "hash-changed"]


@pytest.mark.parametrize("fail_on, expected", [
    ("downgrade", 1), ("hash-change", 0), ("upgrade,added", 1), ("removed", 1), ("source-change", 1),
    ("gpu-change", 0), ("new-finding", 0)])
def test_fail_on_picks_the_kinds_that_block(revisions: tuple[Path, Path], fail_on: str, expected: int) -> None:
    if fail_on == "hash-change":
        expected = 1
    code, _ = diff_json(str(revisions[0]), str(revisions[1]), "--fail-on", fail_on)
    assert code == expected


def test_identical_releases_pass_and_say_so(revisions: tuple[Path, Path]) -> None:
    code, output = invoke(["diff", str(revisions[0]), str(revisions[0]), "--fail-on", "any"])
    assert code == 0
    assert output.splitlines()[-1].startswith("PASS no changes")


def test_folders_are_scanned_on_the_fly_and_agree_with_their_sboms(revisions: tuple[Path, Path]) -> None:
    _, from_sboms = diff_json(str(revisions[0]), str(revisions[1]), "--fail-on", "none")
    _, from_folders = diff_json(str(REVISIONS / "rev-a"), str(REVISIONS / "rev-b"), "--fail-on", "none")
    key = (lambda r: sorted((c["kind"], c["subject"]) for c in r["changes"]))
    assert key(from_folders) == key(from_sboms)


def test_xml_and_json_sboms_compare_alike(tmp_path: Path, revisions: tuple[Path, Path]) -> None:
    old_xml = sbom(tmp_path, REVISIONS / "rev-a", "a.cdx.xml")
    _, report = diff_json(str(old_xml), str(revisions[1]), "--fail-on", "none")
    assert [c["subject"] for c in changes(report, "downgraded")] == ["numpy"]
    assert [c["subject"] for c in changes(report, "hash-changed")] == ["mlgov-demo-weights"]


def test_framework_build_change_at_the_same_release(tmp_path: Path) -> None:
    for name, build in (("old", "cu124"), ("new", "cu128")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "requirements.txt").write_text(f"torch==2.7.1+{build}\nnumpy==2.1.3\n")
    old = sbom(tmp_path, tmp_path / "old", "old.cdx.json")
    new = sbom(tmp_path, tmp_path / "new", "new.cdx.json")
    code, report = diff_json(str(old), str(new), "--fail-on", "build-change")
    assert code == 1
    built = changes(report, "build-changed")
    assert [(c["subject"], c["old"], c["new"]) for c in built] == [("torch", "2.7.1+cu124", "2.7.1+cu128")]
    assert "cu124 -> cu128" in built[0]["detail"]
    assert not changes(report, "upgraded") and not changes(report, "downgraded")


def test_gpu_stack_change_between_host_profiles(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("numpy==2.1.3\n")
    newer = tmp_path / "driver580.json"
    newer.write_text(json.dumps({"format": "mlgov-host-profile", "version": 1, "host": "fleet-r470",
                                 "nvidia": {"driver_version": "580.95.05"}}))
    paths = []
    for name, host in (("old", DATA / "hosts" / "driver470.json"), ("new", newer)):
        out = tmp_path / f"{name}.cdx.json"
        result = CliRunner().invoke(cli, ["scan", str(project), "--host", str(host), "--sbom", str(out),
                                          "--quiet"])
        assert out.is_file(), result.output
        paths.append(out)
    code, report = diff_json(str(paths[0]), str(paths[1]), "--fail-on", "gpu-change")
    assert code == 1
    assert [(c["subject"], c["old"], c["new"]) for c in changes(report, "gpu-changed")] == [
        ("host fleet-r470: NVIDIA driver", "470.82.01", "580.95.05")]


def _third_party(components: list[dict], vulnerabilities: list[dict] | None = None) -> dict:
    document = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}
    if vulnerabilities is not None:
        document["vulnerabilities"] = vulnerabilities
    return document


def test_models_and_container_images_from_any_tools_sbom() -> None:
    old = _third_party([
        {"type": "machine-learning-model", "bom-ref": "m", "name": "models/resnet.safetensors",
         "hashes": [{"alg": "SHA-256", "content": "aa" * 32}]},
        {"type": "container", "bom-ref": "i", "name": "nvcr.io/nvidia/pytorch", "version": "24.05-py3",
         "purl": "pkg:docker/nvidia/pytorch@24.05-py3?repository_url=nvcr.io"},
    ])
    new = _third_party([
        {"type": "machine-learning-model", "bom-ref": "m", "name": "models/resnet.safetensors",
         "hashes": [{"alg": "SHA-256", "content": "bb" * 32}]},
        {"type": "container", "bom-ref": "i", "name": "nvcr.io/nvidia/pytorch", "version": "24.10-py3",
         "purl": "pkg:docker/nvidia/pytorch@24.10-py3?repository_url=nvcr.io"},
        {"type": "machine-learning-model", "bom-ref": "n", "name": "models/extra.onnx"},
    ])
    result = compare(Side("old", old), Side("new", new))
    kinds = sorted((c.kind, c.subject) for c in result.changes)
    assert kinds == [("image-changed", "nvcr.io/nvidia/pytorch"), ("model-changed", "models/extra.onnx"),
                     ("model-changed", "models/resnet.safetensors")]
    image = next(c for c in result.changes if c.kind == "image-changed")
    assert "24.05-py3 -> 24.10-py3" in image.detail
    assert result.failing(("model-change",)) and not result.failing(("downgrade",))


def test_findings_introduced_and_fixed_from_sbom_vulnerabilities() -> None:
    component = {"type": "library", "bom-ref": "pkg:pypi/pillow@9.0.0", "name": "pillow", "version": "9.0.0",
                 "purl": "pkg:pypi/pillow@9.0.0"}
    upgraded = dict(component, **{"bom-ref": "pkg:pypi/pillow@9.1.0", "version": "9.1.0",
                                  "purl": "pkg:pypi/pillow@9.1.0"})
    old = _third_party([component], [
        {"id": "PYSEC-1", "affects": [{"ref": "pkg:pypi/pillow@9.0.0"}]},
        {"id": "PYSEC-2", "affects": [{"ref": "pkg:pypi/pillow@9.0.0"}]}])
    new = _third_party([upgraded], [
        {"id": "PYSEC-2", "affects": [{"ref": "pkg:pypi/pillow@9.1.0"}]},
        {"id": "PYSEC-3", "affects": [{"ref": "pkg:pypi/pillow@9.1.0"}]}])
    result = compare(Side("old", old), Side("new", new))
    assert [c.subject for c in result.changes if c.kind == "finding-introduced"] == ["PYSEC-3 in pillow"]
    assert [c.subject for c in result.changes if c.kind == "finding-fixed"] == ["PYSEC-1 in pillow"]
    assert result.compared_findings


def test_without_findings_on_both_sides_the_diff_says_they_were_not_compared(revisions: tuple[Path, Path]) -> None:
    _, report = diff_json(str(revisions[0]), str(revisions[1]), "--fail-on", "new-finding")
    assert report["findings_compared"] is False
    assert any("findings not compared" in n for n in report["notes"])


def test_findings_from_json_reports_of_two_real_scans(tmp_path: Path) -> None:
    """A policy that denies packages: six (removed in B) is fixed, packaging (added in B) is new."""
    policy = tmp_path / "team.toml"
    policy.write_text('schema = 1\nname = "team"\nextends = ["baseline"]\n\n[packages]\ndeny = ["six", "packaging"]\n')
    reports = []
    for rev in ("rev-a", "rev-b"):
        out = tmp_path / f"{rev}.json"
        result = CliRunner().invoke(cli, ["scan", str(REVISIONS / rev), "--policy", str(policy), *TARGET,
                                          "--report", str(out), "--quiet"])
        assert out.is_file(), result.output
        reports.append(out)
    code, report = diff_json(str(REVISIONS / "rev-a"), str(REVISIONS / "rev-b"), "--old-report", str(reports[0]),
                             "--new-report", str(reports[1]), "--fail-on", "new-finding")
    assert code == 1 and report["findings_compared"] is True
    introduced = [c["subject"] for c in changes(report, "finding-introduced")]
    fixed = [c["subject"] for c in changes(report, "finding-fixed")]
    assert len(introduced) == 1 and "packaging" in introduced[0]
    assert len(fixed) == 1 and "six" in fixed[0]


def test_the_policy_stage_sets_the_gate(revisions: tuple[Path, Path], tmp_path: Path) -> None:
    code, report = diff_json(str(revisions[0]), str(revisions[1]), "--policy", "production")
    assert code == 1
    assert report["fail_on"] == ["downgrade", "hash-change", "new-finding", "gpu-change", "source-change"]
    lenient = tmp_path / "lenient.toml"
    lenient.write_text('schema = 1\nname = "l"\n\n[promotion]\nfail_on = ["removed"]\n')
    code, report = diff_json(str(revisions[0]), str(revisions[1]), "--policy", str(lenient))
    assert code == 1 and [c["kind"] for c in report["changes"] if c["blocking"]] == ["removed"]
    typo = tmp_path / "typo.toml"
    typo.write_text('schema = 1\nname = "t"\n\n[promotion]\nfail_on = ["downgrades"]\n')
    code, output = invoke(["diff", str(revisions[0]), str(revisions[1]), "--policy", str(typo)])
    assert code == 2 and "typo.toml:5" in output and "did you mean 'downgrade'" in output


def test_every_report_format_renders_and_names_the_changes(revisions: tuple[Path, Path], tmp_path: Path) -> None:
    outs = [tmp_path / "d.md", tmp_path / "d.json", tmp_path / "d.html", tmp_path / "d.txt"]
    args = ["diff", str(revisions[0]), str(revisions[1])]
    for out in outs:
        args += ["--report", str(out)]
    code, _ = invoke(args)
    assert code == 1
    for out in outs:
        text = out.read_text()
        assert "numpy" in text and "mlgov-demo-weights" in text, out
    assert json.loads(outs[1].read_text())["format"] == "mlgov-diff"
    assert "Content-Security-Policy" in outs[2].read_text()


def test_bad_usage_writes_nothing(revisions: tuple[Path, Path], tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    code, output = invoke(["diff", str(revisions[0]), str(revisions[1]), "--report", str(good),
                           "--report", str(tmp_path / "bad.pdf")])
    assert code == 2 and "bad.pdf" in output and not good.exists()
    code, output = invoke(["diff", str(revisions[0]), str(revisions[1]), "--fail-on", "downgrades"])
    assert code == 2 and "unknown change kind 'downgrades'" in output
    code, output = invoke(["diff", str(tmp_path / "missing.json"), str(revisions[1])])
    assert code == 2 and "missing.json" in output
    not_sbom = tmp_path / "x.json"
    not_sbom.write_text('{"hello": 1}')
    code, output = invoke(["diff", str(not_sbom), str(revisions[1])])
    assert code == 2 and "not a CycloneDX document" in output


def test_hostile_names_stay_inert_in_terminal_and_markdown() -> None:
    evil = "evil\n::error file=x::forged\x1b[31m"
    old = _third_party([{"type": "library", "bom-ref": "a", "name": evil, "version": "1.0"}])
    new = _third_party([{"type": "library", "bom-ref": "a", "name": evil, "version": "0.9"},
                        {"type": "library", "bom-ref": "b", "name": "<img src=x onerror=alert(1)> @team",
                         "version": "1"}])
    from governance.diff.render import render_html, render_markdown, render_terminal

    result = compare(Side("old", old), Side("new", new))
    blocking = result.failing(("downgrade",))
    terminal = render_terminal(result, blocking, ("downgrade",))
    assert "\x1b" not in terminal and not any(line.startswith("::") for line in terminal.splitlines())
    markdown = render_markdown(result, blocking, ("downgrade",))
    assert "<img" not in markdown and "@team" not in markdown and "\n::error" not in markdown
    assert "<img" not in render_html(result, blocking, ("downgrade",))


def test_parse_fail_on() -> None:
    assert parse_fail_on("downgrade, hash-change,downgrade") == ("downgrade", "hash-change")
    assert parse_fail_on("none") == ()
    with pytest.raises(ValueError):
        parse_fail_on("downgrades")


@pytest.mark.parametrize("document", [
    '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {"a": 1}}',
    '{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": [1]}',
    '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": ["x"], "version": {"a": 1}}]}',
    '{"bomFormat": "CycloneDX", "specVersion": "1.6", "vulnerabilities": [{"affects": "x"}]}',
    '[' * 5000 + ']' * 5000,
])
def test_sboms_of_unexpected_shape_exit_2_naming_the_file(tmp_path: Path, revisions: tuple[Path, Path],
                                                          document: str) -> None:
    odd = tmp_path / "odd.cdx.json"
    odd.write_text(document)
    for args in ([str(odd), str(revisions[1])], [str(revisions[0]), str(odd)]):
        code, output = invoke(["diff", *args])
        assert code in (0, 1, 2), output
        assert "Traceback" not in output and "internal error" not in output
        if code == 2:
            assert "odd.cdx.json" in output


def test_hashes_only_added_at_the_same_version_are_not_a_republish() -> None:
    """A relock after a package uploaded wheels for a new Python adds hashes; none of the old vanished."""
    old_hashes = [{"alg": "SHA-256", "content": f"{i:02x}" * 32} for i in range(10)]
    new_hashes = old_hashes + [{"alg": "SHA-256", "content": "ee" * 32}]
    component = {"type": "library", "bom-ref": "n", "name": "numpy", "version": "1.23.4",
                 "purl": "pkg:pypi/numpy@1.23.4"}
    old = _third_party([dict(component, hashes=old_hashes)])
    new = _third_party([dict(component, hashes=new_hashes)])
    result = compare(Side("old", old), Side("new", new))
    assert [c.kind for c in result.changes] == ["distributions-changed"]
    assert not result.failing(("hash-change",))
    dropped = compare(Side("old", new), Side("new", old))
    assert [c.kind for c in dropped.changes] == ["distributions-changed"]
    swapped = _third_party([dict(component, hashes=old_hashes[1:] + [{"alg": "SHA-256", "content": "ff" * 32}])])
    assert [c.kind for c in compare(Side("old", old), Side("new", swapped)).changes] == ["hash-changed"]


def test_a_base_image_moving_to_another_tag_and_a_digest_is_one_change(tmp_path: Path) -> None:
    """Pinning a digest turns the purl from pkg:docker into pkg:oci: still the same image in the same stage."""
    for name, ref in (("old", "nvidia/cuda:12.4.1-runtime-ubuntu22.04"),
                      ("new", "nvidia/cuda:12.8.0-runtime-ubuntu22.04@sha256:" + "ab" * 32)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "requirements.txt").write_text("numpy==2.1.3\n")
        (tmp_path / name / "Dockerfile").write_text(f"FROM {ref} AS base\nRUN true\n")
    code, report = diff_json(str(tmp_path / "old"), str(tmp_path / "new"), "--fail-on", "image-change")
    assert code == 1
    assert [(c["kind"], c["subject"]) for c in report["changes"]] == [("image-changed", "docker.io/nvidia/cuda")]
    detail = report["changes"][0]["detail"]
    assert "tag 12.4.1-runtime-ubuntu22.04 -> 12.8.0-runtime-ubuntu22.04" in detail and "digest (none) ->" in detail


def test_controls_and_bidi_marks_of_compared_names_are_shown_in_html_and_json(tmp_path: Path,
                                                                             revisions: tuple[Path, Path]) -> None:
    # The HTML page carried ESC, BEL and U+202E of a component name as they were; the JSON carried U+202E.
    old, _ = revisions
    document = json.loads(old.read_text())
    document["components"][0]["version"] = "9.9evil\x1b]0;x\x07\u202e"
    hostile = tmp_path / "hostile.cdx.json"
    hostile.write_text(json.dumps(document))
    for fmt in ("html", "json"):
        out = tmp_path / f"diff.{fmt}"
        code, output = invoke(["diff", str(old), str(hostile), "--report", str(out)])
        assert code in (0, 1), output
        text = out.read_text()
        assert "evil" in text and not any(c in text for c in "\x1b\x07\u202e"), fmt
