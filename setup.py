"""Copy the top-level policies/ and templates/ into the wheel.

DESIGN.md keeps them at the top of the repository, where users read them, but
`pip install .` followed by `mlgov scan` must work outside the checkout, so the
build puts a copy under governance/_data/. An editable install reads the
top-level folders directly (see governance/resources.py).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).parent
        target = Path(self.build_lib) / "governance" / "_data"
        for folder in ("policies", "templates"):
            src = root / folder
            if src.is_dir():
                shutil.copytree(src, target / folder, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithData})
