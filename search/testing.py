"""Test helpers: run a throwaway Meilisearch server.

    from search.testing import start_meilisearch, meilisearch_binary
    url, key, stop = start_meilisearch(tmp_path)
    try: ...
    finally: stop()

The binary is taken from $MEILI_BIN, else `<repo>/.bin/meilisearch` (installed by
`make meilisearch` / scripts/get-meilisearch.sh).
"""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class MeilisearchNotInstalled(RuntimeError):
    """No Meilisearch binary: run `make meilisearch` or set MEILI_BIN."""


def meilisearch_binary() -> Path | None:
    """Path of the Meilisearch binary to use, or None when there is none."""
    candidate = Path(os.environ.get("MEILI_BIN") or REPO_ROOT / ".bin" / "meilisearch")
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_meilisearch(
    tmpdir: str | os.PathLike,
    *,
    binary: str | os.PathLike | None = None,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 30.0,
) -> tuple[str, str, Callable[[], None]]:
    """Start Meilisearch on a free local port with a random master key and its database in
    `tmpdir`; wait until it is healthy. Returns (url, master_key, stop); call stop() to end it.

    Raises MeilisearchNotInstalled when no binary is available.
    """
    path = Path(binary) if binary else meilisearch_binary()
    if path is None:
        raise MeilisearchNotInstalled("Meilisearch binary not found: run `make meilisearch` or set MEILI_BIN")
    workdir = Path(tmpdir)
    workdir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(24)  # hex: a url-safe key may start with "-" and be read as a command-line flag
    last_error: Exception | None = None
    for _ in range(3):  # another process may grab the port between free_port() and bind
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = workdir / f"meilisearch-{port}.log"
        log_file = open(log_path, "wb")  # noqa: SIM115 (must outlive this function: closed by stop())
        process = subprocess.Popen(
            [str(path), "--db-path", str(workdir / f"data-{port}.ms"), "--http-addr", f"127.0.0.1:{port}",
             f"--master-key={key}", "--env", "development", "--no-analytics",
             "--dump-dir", str(workdir / "dumps"), "--snapshot-dir", str(workdir / "snapshots"),
             "--log-level", "WARN", *extra_args],
            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=workdir,  # anything Meilisearch writes relative to its working directory stays in the temp dir
        )

        def stop(process: subprocess.Popen = process, log_file=log_file) -> None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log_file.close()

        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                    if response.status == 200:
                        return url, key, stop
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                last_error = exc
            time.sleep(0.05)
        stop()
        tail = log_path.read_text(errors="replace")[-2000:]
        last_error = RuntimeError(f"Meilisearch did not start on {url}: {last_error}\n{tail}")
    raise last_error  # type: ignore[misc]
