"""Record what uv, poetry, pdm, pipenv and conda-lock say the real projects install
(and what conda-lock's own parser reads from their conda environment files).

Run after upgrading a tool or refreshing ../shared/real-projects:

    python -m venv .tools && .tools/bin/pip install -r scripts/lock-tools.txt
    .venv/bin/python scripts/record_lock_truth.py [CASE_ID ...]

Writes tests/data/lock-truth/<case>.<ext>: the tool's own output with its
header comments dropped (they name a temporary path). The tests compare mlgov
with these recordings and, where the tools are installed, check that each
recording is still the tool's answer.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.locktruth import CASES, RECORDED, Unavailable, run_tool, stable, tool_path  # noqa: E402
from tests.reqtruth import ENV_CASES, conda_lock_python, run_conda_lock  # noqa: E402


def main(wanted: list[str]) -> int:
    RECORDED.mkdir(parents=True, exist_ok=True)
    failed = 0
    for case in CASES:
        if wanted and case.id not in wanted:
            continue
        if tool_path(case.tool) is None:
            print(f"{case.id}: {case.tool} is not installed", file=sys.stderr)
            failed += 1
            continue
        try:
            text = stable(run_tool(case))
        except (RuntimeError, Unavailable) as exc:
            print(f"{case.id}: {exc}", file=sys.stderr)
            failed += 1
            continue
        case.recording.write_text(text)
        print(f"{case.id}: {case.recording.relative_to(RECORDED.parent.parent.parent)} ({len(text.splitlines())} lines)")
    # conda environment files: conda-lock's own parser of them (tests/reqtruth.py)
    for env in ENV_CASES:
        if wanted and env.id not in wanted:
            continue
        if conda_lock_python() is None:
            print(f"{env.id}: conda-lock is not installed", file=sys.stderr)
            failed += 1
            continue
        try:
            text = run_conda_lock(env)
        except RuntimeError as exc:
            print(f"{env.id}: {exc}", file=sys.stderr)
            failed += 1
            continue
        env.recording.write_text(text)
        print(f"{env.id}: {env.recording.relative_to(RECORDED.parent.parent.parent)} ({len(text.splitlines())} lines)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
