"""The `mlgov` command line: parse, call the pipeline, print, exit.

Exit codes (DESIGN.md): 0 pass, 1 the policy failed, 2 bad usage or input,
3 an internal error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from governance import __version__
from governance.platforms import PLATFORMS
from governance.errors import InputError, MlgovError
from governance.report import FORMATS

EXIT_PASS, EXIT_FAIL, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def _progress(enabled: bool) -> Any:
    def show(message: str) -> None:
        if enabled:
            from governance.escape import terminal

            click.echo(f"mlgov: {terminal(message)}", err=True)
    return show


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _want_progress(verbose: bool, quiet: bool = False) -> bool:
    # -q means the verdict alone, also on a terminal; -v asks for progress explicitly.
    return verbose or (not quiet and _stderr_is_terminal() and not os.environ.get("CI"))


def _colour(choice: str | None) -> bool:
    """--color, then NO_COLOR and FORCE_COLOR (no-color.org, force-color.org), then whether stdout is a terminal."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    return sys.stdout.isatty()


def _emit_reports(evaluation: Any, fmt: str, reports: tuple[Path, ...], quiet: bool,
                  colour: str | None = None, show_waived: bool = False) -> None:
    """Render --report files (format from each extension) and stdout's --format."""
    from governance.output import write_all
    from governance.report import EXTENSIONS, format_for, renderer

    outputs = []
    for path in reports:
        report_format = format_for(path.name)
        if report_format is None:
            raise InputError("cannot tell the report format from the extension "
                             f"(use {', '.join(sorted(EXTENSIONS))})", file=path)
        if report_format == "terminal":  # a .txt report: the full summary, never coloured
            from governance.report.terminal import render as render_text

            outputs.append((path, render_text(evaluation, show_waived=show_waived)))
        else:
            outputs.append((path, renderer(report_format)(evaluation)))
    write_all(outputs)
    if fmt == "terminal":
        from governance.report.terminal import render

        click.echo(render(evaluation, colour=_colour(colour), quiet=quiet, show_waived=show_waived), nl=False,
                   color=_colour(colour))
    else:
        click.echo(renderer(fmt)(evaluation), nl=False)


def _settings(command: str, start: Path, config_file: Path | None) -> Any:
    """This command's parameters with the project configuration merged under the command line."""
    from click.core import ParameterSource

    from governance import config

    ctx = click.get_current_context()
    given = {name for name in ctx.params
             if ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)}
    found = config.load(config_file) if config_file is not None else config.discover(start)
    return config.resolve(command, dict(ctx.params), given, found)


def _config_option(command: Any) -> Any:
    return click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
                        help="Settings file (mlgov.toml or a pyproject.toml with [tool.mlgov]); default: "
                             "found from the project folder up to the repository root.")(command)


def _terminal_options(command: Any) -> Any:
    """--color and --show-waived, shared by scan and check."""
    command = click.option("--show-waived", is_flag=True, default=False,
                           help="List every waived finding (default: one line per rule).")(command)
    return click.option("--color", "color", type=click.Choice(["auto", "always", "never"]), default="auto",
                        show_default=True,
                        help="Colour the terminal summary; auto honours NO_COLOR and FORCE_COLOR.")(command)


def _baseline_option(command: Any) -> Any:
    return click.option("--baseline", "baseline", type=click.Path(path_type=Path), default=None,
                        help="PR mode: the target branch's JSON report; only findings this change "
                             "introduces fail, fixed ones are listed.")(command)


def _locate(evaluation: Any, project: Path, source_root: Path | None) -> Any:
    """Record where the scanned folder sits in the repository, for SARIF locations."""
    from dataclasses import replace

    from governance.config import git_top

    folder = project.resolve()
    root = source_root.resolve() if source_root is not None else (git_top(folder) or folder)
    if not folder.is_relative_to(root):
        raise InputError(f"the scanned folder {folder} is not inside the source root", file=str(source_root))
    relative = folder.relative_to(root).as_posix()
    return replace(evaluation, source_root=str(root), project_path="" if relative == "." else relative)


def _target_options(command: Any) -> Any:
    """--target-platform and --target-python, shared by scan and sbom."""
    command = click.option("--target-python", default=None, metavar="X.Y",
                           help="Evaluate lockfile markers for this Python version, e.g. 3.11 "
                                "(default: as for --target-platform).")(command)
    return click.option("--target-platform", type=click.Choice(sorted(PLATFORMS)), default=None,
                        help="Evaluate lockfile markers for this platform "
                             "(default: the scanned interpreter's, else this host's).")(command)


def _models_option(command: Any) -> Any:
    """--models, shared by scan, sbom and `models lock`: model files outside the project folder."""
    return click.option("--models", "models", multiple=True, type=click.Path(path_type=Path),
                        help="Also look for model files here (a folder or a file, e.g. a Hugging Face cache). "
                             "Repeatable. Model files under DIR are always looked for.")(command)


def _today_option(command: Any) -> Any:
    """--today, shared by scan and check: the day waiver expiry is judged on."""
    return click.option("--today", "today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                        help="Judge waiver expiry as of this day (YYYY-MM-DD; default today, "
                             "or SOURCE_DATE_EPOCH's day).")(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="mlgov")
def cli() -> None:
    """ML supply-chain governance: SBOMs, policy gates and GPU-stack checks.

    \b
    The three jobs:
      CI gate      mlgov scan . --policy production --stage production --report mlgov.md
      SBOM         mlgov sbom . -o sbom.cdx.json      (then: mlgov check sbom.cdx.json)
      promotion    mlgov scan . --python .venv        (a readable summary of what to fix)

    Exit codes: 0 pass, 1 the policy failed, 2 bad usage or input, 3 internal error.
    """


def _scan_options(command: Any) -> Any:
    """The settings of a scan, shared by `scan` and `config show` (which prints them resolved)."""
    for decorate in reversed((
        click.argument("directory", default=".", type=click.Path(path_type=Path)),
        _config_option,
        click.option("--python", "python", type=click.Path(path_type=Path),
                     help="Installed environment to scan: a venv folder or an interpreter. Default: DIR/.venv if present."),
        click.option("--policy", default="baseline", show_default=True,
                     help="A shipped policy name (baseline, production, ...) or a policy TOML file."),
        click.option("--stage", default=None, help="Promotion stage whose gates apply (default: the policy's own)."),
        click.option("--sbom", "sbom_path", type=click.Path(path_type=Path),
                     help="Also write the validated CycloneDX SBOM here (.json or .xml)."),
        click.option("--spec-version", type=click.Choice(["1.5", "1.6", "1.7"]), default="1.6", show_default=True,
                     help="CycloneDX version of --sbom."),
        click.option("--report", "reports", multiple=True, type=click.Path(path_type=Path),
                     help="Write a report; the format comes from the extension: .html, .md, .sarif, "
                          ".junit.xml or .xml, .json, .txt. Repeatable."),
        _target_options,
        click.option("--host", "host_profiles", multiple=True, type=click.Path(path_type=Path),
                     help="Judge the GPU stack against this host profile (from `mlgov probe -o`), a folder of "
                          "profiles (*.json) or a quoted glob ('fleet/**/*.json'). Repeatable: a fleet, every host "
                          "must pass; hosts with the same stack are judged once. Default: this machine when it "
                          "has an NVIDIA driver."),
        click.option("--vuln-db", "vuln_db", type=click.Path(path_type=Path),
                     help="Offline vulnerability database: OSV's PyPI all.zip (see `mlgov db update`) "
                          "or a folder of OSV JSON."),
        click.option("--vuln-service", "vuln_service", type=click.Choice(["osv", "pypi"]),
                     help="Also ask an online vulnerability service (through pip-audit; needs the network)."),
        click.option("--source-root", "source_root", type=click.Path(path_type=Path), default=None,
                     help="The folder SARIF locations are relative to (default: the git top level of DIR)."),
        _models_option,
        _terminal_options,
    )):
        command = decorate(command)
    return command


@cli.command()
@_scan_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="terminal",
              show_default=True, help="What goes to standard output.")
@click.option("--quiet", "-q", is_flag=True, help="Print the verdict line alone (terminal format), no progress.")
@click.option("--reproducible", is_flag=True,
              help="Byte-identical SBOM for the same inputs (fixed time and serial; SOURCE_DATE_EPOCH also works).")
@click.option("--verbose", "-v", is_flag=True, help="Show progress on standard error.")
@_baseline_option
@_today_option
def scan(directory: Path, config_file: Path | None, fmt: str, quiet: bool, reproducible: bool, verbose: bool,
         baseline: Path | None = None, today: Any = None, **_: Any) -> None:
    """Scan a project, judge it against a policy, and exit 0 (pass) or 1 (fail).

    Reads DIR's requirements files and lockfiles and, with --python (or DIR/.venv),
    the installed environment, without importing or running anything from them.
    Defaults for every setting come from [tool.mlgov] in pyproject.toml or from
    mlgov.toml (see `mlgov config show`); the command line overrides them.

    \b
    Examples:
      mlgov scan sample_projects/pytorch-train --policy production
      mlgov scan . --policy production --stage production \\
          --sbom sbom.cdx.json --report mlgov.md --report mlgov.json
      mlgov scan . --python .venv --format json
      mlgov scan . --host fleet/a100-node.json --host fleet/h100-node.json
      mlgov scan . --host fleet/ --policy production     (every profile in the folder)
      mlgov scan . --target-platform linux-x86_64 --target-python 3.11
      mlgov scan . --report mlgov.html --report mlgov.sarif --report mlgov.junit.xml --quiet
      mlgov scan . --vuln-db PyPI-all.zip --policy production
      mlgov scan . --baseline main-report.json --report mlgov.md   (PR mode)
    """
    from governance.baseline import read_baseline, compare
    from governance.collect import ScanOptions
    from governance.collect.target import resolve
    from governance.hostprofile import read_profiles
    from governance.output import write_atomic
    from governance.pipeline import SbomRequest, scan as run_scan
    from governance.vulns import VulnRequest

    p = _settings("scan", directory, config_file).values
    sbom_path: Path | None = p["sbom_path"]
    request = None
    if sbom_path is not None:
        request = SbomRequest(fmt="xml" if sbom_path.suffix.lower() == ".xml" else "json",
                              spec_version=p["spec_version"], reproducible=reproducible)
    # Read before the work is done: a bad baseline is exit 2 in a second, not after the scan.
    previous = read_baseline(baseline) if baseline is not None else None
    markers, target = resolve(p["target_platform"], p["target_python"], p["python"], directory)
    options = ScanOptions(project=directory, python=p["python"], hosts=read_profiles(p["host_profiles"]),
                          models=p["models"], probe_host=not p["host_profiles"], markers=markers, target=target)
    result = run_scan(options, p["policy"], p["stage"], request,
                      progress=_progress(_want_progress(verbose, quiet)), now=_day(today),
                      vulns=VulnRequest(db=p["vuln_db"], service=p["vuln_service"]))
    evaluation = _locate(result.evaluation, directory, p["source_root"])
    if previous is not None and baseline is not None:
        evaluation = compare(evaluation, previous, str(baseline))
    if sbom_path is not None and result.sbom is not None:
        write_atomic(sbom_path, result.sbom)
    _emit_reports(evaluation, fmt, p["reports"], quiet, p["color"], p["show_waived"])
    sys.exit(EXIT_FAIL if evaluation.failed else EXIT_PASS)


@cli.group("config")
def config_group() -> None:
    """Project settings: [tool.mlgov] in pyproject.toml or mlgov.toml.

    \b
    Examples:
      mlgov config show
      mlgov config show services/train --policy production
      mlgov config show --format json
    """


@config_group.command("show")
@_scan_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def config_show(directory: Path, config_file: Path | None, fmt: str, **_: Any) -> None:
    """Print the effective scan settings for DIR and where each came from.

    Each setting comes from the command line (the same options as `mlgov scan`),
    else the configuration file (file:line), else the default. A configuration
    with an unknown key or a wrong type is exit 2 naming the file and line.
    """
    from governance.config import describe

    click.echo(describe(_settings("scan", directory, config_file), fmt), nl=False)


@cli.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write here (default: standard output).")
@click.option("--python", "python", type=click.Path(path_type=Path),
              help="Installed environment to include: a venv folder or an interpreter. Default: DIR/.venv if present.")
@click.option("--format", "fmt", type=click.Choice(["json", "xml"]), default=None,
              help="Default: from the output's extension, else json.")
@click.option("--spec-version", type=click.Choice(["1.5", "1.6", "1.7"]), default="1.6", show_default=True)
@click.option("--reproducible", is_flag=True, help="Byte-identical output for the same inputs.")
@_target_options
@click.option("--verbose", "-v", is_flag=True, help="Show progress on standard error.")
@click.option("--vuln-db", "vuln_db", type=click.Path(path_type=Path),
              help="Add the known vulnerabilities from an OSV all.zip or folder (CycloneDX vulnerabilities[]).")
@_models_option
def sbom(directory: Path, output: Path | None, python: Path | None, fmt: str | None, spec_version: str,
         reproducible: bool, verbose: bool, target_platform: str | None = None,
         target_python: str | None = None, vuln_db: Path | None = None, models: tuple[Path, ...] = ()) -> None:
    """Write a validated CycloneDX SBOM of a project (and its environment).

    The SBOM is validated against the official CycloneDX schema before it is
    written; an invalid or partial SBOM is never written.

    \b
    Examples:
      mlgov sbom sample_projects/pytorch-train -o sbom.cdx.json
      mlgov sbom . --python .venv --format xml -o sbom.cdx.xml
      mlgov sbom . --spec-version 1.5 --reproducible > sbom.json
      mlgov sbom . --target-platform linux-x86_64 --target-python 3.11 -o sbom.cdx.json
    """
    from governance.collect import ScanOptions, collect
    from governance.output import write_atomic
    from governance.pipeline import SbomRequest, make_sbom

    if fmt is None:
        fmt = "xml" if output is not None and output.suffix.lower() == ".xml" else "json"
    progress = _progress(_want_progress(verbose))
    from governance.collect.target import resolve

    markers, target = resolve(target_platform, target_python, python, directory)
    inventory = collect(ScanOptions(project=directory, python=python, markers=markers, target=target,
                                    models=models), progress)
    if vuln_db is not None:
        from governance.vulns import VulnRequest, attach

        inventory = attach(inventory, VulnRequest(db=vuln_db), progress)
    text = make_sbom(inventory, SbomRequest(fmt=fmt, spec_version=spec_version, reproducible=reproducible),
                     progress)
    if output is None:
        click.echo(text)
    else:
        write_atomic(output, text)
        progress(f"wrote {output} ({len(inventory.packages)} components)")


@cli.command()
@click.argument("sbom_file", type=click.Path(path_type=Path))
@_config_option
@click.option("--policy", default="baseline", show_default=True, help="A shipped policy name or a policy file.")
@click.option("--stage", default=None, help="Promotion stage whose gates apply.")
@click.option("--report", "reports", multiple=True, type=click.Path(path_type=Path),
              help="Write a report; the format comes from the extension: .html, .md, .sarif, .junit.xml or .xml, .json, .txt. Repeatable.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="terminal",
              show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="Print the verdict line alone.")
@_terminal_options
@_baseline_option
@_today_option
def check(sbom_file: Path, config_file: Path | None, fmt: str, quiet: bool, baseline: Path | None = None,
          today: Any = None, **_: Any) -> None:
    """Judge an existing CycloneDX SBOM against a policy.

    An SBOM written by mlgov carries everything its rules need, so this gives the
    same findings as the scan that wrote it. Settings come from the configuration
    found from the current folder, as for `mlgov scan`.

    \b
    Examples:
      mlgov check sbom.cdx.json --policy production
      mlgov check sbom.cdx.xml --policy policies/team.toml --format json
    """
    from governance.baseline import apply
    from governance.pipeline import check_sbom

    p = _settings("check", Path("."), config_file).values
    evaluation = check_sbom(sbom_file, p["policy"], p["stage"], now=_day(today))
    evaluation = apply(_locate(evaluation, Path("."), None), baseline)
    _emit_reports(evaluation, fmt, p["reports"], quiet, p["color"], p["show_waived"])
    sys.exit(EXIT_FAIL if evaluation.failed else EXIT_PASS)


@cli.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md"]), default="text", show_default=True,
              help="md is docs/rules.md exactly.")
def rules_command(fmt: str) -> None:
    """List every rule: id, family, default level and what it checks.

    \b
    Examples:
      mlgov rules
      mlgov rules --format json
      mlgov rules --format md > docs/rules.md
    """
    from governance.policy.catalogue import RULES
    from governance.policy.render import catalogue_text

    click.echo(catalogue_text(RULES, fmt), nl=False)


@cli.group("policy")
def policy_group() -> None:
    """Check a policy file, or print the effective policy after inheritance and stages.

    \b
    Examples:
      mlgov policy validate policies/team.toml
      mlgov policy show production --stage prototype
      mlgov policy show policies/team.toml --format json
    """


@policy_group.command("validate")
@click.argument("policy_file", nargs=-1, required=True)
def policy_validate(policy_file: tuple[str, ...]) -> None:
    """Validate policy files (and every base they extend); exit 2 naming file, line and key on error.

    \b
    Examples:
      mlgov policy validate policies/team.toml
      mlgov policy validate production prototype
    """
    from governance.policy.load import load_policy

    for name in policy_file:
        policy = load_policy(name)
        for stage in policy.stages:
            load_policy(name, stage)
        from governance.escape import terminal

        stages = terminal(", ".join(policy.stages)) or "none"
        click.echo(f"{terminal(name)}: valid (name {terminal(policy.name)}, default stage {terminal(policy.stage)}, "
                   f"stages: {stages}, "
                   f"{len(policy.waivers)} waivers, {len(policy.files)} files)")


@policy_group.command("show")
@click.argument("policy_file")
@click.option("--stage", default=None, help="Apply this stage (default: the policy's own).")
@click.option("--format", "fmt", type=click.Choice(["toml", "json"]), default="toml", show_default=True)
def policy_show(policy_file: str, stage: str | None, fmt: str) -> None:
    """Print the effective policy: bases merged, the stage applied, waivers gathered.

    The TOML output is itself a valid policy with the same settings.

    \b
    Examples:
      mlgov policy show production
      mlgov policy show policies/team.toml --stage production --format json
    """
    from governance.policy.load import load_policy
    from governance.policy.render import policy_text

    from governance.escape import json_text

    # TOML and JSON escape controls in strings; bidi and C1 characters are escaped too.
    click.echo(json_text(policy_text(load_policy(policy_file, stage).effective(), fmt)), nl=False)


@cli.command()
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write the host profile (JSON) here; without it, print a readable summary.")
@click.option("--python", "python", type=click.Path(path_type=Path),
              help="Environment whose nvidia-* wheels to include: a venv folder or an interpreter. "
                   "Default: DIR/.venv in the current folder if present, else mlgov's own interpreter.")
@click.option("--name", default=None, help="The host's name in the profile (default: this machine's hostname).")
def probe(output: Path | None, python: Path | None, name: str | None) -> None:
    """Read this machine's GPU stack: NVIDIA driver, GPUs, CUDA runtimes, cuDNN copies.

    Uses NVML (nvidia-ml-py) and the files and libraries of the CUDA toolkit and
    cuDNN. On a machine without a driver the profile says `"nvidia": null` and
    why; that is not an error (exit 0).

    \b
    Examples:
      mlgov probe                          # a readable summary
      mlgov probe -o fleet/h100-node.json  # a host profile for `mlgov scan --host`
      mlgov probe --python /opt/venv -o host.json
    """
    from governance.collect.host import probe as read_host, scanned_site_packages
    from governance.hostprofile import summary, write_profile

    if python is None and Path(".venv").is_dir():
        python = Path(".venv")
    stack = read_host(site_packages=scanned_site_packages(python, Path(".")), name=name)
    if output is None:
        click.echo(summary(stack), nl=False)
    else:
        write_profile(output, stack)


def _day(today: Any) -> Any:
    """--today as an aware UTC datetime (None: the pipeline's clock)."""
    from datetime import timezone

    return today.replace(tzinfo=timezone.utc) if today is not None else None


@cli.group("models")
def models_group() -> None:
    """Model files: list them, or record their hashes in a models manifest."""


@models_group.command("lock")
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write here (default: DIR/models.lock).")
@click.option("--verbose", "-v", is_flag=True, help="Show progress on standard error.")
@_models_option
def models_lock(directory: Path, output: Path | None, verbose: bool, models: tuple[Path, ...] = ()) -> None:
    """Record the SHA-256 of every model file in a models manifest (MODEL004 compares with it).

    \b
    Examples:
      mlgov models lock .                  (writes ./models.lock; name it in the policy:
                                            [models] manifest = "models.lock")
      mlgov models lock . --models ~/.cache/huggingface/hub -o models.lock
    """
    from governance.collect.models import find_models, manifest
    from governance.errors import InputError
    from governance.output import write_atomic

    if not directory.is_dir():
        raise InputError("no such project folder", file=directory)
    found = find_models(directory, models, _progress(_want_progress(verbose)))
    target = output or directory / "models.lock"
    write_atomic(target, manifest.dumps(found))
    click.echo(f"mlgov: recorded {len(found)} model file(s) in {target}", err=True)


@models_group.command("list")
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_models_option
def models_list(directory: Path, fmt: str, models: tuple[Path, ...] = ()) -> None:
    """List the model files found (by content) with format, SHA-256 and what loading them would do.

    \b
    Examples:
      mlgov models list .
      mlgov models list . --models ~/.cache/huggingface/hub --format json
    """
    import json
    from dataclasses import asdict

    from governance.collect.models import find_models
    from governance.collect.models.allowlist import disallowed
    from governance.errors import InputError

    if not directory.is_dir():
        raise InputError("no such project folder", file=directory)
    found = find_models(directory, models)
    if fmt == "json":
        click.echo(json.dumps([{**asdict(m), "card": dict(m.card),
                                "disallowed_globals": disallowed(m.format, m.globals)} for m in found], indent=2))
        return
    for m in found:
        bad = disallowed(m.format, m.globals)
        verdict = "runs code" if bad or m.code else ("not judged" if m.unparsed else "ok")
        click.echo(f"{m.path}  {m.format}  {m.size} bytes  sha256:{m.sha256[:16]}  {verdict}")
        for reason in [f"imports {g}" for g in bad] + list(m.code) + list(m.unparsed):
            click.echo(f"    {reason}")


@cli.group()
def db() -> None:
    """The offline vulnerability database (OSV's PyPI all.zip).

    \b
    Examples:
      mlgov db update                         (into the user cache; prints where)
      mlgov db update --to ci/osv-pypi.zip    (then: mlgov scan . --vuln-db ci/osv-pypi.zip)
    """


@db.command("update")
@click.option("--to", "destination", type=click.Path(path_type=Path), default=None,
              help="Where to keep the zip (default: the mlgov cache folder, MLGOV_CACHE_DIR or ~/.cache/mlgov).")
@click.option("--url", default=None, help="Download from a mirror instead of OSV's bucket.")
@click.option("--verbose", "-v", is_flag=True, help="Show progress on standard error.")
def db_update(destination: Path | None, url: str | None, verbose: bool) -> None:
    """Download OSV's PyPI advisories (all.zip) for offline scans.

    The download is checked (a zip whose advisories all parse) before it
    replaces the old file; without a network this fails in seconds (exit 2).

    \b
    Examples:
      mlgov db update --to /srv/mirror/osv-pypi.zip
      mlgov db update --url https://mirror.example/osv/PyPI/all.zip --to osv.zip
    """
    from governance.vulns.update import OSV_PYPI_URL, update

    result = update(destination, url=url or OSV_PYPI_URL, progress=_progress(_want_progress(verbose)))
    click.echo(f"{result.path}: {result.advisories} PyPI advisories, {result.size} bytes, sha256 {result.sha256}")


def _fail(message: str, code: int) -> NoReturn:
    # Messages quote file names and input text: one line, every control shown, so
    # nothing from a scanned file can start a line of the log (`::add-mask::`).
    from governance.escape import clip, terminal

    click.echo(f"mlgov: error: {clip(terminal(message), 2000)}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: maps errors to DESIGN.md's exit codes, never a traceback for bad input."""
    try:
        cli.main(args=argv, prog_name="mlgov", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", EXIT_INPUT)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_INPUT)
    except MlgovError as exc:
        _fail(str(exc), exc.exit_code)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract is exit 3, not a traceback
        if os.environ.get("MLGOV_DEBUG"):
            raise
        from governance.sbom.validate import SchemaViolation

        if isinstance(exc, SchemaViolation):
            _fail(f"the SBOM did not validate, nothing was written: {exc}", EXIT_INTERNAL)
        _fail(f"internal error: {type(exc).__name__}: {exc} (set MLGOV_DEBUG=1 for a traceback)",
              EXIT_INTERNAL)
    sys.exit(EXIT_PASS)
