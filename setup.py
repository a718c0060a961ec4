"""Packaging hook: copy the top-level `prompts/` and `web_widget/` into the wheel.

Everything else is configured in pyproject.toml. These two folders stay at the top of
the repository (editors and front-end people work there), but an installed package
must carry them: they become `chatbot/_bundled/<folder>/` in the wheel, which
`chatbot.config.checkout_path` falls back to outside a source checkout. MANIFEST.in
puts the folders into the sdist, so a wheel built from the sdist (what plain
`python -m build` does) has them too.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED_DIRS = ("prompts", "web_widget")
# Pictures for the README, not read at run time.
SKIPPED_DIRS = {"screenshots", "__pycache__", "node_modules"}


def _bundled_files(folder: str) -> list[str]:
    files: list[str] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        files.extend(str(Path(root, name).relative_to(folder))
                     for name in sorted(names) if not name.startswith("."))
    if not files:
        raise FileNotFoundError(f"{folder}/ is missing or empty: the package cannot run without it")
    return files


class BuildPyWithBundledData(build_py):
    # build_py's data files, as (package, source dir, build dir, file names): what it
    # copies into the wheel.
    def _get_data_files(self) -> list[tuple[str, str, str, list[str]]]:
        data_files: list[tuple[str, str, str, list[str]]] = super()._get_data_files()
        for folder in BUNDLED_DIRS:
            target = os.path.join(self.build_lib, "chatbot", "_bundled", folder)
            data_files.append(("chatbot", folder, target, _bundled_files(folder)))
        return data_files


setup(cmdclass={"build_py": BuildPyWithBundledData})
