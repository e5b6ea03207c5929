"""The `mlgov` command line: parse, call the pipeline, print, exit.

Exit codes (DESIGN.md): 0 pass, 1 the policy failed, 2 bad usage or input,
3 an internal error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn

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


def _report_formats(reports: tuple[Path, ...]) -> list[tuple[Path, str]]:
    """Each --report's format from its extension; an unknown one is bad usage, said before any work."""
    from governance.report import EXTENSIONS, format_for

    planned = []
    for path in reports:
        report_format = format_for(path.name)
        if report_format is None:
            raise InputError("cannot tell the report format from the extension "
                             f"(use {', '.join(sorted(EXTENSIONS))})", file=path)
        planned.append((path, report_format))
    return planned


def _check_outputs(sbom_path: Path | None, reports: list[tuple[Path, str]]) -> None:
    from governance.output import check_all

    named = ([(sbom_path, "SBOM")] if sbom_path is not None else []) + [(path, "report") for path, _ in reports]
    check_all(named)


def _emit_reports(evaluation: Any, fmt: str, reports: list[tuple[Path, str]], quiet: bool,
                  also: list[tuple[Path, str]] | None = None, colour: str | None = None,
                  show_waived: bool = False) -> None:
    """Write --report files (and `also`, e.g. the SBOM) all or nothing, then stdout's --format."""
    from governance.output import write_all
    from governance.report import renderer
    from governance.report.terminal import render as render_text

    outputs = list(also or [])
    for path, report_format in reports:
        if report_format == "terminal":  # a .txt report: the full summary, never coloured
            outputs.append((path, render_text(evaluation, show_waived=show_waived)))
        else:
            outputs.append((path, renderer(report_format)(evaluation)))
    write_all(outputs)
    if fmt == "terminal":
        shown = _colour(colour)
        click.echo(render_text(evaluation, colour=shown, quiet=quiet, show_waived=show_waived), nl=False,
                   color=shown)
    else:
        click.echo(renderer(fmt)(evaluation), nl=False)


def _vuln_options(command: Any) -> Any:
    """--vuln-db and --no-vuln-db, shared by scan and check."""
    command = click.option("--no-vuln-db", "no_vuln_db", is_flag=True,
                           help="Do not use the cached database of `mlgov db update` (a policy with fail_on then "
                                "reports that vulnerabilities were not checked, VULN002).")(command)
    return click.option("--vuln-db", "vuln_db", type=click.Path(path_type=Path),
                        help="Offline vulnerability database: OSV's PyPI all.zip or a folder of OSV JSON. "
                             "Default: the one `mlgov db update` keeps in the cache, when present.")(command)


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
    """--target-platform, --target-python and the groups/extras installed, shared by scan and sbom."""
    command = click.option("--no-dev", "no_dev", is_flag=True,
                           help="Leave development dependencies out (uv: the `dev` group; poetry, pdm, pipenv: "
                                "the main dependencies alone).")(command)
    command = click.option("--no-default-groups", "no_default_groups", is_flag=True,
                           help="None of the installer's default groups, only those named with --group (uv "
                                "--no-default-groups; poetry --only; pdm --prod -G): e.g. the `cpu` group of a "
                                "project whose default is `cuda12`.")(command)
    command = click.option("--all-groups", "all_groups", is_flag=True,
                           help="Install every dependency group, optional ones too (uv, poetry, pdm, pipenv "
                                "develop, pylock).")(command)
    command = click.option("--extra", "extras", multiple=True, metavar="NAME",
                           help="Install this extra of the project (uv --extra, poetry -E, pdm -G). "
                                "Repeatable.")(command)
    command = click.option("--group", "groups", multiple=True, metavar="NAME",
                           help="Also install this dependency group (uv --group, poetry --with; pipenv: "
                                "`dev` for develop). Repeatable.")(command)
    command = click.option("--lock", "locks", multiple=True, metavar="FILE",
                           help="Read this lockfile of DIR (a name at its top, e.g. pylock.cu130.toml), and no "
                                "other: named PEP 751 locks (pylock.NAME.toml) are alternative environments, one "
                                "judged per scan. Repeatable. Default: the unnamed lockfiles (uv.lock, "
                                "pylock.toml, ...); each named one not read is a COV003 finding.")(command)
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


def _host_option(default: str) -> Callable[[Any], Any]:
    """--host, the same for scan and check: a profile, a folder of profiles or a quoted glob."""
    return click.option("--host", "host_profiles", multiple=True, type=click.Path(path_type=Path),
                        help="Judge the GPU stack against this host profile (from `mlgov probe -o`), a folder of "
                             "profiles (*.json) or a quoted glob ('fleet/**/*.json'). Repeatable: a fleet, every "
                             "host must pass; hosts with the same stack are judged once. " + default)


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
        _host_option("Default: this machine when it has an NVIDIA driver."),
        _vuln_options,
        click.option("--vuln-service", "vuln_service", type=click.Choice(["osv", "pypi"]),
                     help="Also ask an online vulnerability service (through pip-audit, pip install "
                          "'mlgov[online]'; needs the network)."),
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
      mlgov scan . --lock pylock.cu130.toml     (one of several pylock.NAME.toml variants)
      mlgov scan . --report mlgov.html --report mlgov.sarif --report mlgov.junit.xml --quiet
      mlgov scan . --vuln-db PyPI-all.zip --policy production
      mlgov scan . --baseline main-report.json --report mlgov.md   (PR mode)
    """
    from governance.baseline import compare, read_baseline
    from governance.collect import ScanOptions
    from governance.collect.target import resolve
    from governance.hostprofile import read_profiles
    from governance.output import sbom_format
    from governance.pipeline import SbomRequest, scan as run_scan
    from governance.vulns import request_for

    p = _settings("scan", directory, config_file).values
    # Every output and option is checked before any work: bad usage writes nothing.
    planned = _report_formats(p["reports"])
    sbom_path: Path | None = p["sbom_path"]
    request = None
    if sbom_path is not None:
        request = SbomRequest(fmt=sbom_format(sbom_path), spec_version=p["spec_version"], reproducible=reproducible)
    _check_outputs(sbom_path, planned)
    # A bad baseline is exit 2 in a second, not after the scan.
    previous = read_baseline(baseline) if baseline is not None else None
    progress = _progress(_want_progress(verbose, quiet))
    vulns = request_for(p["vuln_db"], p["vuln_service"], p["no_vuln_db"], progress)
    markers, target = resolve(p["target_platform"], p["target_python"], p["python"], directory)
    from governance.collect.selection import Selection

    options = ScanOptions(project=directory, python=p["python"], hosts=read_profiles(p["host_profiles"]),
                          models=p["models"], probe_host=not p["host_profiles"], markers=markers, target=target,
                          selection=Selection(groups=p["groups"], extras=p["extras"], all_groups=p["all_groups"],
                                              no_dev=p["no_dev"], no_default_groups=p["no_default_groups"]),
                          locks=p["locks"])
    result = run_scan(options, p["policy"], p["stage"], request, progress=progress, now=_day(today), vulns=vulns)
    evaluation = _locate(result.evaluation, directory, p["source_root"])
    if previous is not None and baseline is not None:
        evaluation = compare(evaluation, previous, str(baseline))
    also = [(sbom_path, result.sbom)] if sbom_path is not None and result.sbom is not None else []
    _emit_reports(evaluation, fmt, planned, quiet, also, p["color"], p["show_waived"])
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
         target_python: str | None = None, vuln_db: Path | None = None, models: tuple[Path, ...] = (),
         groups: tuple[str, ...] = (), extras: tuple[str, ...] = (), all_groups: bool = False,
         no_dev: bool = False, locks: tuple[str, ...] = (), no_default_groups: bool = False) -> None:
    """Write a validated CycloneDX SBOM of a project (and its environment).

    The SBOM is validated against the official CycloneDX schema before it is
    written; an invalid or partial SBOM is never written.

    \b
    Examples:
      mlgov sbom sample_projects/pytorch-train -o sbom.cdx.json
      mlgov sbom . --python .venv --format xml -o sbom.cdx.xml
      mlgov sbom . --spec-version 1.5 --reproducible > sbom.json
      mlgov sbom . --target-platform linux-x86_64 --target-python 3.11 -o sbom.cdx.json
      mlgov sbom . --lock pylock.cu130.toml -o sbom-cu130.cdx.json   (one PEP 751 variant)
    """
    from governance.collect import ScanOptions, collect
    from governance.output import check_destination, sbom_format, write_atomic
    from governance.pipeline import SbomRequest, make_sbom

    if output is not None:
        fmt = sbom_format(output, fmt)
        check_destination(output, "SBOM")
    fmt = fmt or "json"
    progress = _progress(_want_progress(verbose))
    from governance.collect.selection import Selection
    from governance.collect.target import resolve

    markers, target = resolve(target_platform, target_python, python, directory)
    inventory = collect(ScanOptions(project=directory, python=python, markers=markers, target=target,
                                    models=models, selection=Selection(groups=groups, extras=extras,
                                                                       all_groups=all_groups, no_dev=no_dev,
                                                                       no_default_groups=no_default_groups),
                                    locks=locks),
                        progress)
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
@_host_option("Given, these replace the hosts the SBOM records. Default: the SBOM's own.")
@_vuln_options
@_terminal_options
@_baseline_option
@_today_option
def check(sbom_file: Path, config_file: Path | None, fmt: str, quiet: bool, baseline: Path | None = None,
          today: Any = None, **_: Any) -> None:
    """Judge an existing CycloneDX SBOM against a policy.

    An SBOM written by mlgov carries everything its rules need, so this gives the
    same findings as the scan that wrote it. --host judges it against today's host
    profiles instead of those it records. The framework builds of an SBOM another
    tool wrote are attributed as a scan would (knowledge base, nvidia-* beside them).
    Settings come from the configuration found from the current folder, as for `mlgov scan`.

    \b
    Examples:
      mlgov check sbom.cdx.json --policy production
      mlgov check sbom.cdx.json --host fleet/ --policy production
      mlgov check sbom.cdx.xml --policy policies/team.toml --format json
      mlgov check sbom.cdx.json --vuln-db osv-pypi.zip --today 2026-12-01
    """
    from governance.baseline import compare, read_baseline
    from governance.hostprofile import read_profiles
    from governance.pipeline import check_sbom
    from governance.vulns import request_for

    p = _settings("check", Path("."), config_file).values
    planned = _report_formats(p["reports"])
    _check_outputs(None, planned)
    previous = read_baseline(baseline) if baseline is not None else None
    hosts = read_profiles(p["host_profiles"]) if p["host_profiles"] else None
    vulns = request_for(p["vuln_db"], None, p["no_vuln_db"])
    evaluation = _locate(check_sbom(sbom_file, p["policy"], p["stage"], now=_day(today), vulns=vulns, hosts=hosts),
                         Path("."), None)
    if previous is not None and baseline is not None:
        evaluation = compare(evaluation, previous, str(baseline))
    _emit_reports(evaluation, fmt, planned, quiet, colour=p["color"], show_waived=p["show_waived"])
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
    from governance.escape import terminal

    # File names and what a file imports come from the scanned tree: shown, never obeyed,
    # and each line starts with mlgov's own word.
    for m in found:
        bad = disallowed(m.format, m.globals)
        verdict = "runs code" if bad or m.code else ("not judged" if m.unparsed else "ok")
        click.echo(f"model {terminal(m.path)}  {m.format}  {m.size} bytes  sha256:{m.sha256[:16]}  {verdict}")
        for reason in [f"imports {g}" for g in bad] + list(m.code) + list(m.unparsed):
            click.echo(f"    - {terminal(reason)}")


@cli.group()
def db() -> None:
    """The offline vulnerability database (OSV's PyPI all.zip).

    \b
    Examples:
      mlgov db update                         (into the user cache; scan and check then use it)
      mlgov db update --to ci/osv-pypi.zip    (then: mlgov scan . --vuln-db ci/osv-pypi.zip)
    """


@db.command("update")
@click.option("--to", "destination", type=click.Path(path_type=Path), default=None,
              help="Where to keep the zip (default: osv/PyPI-all.zip in the mlgov cache folder: $MLGOV_CACHE_DIR, "
                   "else $XDG_CACHE_HOME/mlgov, else ~/.cache/mlgov; scan and check use that one by default).")
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


@cli.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--old-report", type=click.Path(path_type=Path),
              help="The JSON report (`--report r.json`) of the old release: its findings are compared.")
@click.option("--new-report", type=click.Path(path_type=Path), help="The JSON report of the new release.")
@click.option("--fail-on", "fail_on", default=None, metavar="KINDS",
              help="Comma-separated change kinds that fail the promotion (exit 1): downgrade, hash-change, "
                   "new-finding, gpu-change, source-change, build-change, model-change, image-change, "
                   "added, removed, upgrade, fixed-finding, distribution-change, any, none. Default: the policy stage's "
                   "[promotion] fail_on with --policy, else downgrade,hash-change,new-finding.")
@click.option("--policy", default=None, help="Take --fail-on from this policy's stage ([promotion] fail_on).")
@click.option("--stage", default=None, help="The stage whose [promotion] gate applies (default: the policy's own).")
@click.option("--format", "fmt", type=click.Choice(["terminal", "md", "json", "html"]), default="terminal",
              show_default=True, help="What goes to standard output.")
@click.option("--report", "reports", multiple=True, type=click.Path(path_type=Path),
              help="Also write the diff here; the format comes from the extension (.md, .json, .html, .txt). "
                   "Repeatable.")
@click.option("--quiet", "-q", is_flag=True, help="Print the verdict line alone (terminal format).")
@click.option("--verbose", "-v", is_flag=True, help="Show progress on standard error.")
def diff_command(old: Path, new: Path, old_report: Path | None, new_report: Path | None, fail_on: str | None,
                 policy: str | None, stage: str | None, fmt: str, reports: tuple[Path, ...], quiet: bool,
                 verbose: bool) -> None:
    """Compare two releases: what a promotion would change. Exit 1 when a --fail-on kind occurs.

    OLD and NEW are each a CycloneDX SBOM (mlgov's or another tool's, JSON or
    XML) or a project folder, scanned now. Listed: packages added, removed,
    upgraded and downgraded; the same version with different hashes (a
    republished or substituted artefact); a changed index or source; framework
    builds (torch +cu124 -> +cu128); the hosts' GPU stacks; model files;
    container images; and findings introduced and fixed, from the SBOMs'
    vulnerabilities[] or from the JSON reports given with --old-report and
    --new-report.

    \b
    Examples:
      mlgov diff prod/sbom.cdx.json candidate/sbom.cdx.json
      mlgov diff prod/sbom.cdx.json . --fail-on downgrade,hash-change,gpu-change
      mlgov diff old.cdx.json new.cdx.json --old-report old.json --new-report new.json --fail-on new-finding
      mlgov diff prod.cdx.json new.cdx.json --policy production --report diff.md --report diff.html
    """
    from governance.diff.compare import DEFAULT_FAIL_ON, compare, parse_fail_on
    from governance.diff.render import RENDERERS, format_for
    from governance.diff.sides import load_side
    from governance.output import write_all

    # Everything the command line can get wrong is checked before any work is done.
    outputs_formats = []
    for path in reports:
        report_format = format_for(path.name)
        if report_format is None:
            raise InputError("cannot tell the diff report format from the extension (use .md, .json, .html "
                             "or .txt)", file=path)
        outputs_formats.append((path, report_format))
    if fail_on is not None:
        try:
            gates = parse_fail_on(fail_on)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--fail-on") from None
    elif policy is not None:
        from governance.policy.load import load_policy

        gates = tuple(load_policy(policy, stage).get("promotion", "fail_on", list(DEFAULT_FAIL_ON)))
    else:
        gates = DEFAULT_FAIL_ON
    progress = _progress(_want_progress(verbose))
    result = compare(load_side(old, old_report, progress), load_side(new, new_report, progress))
    blocking = result.failing(gates)
    write_all([(path, RENDERERS[report_format](result, blocking, gates)) for path, report_format in outputs_formats])
    if fmt == "terminal" and quiet:
        from governance.diff.render import render_terminal

        click.echo(render_terminal(result, blocking, gates).rstrip("\n").rsplit("\n", 1)[-1])
    else:
        click.echo(RENDERERS[fmt](result, blocking, gates), nl=False)
    sys.exit(EXIT_FAIL if blocking else EXIT_PASS)


@cli.command("publish")
@click.argument("sbom_file", type=click.Path(path_type=Path))
@click.option("--url", default=None, metavar="URL",
              help="The Dependency-Track API server (default: $MLGOV_DTRACK_URL). The API key is read from "
                   "$MLGOV_DTRACK_API_KEY only, never from an option.")
@click.option("--project", "project_name", required=True, help="Project name in the portfolio.")
@click.option("--project-version", required=True, help="Project version (the release: a tag or commit).")
@click.option("--parent", "parent", default=None, metavar="NAME@VERSION",
              help="Parent project, e.g. 'ml-platform@2026.12' (Dependency-Track 4.8+).")
@click.option("--tag", "tags", multiple=True, help="Project tag (repeatable; Dependency-Track 4.12+).")
@click.option("--auto-create", is_flag=True, help="Create the project (and version) when it does not exist.")
@click.option("--policy", default=None, help="Upload this policy's live waivers as VEX (analysis state and "
                                             "justification), so the portfolio shows them too.")
@click.option("--stage", default=None, help="The policy stage whose waivers apply.")
@click.option("--fail-on", "fail_on", default=",".join(("violation-fail",)), show_default=True, metavar="LIST",
              help="What in the portfolio's verdict fails this command (exit 1), comma-separated: "
                   "violation-fail, violation-warn, violation-info (a policy violation at that state or worse), "
                   "critical, high, medium, low, info, unassigned (a finding at that severity or worse), none.")
@click.option("--wait", "wait_s", type=click.FloatRange(min=0), default=300, show_default=True,
              help="Seconds to wait for the server to process the upload.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=30, show_default=True,
              help="Seconds per HTTP request (connection errors, 429 and 5xx are retried with backoff).")
@_today_option
@click.option("--verbose", "-v", is_flag=True, help="Show progress on standard error.")
def publish_command(sbom_file: Path, url: str | None, project_name: str, project_version: str,
                    parent: str | None, tags: tuple[str, ...], auto_create: bool, policy: str | None,
                    stage: str | None, fail_on: str, wait_s: float, timeout_s: float, today: Any = None,
                    verbose: bool = False) -> None:
    """Publish an SBOM to OWASP Dependency-Track and gate on the portfolio's verdict.

    Uploads the SBOM (PUT /api/v1/bom), waits for the server to process it,
    uploads the policy's waivers as CycloneDX VEX, then reads the project's
    policy violations and vulnerability findings (suppressed ones left out)
    and exits 1 when one matches --fail-on, else 0. A server that cannot be
    reached, refuses the key (401/403), has no such project (404) or refuses
    the size (413) exits 2 with what to do.

    \b
    Examples:
      export MLGOV_DTRACK_URL=https://dtrack.example.com MLGOV_DTRACK_API_KEY=...
      mlgov publish sbom.cdx.json --project fraud-model --project-version "$GIT_SHA" --auto-create
      mlgov publish sbom.cdx.json --project fraud-model --project-version 1.4.0 \\
          --parent ml-platform@2026.12 --tag team-risk --policy production --fail-on violation-warn,high
    """
    from governance.publish import publish, waived_inventory
    from governance.publish.dtrack import API_KEY_ENV, FAIL_ON, URL_ENV, Client, Project

    wanted = tuple(dict.fromkeys(v.strip() for v in fail_on.split(",") if v.strip()))
    unknown = [v for v in wanted if v not in FAIL_ON]
    if unknown:
        raise click.BadParameter(f"unknown value {unknown[0]!r} (known: {', '.join(FAIL_ON)})",
                                 param_hint="--fail-on")
    base = url or os.environ.get(URL_ENV)
    if not base:
        raise InputError(f"no Dependency-Track server: give --url or set {URL_ENV}")
    key = os.environ.get(API_KEY_ENV)
    if not key:
        raise InputError(f"no API key: set {API_KEY_ENV} (it is never taken from an option, so that it stays "
                         "out of shell history and CI logs)")
    parent_name = parent_version = None
    if parent is not None:
        parent_name, at, parent_version = parent.rpartition("@")
        if not at or not parent_name:
            raise click.BadParameter("expected NAME@VERSION, e.g. ml-platform@2026.12", param_hint="--parent")
    from governance.inputs import read_input
    from governance.sbom.read import MAX_SBOM_BYTES

    text = read_input(sbom_file, "SBOM", MAX_SBOM_BYTES)
    inventory = waived_inventory(sbom_file, policy, stage, (_day(today) or _now()).date())
    progress = _progress(_want_progress(verbose))
    client = Client(base_url=base, api_key=key, timeout=timeout_s, progress=progress)
    project = Project(name=project_name, version=project_version, parent_name=parent_name,
                      parent_version=parent_version, tags=tags, auto_create=auto_create)
    outcome = publish(client, sbom_file, text.encode("utf-8"), project, inventory, wait_s, progress)
    blocking = outcome.blocking(wanted)
    for item in outcome.violations:
        click.echo(f"mlgov: violation ({item.state}) {item.policy} [{item.kind}]: {_inert(item.component)}")
    for finding in outcome.findings:
        click.echo(f"mlgov: finding ({finding.severity}) {_inert(finding.vulnerability)}: "
                   f"{_inert(finding.component)}")
    verdict = "FAIL" if blocking else "PASS"
    click.echo(f"{verdict} published {sbom_file} as {_inert(project_name)} {_inert(project_version)} "
               f"(project {outcome.project_uuid}): {len(outcome.violations)} violation(s), "
               f"{len(outcome.findings)} finding(s), {outcome.waivers_sent} waiver(s) sent as VEX; "
               f"{len(blocking)} blocking ({', '.join(wanted) or 'nothing'})")
    sys.exit(EXIT_FAIL if blocking else EXIT_PASS)


def _inert(text: str) -> str:
    from governance.diff.render import inert

    return inert(text)


def _now() -> Any:
    from governance.pipeline import now_utc

    return now_utc()


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
