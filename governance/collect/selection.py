"""Which dependency groups and extras of a project are installed.

Every installer has defaults (uv: its `default-groups`, `dev` unless told
otherwise; poetry: every non-optional group; pdm: every dev group; pipenv:
`default` only) and flags that change them. `--group`, `--extra`,
`--all-groups`, `--no-dev` and `--no-default-groups` on `scan` and `sbom` carry the user's choice;
each lockfile reader applies it with its own installer's meaning, so that the
SBOM lists what that installer would install.
"""

from __future__ import annotations

from governance.frozen import frozen



@frozen
class Selection:
    """The dependency groups and extras the installer is asked for."""
    groups: tuple[str, ...] = ()  # added to the installer's default groups (uv --group, poetry --with)
    extras: tuple[str, ...] = ()  # the project's extras (uv --extra, poetry -E, pdm -G)
    all_groups: bool = False  # every group, optional ones included
    no_dev: bool = False  # uv: leave the `dev` group out; poetry/pdm/pipenv: the main dependencies alone
    # uv --no-default-groups: none of the installer's default groups, only those named with --group
    # (how a project whose default is `cuda12` is scanned as its `cpu` variant)
    no_default_groups: bool = False

    def groups_from(self, defaults: list[str], every: list[str]) -> list[str]:
        """The groups installed, given the installer's defaults and every group the project has.

        uv's meaning: defaults plus --group, --all-groups for every one, --no-dev drops `dev`.
        """
        defaults = [] if self.no_default_groups else defaults
        chosen = list(every) if self.all_groups else list(defaults) + [g for g in self.groups if g not in defaults]
        if self.no_dev:
            chosen = [g for g in chosen if g != "dev"]
        return chosen

    @property
    def label(self) -> str:
        """How the choice is shown in notes ("" for the installer's defaults)."""
        parts = [f"--group {g}" for g in self.groups] + [f"--extra {e}" for e in self.extras]
        parts += ["--all-groups"] if self.all_groups else []
        parts += ["--no-dev"] if self.no_dev else []
        parts += ["--no-default-groups"] if self.no_default_groups else []
        return " ".join(parts)


DEFAULT = Selection()
