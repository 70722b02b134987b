"""Real server processes for the benchmarks and the multi-instance tests: gunicorn serving
`app:create_app()` on a free loopback port, configured only through its environment as in production,
and a small HTTP client (the standard library's, so nothing here pools or retries behind our back)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 30  # importing the app (reportlab, pyHanko, fonts) takes a few seconds on a busy machine


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer to look at (and its cookie)
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http_request(method: str, url: str, headers: Mapping[str, str] | None = None, json_body: Any = None,
                 timeout: float = 10.0, form: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one request; an HTTP error status or a redirect is an answer, not an
    exception nor followed."""
    headers = dict(headers or {})
    data = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _opener.open(request, timeout=timeout) as response:  # nosec B310 - loopback test servers
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def http_get(url: str, headers: Mapping[str, str] | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    status, _, body = http_request("GET", url, headers, timeout=timeout)
    return status, body


@contextmanager
def gunicorn(env: Mapping[str, str], workdir: Path, workers: int = 2, name: str = "gunicorn",
             application: str = "app:create_app()") -> Iterator[str]:
    """A gunicorn (sync workers) serving `application` (the app's factory unless told) on a free loopback
    port, in its own process group, with `env` on top of this process's environment; yields its base URL
    once /healthz answers, and stops the whole group on the way out, whatever happened. Its log is
    workdir/<name>.log."""
    port = free_port()
    log = workdir / f"{name}.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync",
               "--bind", f"127.0.0.1:{port}", "--chdir", str(PROJECT_ROOT), "--error-logfile", str(log),
               "--log-level", "warning", "--no-control-socket", application]
    with open(log, "ab") as log_file:
        process = subprocess.Popen(command, env={**os.environ, **env}, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
                                   stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if http_get(base + "/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer /healthz within {START_SECONDS} s:\n"
                                   f"{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield base
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process started with start_new_session=True and everything it started (gunicorn's workers)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def log_errors(log: Path) -> list[str]:
    """The log lines of a server that say something went wrong (a traceback, an unhandled error)."""
    if not log.exists():
        return []
    return [line for line in log.read_text(errors="replace").splitlines()
            if "Traceback" in line or "ERROR" in line or "Exception" in line]
