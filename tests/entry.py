"""The real `mlgov` entry point in-process: its exit-code mapping (exit 2 with file:line for bad
input), standard output and error captured together."""

from __future__ import annotations

from click.testing import CliRunner


def invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    from governance.cli import main

    runner = CliRunner(env=env or {})
    with runner.isolation() as (out, err, _):
        try:
            main(args)
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        return code, out.getvalue().decode() + err.getvalue().decode()
