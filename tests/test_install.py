"""A real (non-editable) install works: the wheel holds every package and file Hearth needs.

The test suite itself runs on an editable install, which imports from the work tree and so can
hide a package or file that pyproject.toml forgets to ship (``server.peers`` was once left out:
``hearth probe`` then failed everywhere but here). This builds the wheel from a copy of what the
package is made of, installs it into a fresh virtual environment, and runs ``hearth serve``,
``hearth rooms create`` and ``hearth probe`` from it, outside the work tree.

Dependencies come from the test environment (a path entry to its site-packages, not a site
directory, so its editable hook for Hearth is not loaded): building the real environment from
the package index is what scripts/test and the Dockerfile already do. Every wait is bounded and
all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import stop_process

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_PARTS = ("pyproject.toml", "server", "rooms", "web", "static")

pytestmark = pytest.mark.slow

# aioice leaves loopback out of its host candidates; the probe runs with 127.0.0.1 only (as the
# peer tests do) so that its media never leaves loopback.
PROBE = (
    "import sys, aioice.ice\n"
    "aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ['127.0.0.1']\n"
    "from server.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtual environment with the built wheel installed; yields its ``bin``."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    source.mkdir()
    for part in PACKAGE_PARTS:
        origin = ROOT / part
        if origin.is_dir():
            shutil.copytree(origin, source / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, source / part)
    wheels = work / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--disable-pip-version-check", "-w", str(wheels), str(source)],
        check=True, timeout=180,
    )  # fmt: skip
    (wheel,) = wheels.glob("hearth-*.whl")
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(env_dir), "platbase": str(env_dir)}))
    (purelib / "test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
         "--target", str(purelib), str(wheel)],
        check=True, timeout=180,
    )  # fmt: skip
    bin_dir = env_dir / "bin"
    # ``--target`` writes no console scripts: make ``hearth`` as an installer would.
    script = bin_dir / "hearth"
    script.write_text(f"#!{bin_dir / 'python'}\nimport sys\nfrom server.cli import main\nsys.exit(main())\n")
    script.chmod(0o755)
    yield bin_dir


def test_the_wheel_holds_every_file_of_the_packages(installed: Path) -> None:
    """Every file git tracks under the package folders ships (docs aside): a new module, template
    or script that pyproject's package data misses fails here, not on a real install."""
    (wheel,) = (installed.parent.parent / "wheels").glob("hearth-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", *PACKAGE_PARTS[1:]], capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked
    assert [path for path in tracked if path not in shipped and not path.endswith(".md")] == []


def _run(bin_dir: Path, *args: str, cwd: Path, env: dict[str, str], timeout: float = 60) -> str:
    done = subprocess.run(
        [str(bin_dir / "hearth"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "PYTHON"))}
    env.update(HEARTH_DATA_DIR=str(data_dir), HEARTH_PORT=str(port), HEARTH_HOST="127.0.0.1")
    return env


def test_the_installed_package_is_not_the_work_tree(installed: Path, tmp_path: Path) -> None:
    code = "import server, server.peers, rooms.backends, web, static; print(server.peers.__file__)"
    done = subprocess.run(
        [str(installed / "python"), "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env=_environment(tmp_path, 0),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    location = Path(done.stdout.strip())
    assert ROOT not in location.parents, location
    assert installed.parent in location.parents, location


def test_installed_hearth_serves_pages_and_a_probe_passes(installed: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = _environment(tmp_path / "data", port)
    for command in ("serve", "rooms", "token", "probe", "bots"):
        assert "usage: hearth" in _run(installed, command, "--help", cwd=tmp_path, env=env)
    printed = _run(installed, "rooms", "create", "Installed check", "--no-lobby", cwd=tmp_path, env=env)
    links = [word for word in printed.split() if "/r/" in word]
    facilitator = next(link for link in links if link.startswith("http"))
    server = subprocess.Popen(
        [str(installed / "hearth"), "serve"], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the installed server did not start"
            time.sleep(0.1)
        room_page = facilitator.split("#", 1)[0]
        with urllib.request.urlopen(room_page, timeout=5) as answer:
            page = answer.read().decode()
        assert answer.status == 200 and "<html" in page.lower()
        with urllib.request.urlopen(base + "/static/js/protocol.js", timeout=5) as answer:
            assert answer.status == 200
        probe = subprocess.run(
            [str(installed / "python"), "-c", PROBE, "probe", facilitator, "--timeout", "25"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        assert probe.returncode == 0, probe.stdout + probe.stderr
        assert "media flowed both ways" in probe.stdout
    finally:
        stop_process(server, 10)


def test_scripts_test_installs_apart_from_the_readme_environment() -> None:
    """The README's first command installs Hearth into one environment and may be serving from it;
    scripts/test installs the project editable, which would swap the package under that server.
    So scripts/test has an environment of its own, kept out of git, of the image and of the
    linters like the first one."""
    readme = (ROOT / "README.md").read_text()
    first = re.search(r"python3 -m venv (\S+) && \. \S+/bin/activate && pip install \.", readme)
    assert first, "the README's first command"
    script = (ROOT / "scripts" / "test").read_text()
    own = re.search(r"^venv=(\S+)$", script, re.MULTILINE)
    assert own, "scripts/test names its environment (venv=...)"
    tests_env = own[1]
    assert tests_env != first[1]
    installs = [
        line for line in script.splitlines() if "pip install" in line and not line.lstrip().startswith("#")
    ]
    assert installs and all(line.lstrip().startswith('"$venv"/bin/python') for line in installs), installs
    assert f"{tests_env}/" in (ROOT / ".gitignore").read_text().split()
    assert tests_env in (ROOT / ".dockerignore").read_text().split()
    assert f'"{tests_env}"' in (ROOT / "pyproject.toml").read_text()
