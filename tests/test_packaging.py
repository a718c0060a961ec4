"""The package as a city installs it: `python -m build`, a wheel in a fresh venv, and
`chatbot ingest` / `chatbot serve` from a directory that has nothing of the repository.

Slow (about a minute: a build, an index of a few articles with the real model, a server
start), and part of `make test`. The fresh venv gets only the wheel; the heavy
dependencies (torch, sentence-transformers, ...) come from the project's own venv
through a .pth file, so nothing is downloaded or reinstalled.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import CORPUS_DIR, REPO

pytestmark = [pytest.mark.slow, pytest.mark.packaging]

# Copied out of the repository as the installed service's corpus: two departments, the
# German and English versions (all seven would triple the time spent embedding).
ARTICLES = {"buergerservice": ("reisepass-beantragen", "wohnsitz-anmelden"),
            "standesamt": ("geburt-beurkunden",)}
LANGUAGES = ("de", "en")
BUNDLED_FOLDERS = ("prompts", "web_widget")
NOT_SHIPPED = ("web_widget/screenshots/",)  # the README's pictures
SERVER_START_SECONDS = 300  # the model load alone takes 10-60 s on a busy 2-core machine


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m build` as users run it (the sdist, then the wheel built from it), with
    the project venv's setuptools instead of a downloaded one."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.fail("the packaging test needs the git checkout (it checks `git status`)")
    status_before = _git("status", "--porcelain")
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir",
                            str(dist), str(REPO)], capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert _git("status", "--porcelain") == status_before, "the build left files in the tree"
    wheels = list(dist.glob("*.whl"))
    assert len(wheels) == 1, wheels
    assert list(dist.glob("*.tar.gz")), "no sdist"
    return wheels[0]


def test_wheel_ships_every_data_file_the_package_reads(wheel: Path) -> None:
    tracked = _git("ls-files", "chatbot", *BUNDLED_FOLDERS).splitlines()
    expected = set()
    for name in tracked:
        if name.endswith(".py") or name.startswith(NOT_SHIPPED):
            continue
        expected.add(f"chatbot/_bundled/{name}" if name.startswith(BUNDLED_FOLDERS) else name)
    assert any(name.startswith("chatbot/_bundled/prompts/de/") for name in expected)
    shipped = set(zipfile.ZipFile(wheel).namelist())
    assert expected - shipped == set(), "data files missing from the wheel"
    assert not [name for name in shipped if name.startswith(("tests/", "knowledge_corpus/"))]
    assert not [name for name in shipped if "screenshots" in name]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; returns its bin/ directory."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # Installed before the dependencies are visible, so pip does not see the project's
    # own (editable) citizen-chatbot and keep it.
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                          "--quiet", "--no-deps", "--no-index", "--no-cache-dir", str(wheel)],
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    # Plain path lines: the project venv's own .pth files (its editable install of this
    # checkout) are not processed, so `chatbot` can only come from the wheel.
    dependencies = dict.fromkeys([sysconfig.get_paths()["purelib"],
                                  sysconfig.get_paths()["platlib"]])
    Path(site_packages, "_project_dependencies.pth").write_text(
        "".join(f"{path}\n" for path in dependencies), encoding="utf-8")
    return venv / "bin"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory outside the repository with a small corpus of its own."""
    root = tmp_path_factory.mktemp("city")
    assert REPO not in root.resolve().parents
    for department, article_ids in ARTICLES.items():
        target = root / "corpus" / department
        target.mkdir(parents=True)
        for article_id in article_ids:
            for lang in LANGUAGES:
                path = CORPUS_DIR / department / f"{article_id}.{lang}.md"
                assert path.is_file(), f"{path} is no longer in knowledge_corpus/"
                shutil.copy(path, target / path.name)
    return root


def _environment(bin_dir: Path, city: Path) -> dict[str, str]:
    # Nothing of the test run's own configuration leaks in, except where the prepared
    # model is (the model cache is shared with `make install`).
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("CHATBOT_") and key not in {"PYTHONPATH", "PYTHONHOME",
                                                            "VIRTUAL_ENV"}}
    if "CHATBOT_MODEL_CACHE_DIR" in os.environ:
        env["CHATBOT_MODEL_CACHE_DIR"] = os.environ["CHATBOT_MODEL_CACHE_DIR"]
    env.update({
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "CHATBOT_CORPUS_DIR": str(city / "corpus"),
        "CHATBOT_INDEX_DIR": str(city / "indexes"),
        "CHATBOT_DATABASE_URL": f"sqlite:///{city / 'chatbot.sqlite3'}",
        "CHATBOT_INDEX_POLL_SECONDS": "0",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    })
    return env


def test_installed_package_is_the_wheel_and_finds_its_bundled_data(
        installed: Path, city: Path) -> None:
    venv = installed.parent.resolve()
    probe = subprocess.run(
        [str(installed / "python"), "-c",
         "import chatbot, pathlib\n"
         "from chatbot.config import checkout_path\n"
         "print(chatbot.__file__)\n"
         "print(checkout_path(pathlib.Path('prompts')))\n"
         "print(checkout_path(pathlib.Path('web_widget')))\n"],
        cwd=city, env=_environment(installed, city), capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    module, prompts, widget = (Path(line).resolve() for line in probe.stdout.splitlines())
    print("installed chatbot:", module)
    for path in (module, prompts, widget):
        assert venv in path.parents, f"{path} is not inside the fresh venv {venv}"
    assert (prompts / "de" / "answer.md.j2").is_file()
    assert (widget / "widget.js").is_file()


@pytest.fixture(scope="module")
def server(installed: Path, city: Path) -> Iterator[str]:
    env = _environment(installed, city)
    chatbot = str(installed / "chatbot")
    started = time.monotonic()
    ingest = subprocess.run([chatbot, "ingest"], cwd=city, env=env, capture_output=True,
                            text=True, timeout=900)
    assert ingest.returncode == 0, ingest.stdout[-3000:] + ingest.stderr[-3000:]
    print(f"chatbot ingest: {time.monotonic() - started:.1f} s")
    assert (city / "indexes" / "CURRENT").exists()

    port = _free_port()
    log_path = city / "serve.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen([chatbot, "serve", "--host", "127.0.0.1", "--port",
                                    str(port)], cwd=city, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"chatbot serve exited with {process.returncode}:\n"
                            + log_path.read_text(encoding="utf-8")[-5000:])
            try:
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"not ready after {SERVER_START_SECONDS} s:\n"
                            + log_path.read_text(encoding="utf-8")[-5000:])
            time.sleep(1)
        print(f"chatbot serve ready after {time.monotonic() - started:.1f} s (incl. ingest)")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_installed_service_searches_the_outside_corpus(server: str) -> None:
    response = httpx.post(f"{server}/api/v1/search", timeout=60,
                          json={"query": "Wie beantrage ich einen Reisepass?", "top_k": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["language"]["code"] == "de"
    copied = {article for articles in ARTICLES.values() for article in articles}
    assert {hit["article_id"] for hit in body["hits"]} <= copied
    assert body["hits"][0]["article_id"] == "reisepass-beantragen"
    assert body["hits"][0]["lang"] == "de"


def test_installed_service_answers_from_the_outside_corpus(server: str) -> None:
    response = httpx.post(f"{server}/api/v1/chat", timeout=60, json={
        "message": "Ich brauche einen neuen Reisepass, wie beantrage ich den?"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "answer", body
    assert body["sources"][0]["article_id"] == "reisepass-beantragen"
    # The bundled German answer template's closing line around the article's link.
    assert "Quelle: [" in body["text"] or "Mehr dazu im vollständigen Artikel: [" in body["text"]


def test_installed_service_serves_the_bundled_widget_and_pages(server: str) -> None:
    widget = httpx.get(f"{server}/widget.js", timeout=30)
    assert widget.status_code == 200
    assert widget.headers["content-type"].startswith(("application/javascript",
                                                      "text/javascript"))
    german_strings = json.loads((REPO / "web_widget" / "i18n" / "de.json").read_text(
        encoding="utf-8"))
    a_german_string = next(iter(german_strings.values()))
    assert json.dumps(a_german_string, ensure_ascii=False)[1:-1] in widget.text
    demo = httpx.get(f"{server}/", timeout=30)  # jinja2 templates from chatbot/api/templates
    assert demo.status_code == 200
    assert "/widget.js" in demo.text
