"""Where relative data folders (`prompts`, `web_widget`) resolve: the working
directory's copy, then the one installed with the package, then the source checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot import config
from chatbot.config import checkout_path


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    roots = {name: tmp_path / name for name in ("cwd", "bundled", "checkout")}
    for root in roots.values():
        root.mkdir()
    monkeypatch.chdir(roots["cwd"])
    monkeypatch.setattr(config, "BUNDLED_DATA_DIR", roots["bundled"])
    monkeypatch.setattr(config, "CHECKOUT_DIR", roots["checkout"])
    return roots


def _make(root: Path, folder: str) -> Path:
    (root / folder).mkdir(parents=True)
    return root / folder


def test_the_working_directory_copy_overrides_the_installed_one(places: dict[str, Path]) -> None:
    for root in places.values():
        _make(root, "prompts")
    assert checkout_path(Path("prompts")).resolve() == (places["cwd"] / "prompts").resolve()


def test_an_installed_package_uses_its_bundled_copy(places: dict[str, Path]) -> None:
    bundled = _make(places["bundled"], "web_widget")
    _make(places["checkout"], "web_widget")
    assert checkout_path(Path("web_widget")) == bundled


def test_a_source_checkout_uses_its_top_level_folder(places: dict[str, Path]) -> None:
    checkout = _make(places["checkout"], "prompts")
    assert checkout_path(Path("prompts")) == checkout


def test_only_the_bundled_folders_are_looked_up_in_the_package(places: dict[str, Path]) -> None:
    _make(places["bundled"], "city_prompts")
    assert checkout_path(Path("city_prompts")) == Path("city_prompts")


@pytest.mark.usefixtures("places")
def test_a_path_found_nowhere_is_returned_as_set_for_the_error_message() -> None:
    assert checkout_path(Path("prompts")) == Path("prompts")
    assert checkout_path(Path("/srv/city/prompts")) == Path("/srv/city/prompts")
