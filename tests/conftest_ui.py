"""A real app server for the UI tests: `python app.py` on a free localhost port.

Imported by test_app.py and test_browser.py (not a pytest conftest: tests/conftest.py belongs
to the core tests). One server is shared by every UI test in the run, so the ~10 s model load
happens once.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STAFF_PASSWORD = "staff-test-pw"
ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class AppServer:
    url: str
    data_dir: Path
    log_path: Path
    proc: subprocess.Popen[bytes]

    @property
    def db_path(self) -> Path:
        return self.data_dir / "feedback.sqlite3"

    def log_tail(self, n: int = 4000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-n:]


_server: AppServer | None = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(timeout_s: float = 180.0) -> AppServer:
    workdir = Path(tempfile.mkdtemp(prefix="ui-test-"))
    data_dir = workdir / "data"
    log_path = workdir / "app.log"
    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_PATHS__DATA_DIR": str(data_dir),
        "ASSISTANT_UI__STAFF_PASSWORD": STAFF_PASSWORD,
        # The UI tests ask hundreds of questions a minute from few sessions; the per-client
        # limit is tested on its own (tests/test_security.py).
        "ASSISTANT_LIMITS__ASK_PER_MINUTE": "100000",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
    }
    log = open(log_path, "wb")  # noqa: SIM115 - the server writes here for its whole life
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    server = AppServer(f"http://127.0.0.1:{port}/", data_dir, log_path, proc)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + "config", timeout=2) as resp:
                if resp.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"app did not start within {timeout_s} s:\n{server.log_tail()}")


def stop_server(server: AppServer) -> None:
    """Stop the app and remove its data folder and log (KEEP_UI_TEST_DATA=1 keeps them)."""
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=15)
    if not os.environ.get("KEEP_UI_TEST_DATA"):
        shutil.rmtree(server.data_dir.parent, ignore_errors=True)


def _stop() -> None:
    if _server is not None:
        stop_server(_server)


@pytest.fixture(scope="session")
def app_server() -> AppServer:
    """The shared server (started on first use, stopped when the test run ends)."""
    global _server
    if _server is None or _server.proc.poll() is not None:
        _server = start_server()
        atexit.register(_stop)
    return _server
