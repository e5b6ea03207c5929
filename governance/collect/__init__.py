"""collect: read a project, its installed environment and its hosts into an Inventory.

Only reads. Nothing from the scanned project or environment is imported, built
or run (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import field, replace
from pathlib import Path
from typing import Callable

from governance.collect import environment as env_mod
from governance.collect.declared import Declaration, attach_to_lock, merge
from governance.collect.project import project_name
from governance.collect.selection import DEFAULT, Selection
from governance.collect.requirements import find_requirements_files, plan_compiled, read_requirements
from governance.errors import InputError
from governance.frozen import frozen
from governance.inputs import allow, budget, confined
from governance.inputs import relative as relative_name
from governance.model import ContainerImage, GpuStack, Inventory, Package, Project, Unread

Progress = Callable[[str], None]


@frozen
class ScanOptions:
    """What to scan and for which target: the command line's choices, as `collect` takes them."""
    project: Path
    python: Path | None = None  # a venv folder or an interpreter; None: DIR/.venv when present
    markers: dict[str, str] | None = None  # the target's marker values; None: the scanned interpreter's
    target: str | None = None  # a label for the chosen target, e.g. "linux-x86_64/py3.11"
    hosts: tuple[GpuStack, ...] = field(default=())
    include_environment: bool = True
    probe_host: bool = False  # with no hosts given, judge against this machine when NVML works
    selection: Selection = DEFAULT  # the dependency groups and extras the installer is asked for
    models: tuple[Path, ...] = ()  # --models: more folders (or files) of model files, e.g. a hub cache
    include_models: bool = True  # look for model files under the project folder
    # --lock: the lockfiles read (names at the top of the project); empty: the unnamed ones, and each
    # named PEP 751 alternative is said not judged (lockfiles.choice)
    locks: tuple[str, ...] = ()


def _not_installed_here(declarations: list[Declaration], packages: tuple[Package, ...],
                        markers: dict[str, str]) -> list[str]:
    """A manifest's requirement that the lock records, but does not install on this target, joins no
    package (declared.merge): said, so that a reader sees why it is not in the inventory.

    The lock decides what is installed; such a requirement has a platform selector mlgov cannot see
    (conda's `# [linux]` comments) or a lock resolved it away for this target. Nothing installed is
    passed unjudged, so this is a note rather than a finding.
    """
    pending = [d for d in declarations if d.attach and d.provenance.applies]
    if not pending:
        return []
    joined = {provenance for package in packages for provenance in package.provenance}
    left = [d for d in pending if d.provenance not in joined]
    if not left:
        return []
    from governance.collect.target import label

    shown = "; ".join(f"{d.name}{d.provenance.specifier} ({d.provenance.location})" for d in left[:10]) + \
        (f" and {len(left) - 10} more" if len(left) > 10 else "")
    return [f"not installed on {label(markers)} by the lock, which records them for other targets: {shown}"]


def _label(markers: dict[str, str]) -> str:
    from governance.collect.target import label

    return label(markers)


def _noop(_: str) -> None:
    return None


def collect(options: ScanOptions, progress: Progress = _noop) -> Inventory:
    # Every file read during a scan lies inside the project (or the environment
    # being scanned): an include, a lockfile or a dist-info file that leads
    # elsewhere through `..` or a link is refused, so nothing outside leaks; and
    # all of it together is read against one byte budget.
    with confined(options.project), budget():
        return _collect(options, progress)


def _collect(options: ScanOptions, progress: Progress) -> Inventory:
    root = options.project
    if not root.exists():
        raise InputError("no such project folder", file=root)
    if not root.is_dir():
        raise InputError("not a folder (give the project's folder)", file=root)
    name, version = project_name(root)

    python = options.python
    if python is None and options.include_environment and (root / ".venv").is_dir():
        python = root / ".venv"
    installed: list[Package] = []
    sources: list[str] = []
    markers = env_mod.host_markers()
    site_packages: tuple[Path, ...] = ()
    if python is not None:
        progress(f"reading the environment {python}")
        environment = env_mod.locate(python, root)
        allow(*environment.folders)
        markers = environment.markers
        installed = env_mod.read_environment(environment)
        site_packages = environment.site_packages
        sources.append(env_mod.ENVIRONMENT)
    if options.markers is not None:
        markers = options.markers

    declarations: list[Declaration] = []
    unread_lines: list[Unread] = []
    notes: list[str] = list(environment.notes) if python is not None else []
    # Files the project's pyproject.toml takes its dependencies from are its manifest: the pyproject
    # reader reads them (once), not the requirements reader.
    from governance.collect import lockfiles
    from governance.collect.lockfiles.pyproject import dynamic_files

    dynamic = dynamic_files(root)
    requirement_files = [f for f in find_requirements_files(root) if f.resolve() not in dynamic]
    # A compiled lock (pip-compile, `uv pip compile`) decides the versions of what its inputs ask for.
    plan = plan_compiled(requirement_files, root, markers)
    notes.extend(plan.notes)
    compiled_inputs = plan.inputs()
    # pyproject.toml and setup.cfg as inputs are read by their own readers (lockfiles.under_lock joins them).
    manifests = [p for p in compiled_inputs if p.name not in lockfiles.MANIFESTS and p.resolve() not in dynamic]
    plain = [f for f in requirement_files if f not in plan.left_out and f not in manifests]
    recorded: dict[str, set[str]] = {}  # every name each requirements file records, for any target
    if plain:
        progress(f"reading {len(plain)} requirements file(s)")
        found = read_requirements(plain, root, markers)
        declarations.extend(found.declarations)
        sources.extend(found.files)
        unread_lines.extend(found.unread)
        for declaration in found.declarations:
            recorded.setdefault(declaration.provenance.file, set()).add(declaration.key)
    compiled: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}
    for path, locks in compiled_inputs.items():
        files = tuple(relative_name(lock.path, root) for lock in locks)
        compiled[relative_name(path, root)] = (files, frozenset().union(*(recorded.get(f, set()) for f in files)))
    for path in manifests:
        files, names = compiled[relative_name(path, root)]
        found = read_requirements([path], root, markers)
        sources.extend(f for f in found.files if f not in sources)
        unread_lines.extend(found.unread)
        as_manifest = [replace(d, provenance=replace(d.provenance, kind="manifest"))
                       if d.provenance.group != "constraints" else d for d in found.declarations]
        declarations.extend(attach_to_lock(as_manifest, files, names, notes,
                                           f"re-compile {', '.join(files)} from {relative_name(path, root)}",
                                           stale=unread_lines))

    from governance.collect.lockfiles import choice

    chosen = choice.choose(lockfiles.find(root), root, options.locks)
    notes.extend(chosen.notes)
    unread_lines.extend(chosen.unread)
    results = []
    for lock in chosen.read:
        progress(f"reading {lock.name}")
        result = lockfiles.read(lock, root, markers, options.selection)
        results.append(result)
        sources.append(result.file)
        sources.extend(f for f in result.also_read if f not in sources)
        notes.extend(result.notes)
        unread_lines.extend(result.unread)
    for result in results:
        declarations.extend(lockfiles.under_lock(result, results, notes, compiled, stale=unread_lines))
    unread_lines.extend(lockfiles.not_for_target(results, markers))

    from governance.collect.container_files import find as find_container_files

    said: list[str] = []
    images: tuple[ContainerImage, ...] = ()
    found_containers = find_container_files(root, said, unread_lines)
    if found_containers:
        # Only a project with container files imports their readers.
        from governance.collect import containers

        container_files = containers.read_found(found_containers, root, said)
        images, said = container_files.images, list(container_files.notes)
        if container_files.files:
            progress(f"read {len(container_files.files)} container file(s): {len(images)} image(s)")
        sources.extend(container_files.files)
    notes.extend(said)

    from governance.collect import discover
    from governance.collect.models import find_models

    models = find_models(root, options.models, progress, search_project=options.include_models) \
        if options.include_models or options.models else ()
    # Fail closed on a folder with nothing to read: an empty SBOM and a PASS
    # would say "judged, all fine" about a project nobody looked at. Model
    # files are something to judge.
    from governance.collect.models import manifest

    # setup.py / setup.cfg are named whenever no package was declared or found
    # installed: a pyproject.toml holding only tool settings (accelerate,
    # transformers, jax keep their dependencies in setup.py) is read, yet says
    # nothing about what the project installs.
    unread = (*discover.unread(root, [*sources, *manifest.manifests_in(root)],
                               nothing_read=not declarations and not installed),
              *unread_lines)
    if not sources and not models:
        raise InputError(discover.nothing_to_scan(root, str(options.project), unread))
    # Files were read, but none declares a package (a pyproject.toml of tool
    # settings beside the setup.py that holds install_requires, an empty
    # requirements.txt): a verdict would be about a project nobody looked at.
    # A lockfile that installs nothing is a statement, and is judged.
    lock_results = [r for r in results if not r.file.endswith(lockfiles.MANIFESTS)]
    if not declarations and not installed and not models and not images and not lock_results:
        # What pyproject.toml's dynamic dependencies could not be read from is named too.
        raise InputError(discover.nothing_declared(root, sources, tuple(
            u for u in unread if u.line is None or any(u in result.unread for result in results))))

    packages = merge(installed, declarations)
    notes.extend(_not_installed_here(declarations, packages, markers))
    from governance.collect import frameworks
    from governance.collect.lockfiles import installable

    # Only what installs on the target becomes a component; framework builds
    # are then read for exactly those packages.
    packages, left_out = installable(packages)
    notes.extend(left_out)
    # Requirements were read, but every one is for another platform or Python (cleanrl's exports say
    # `python_version < "3.11"` on each line): a PASS for this target would judge nothing.
    if not packages and declarations and not installed and not models and not images and not lock_results:
        from governance.collect.target import label

        raise InputError(discover.nothing_for_target(root, sources, label(markers)))
    packages = frameworks.annotate(packages, site_packages, root, markers)
    hosts = options.hosts
    if not hosts and options.probe_host:
        from governance.collect.nvml_library import missing

        if missing() is None:  # no driver (most machines): nothing to probe, nothing more to import
            from governance.collect import host

            hosts = host.hosts_for_scan((), site_packages)
    return Inventory(
        project=Project(name=name, version=version),
        packages=packages, hosts=hosts, sources=tuple(sources), notes=tuple(notes),
        # An installed environment is its own target: its Python is what runs (EOL001 judges it), and an
        # SBOM of it says for which platform it was read.
        target=options.target or (_label(markers) if python is not None else None),
        unread=unread, images=images, models=models,
    )
