"""Ships like a Python tool (issue 27, item 2): the wheel is a complete install of the app. It is built from a copy
of the checkout, installed into a fresh virtual environment with `--no-deps`, this environment's site directories
added after its own (the dependencies are the tested ones), and `augsbert app` started from an empty directory
serves the health check and the Start page to a real browser, from the installed files, not from the checkout."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from augsbert_core import serve

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SOURCE_SKIP = shutil.ignore_patterns(
    ".git", ".venv", "workspace", "build", "dist", "*.egg-info", "__pycache__", "experiments", "tests", "bench"
)


def test_the_wheel_bundles_the_files_the_app_command_looks_for():
    """setup.py cannot import the core (its build runs before the dependencies exist): its list is checked here."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    (found,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "APP_FILES" for t in node.targets)
    ]
    assert found == serve.APP_FILES
    manifest = (ROOT / "MANIFEST.in").read_text()
    for name in serve.APP_FILES:  # the source distribution carries them too
        assert name.split("/")[0] in manifest, name
    assert serve.app_root() == ROOT  # a checkout serves its own files


def test_the_lock_pins_what_the_tests_run_on():
    """requirements.txt (scripts/lock.py) matches this environment, and it locks exactly the extras test.sh installs:
    a range changed in pyproject.toml without a refreshed lock fails here, not on a user's machine."""
    done = subprocess.run(
        [sys.executable, "scripts/lock.py", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    test_sh = (ROOT / "scripts" / "test.sh").read_text()
    lines = [line for line in test_sh.splitlines() if "install.sh --extras" in line]
    (extras,) = [line.split("--extras ")[1].split()[0] for line in lines]
    lock_py = ast.parse((ROOT / "scripts" / "lock.py").read_text())
    (locked,) = [
        ast.literal_eval(node.value)
        for node in lock_py.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "LOCKED_EXTRAS" for t in node.targets)
    ]
    assert sorted(extras.split(",")) == sorted(locked)
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text().splitlines()


def test_scenario_1_says_what_to_install_without_the_augment_extra():
    """A core-only install: `check` of a scenario-1 config names the augment extra, exit 2, before any file."""
    script = (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'nlpaug' else real(name, *a)\n"
        "from augsbert_core.entry import main\n"
        f"sys.exit(main(['check', {str(ROOT / 'configs' / 'demo-stsb-augment.yaml')!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "needs the augment extra, missing here: nlpaug" in done.stderr
    assert 'pip install "augsbert-studio[augment]"' in done.stderr and "Traceback" not in done.stderr


def test_app_says_what_to_install_without_streamlit():
    """A core-only install: one line naming the extra, exit 2 (a process in which streamlit cannot be found)."""
    script = (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'streamlit' else real(name, *a)\n"
        "from augsbert_core.entry import main\n"
        "sys.exit(main(['app', '--port', '8599']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert 'pip install "augsbert-studio[app]"' in done.stderr and "Traceback" not in done.stderr


@pytest.mark.e2e
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not found: apt-get install -y chromium")
def test_the_installed_wheel_serves_the_app_from_an_empty_directory(tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api", reason="the 'playwright' package is not installed")
    from studio import server as app_server

    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=SOURCE_SKIP)
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels)]
    subprocess.run([*build, str(source)], check=True, timeout=300, capture_output=True)
    (wheel,) = wheels.glob("augsbert_studio-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # the dependencies are this environment's (the test suite's, maybe itself a venv): its site directories are
    # added after the new venv's own, so the wheel's augsbert_core and augsbert_app come first
    parents = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (purelib,) = (venv / "lib").glob("python3*/site-packages")
    (purelib / "zz_parent_env.pth").write_text(f"import site; list(map(site.addsitedir, {parents!r}))\n")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q"]
    subprocess.run([*pip, str(wheel)], check=True, timeout=300, capture_output=True)
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "from augsbert_core import serve; print(serve.app_root())"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert where.startswith(str(venv)) and where.endswith("augsbert_app"), where
    # every package of the checkout, sub-packages too (a fixed package list once left out cli/ and recipe/)
    packages = sorted(
        ".".join(p.parent.relative_to(ROOT).parts)
        for d in ("augsbert_core", "studio")
        for p in (ROOT / d).rglob("__init__.py")
    )
    script = (
        "import importlib\n"
        f"print(all(importlib.import_module(m).__file__.startswith({str(venv)!r}) for m in {packages!r}))"
    )
    found = subprocess.run([str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert found.stdout.strip() == "True", (packages, found.stderr[-2000:])
    empty = tmp_path / "empty"
    empty.mkdir()
    with open(tmp_path / "server.log", "wb") as log:
        proc, url = app_server.start(
            empty / "workspace",
            log,
            device_label="CPU (test)",
            launcher=[str(venv / "bin" / "augsbert"), "app", "--server.address", "127.0.0.1"],
            cwd=empty,
        )
        try:
            with playwright_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
                page = browser.new_page()
                page.goto(url)
                page.get_by_text("New here? Start with the demo").wait_for(timeout=60_000)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    served = (tmp_path / "server.log").read_text(errors="replace")
    assert f"serving {where}/app.py" in served
    assert (empty / "workspace").is_dir()  # AUGSBERT_HOME given by the test; ./workspace is the default


DEBIAN_PYTHON = Path("/usr/bin/python3")


def _externally_managed(python: Path) -> bool:
    if not python.exists():
        return False
    stdlib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"], capture_output=True, text=True
    ).stdout.strip()
    return (Path(stdlib) / "EXTERNALLY-MANAGED").is_file()


@pytest.mark.skipif(not _externally_managed(DEBIAN_PYTHON), reason="no externally managed /usr/bin/python3 here")
def test_the_install_entry_works_with_a_distribution_python(tmp_path):
    """Issue 27, item 1: Debian's own python3 refuses pip installs (PEP 668); the install entry, outside any virtual
    environment, creates the project's .venv from it, installs what start.sh installs (the core, app and augment) at
    the locked versions and ends with a working `augsbert --version` (~1-2 min: packages come from the index). The
    lock must install on Debian 12's Python 3.11.2 (soupsieve 4 needs 3.11.5: scripts/lock.py refuses such pins)."""
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, ignore=SOURCE_SKIP)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH")}
    env.update(PYTHON=str(DEBIAN_PYTHON), PATH="/usr/bin:/bin", HF_HUB_OFFLINE="1")
    done = subprocess.run(
        ["bash", "scripts/install.sh", "--extras", "app,augment"],  # what start.sh installs
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "not in a virtual environment: creating .venv" in done.stderr
    assert done.stdout.strip().splitlines()[-1] == "augsbert 0.1.0"
    venv_python = checkout / ".venv" / "bin" / "python"
    base = subprocess.run(
        [str(venv_python), "-c", "import sys; print(sys.base_prefix)"], capture_output=True, text=True, check=True
    )
    assert base.stdout.strip() == "/usr"  # Debian's Python, not the one running the tests
    version = subprocess.run(
        [str(checkout / ".venv" / "bin" / "augsbert"), "--version"], capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.strip() == "augsbert 0.1.0"
