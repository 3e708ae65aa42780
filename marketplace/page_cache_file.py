"""The page cache's store without Redis: one small SQLite file in ``INSTANCE_DIR`` shared by the workers of a machine.

Without it each gunicorn worker drew every page once for itself: with two workers an offer page missed twice per
time to live, and a crowd spread over thousands of offers missed often. Here a page one worker drew is served by
all of them. The file is a cache, never the truth: it is written without waiting for the disk (``synchronous=OFF``,
WAL so readers never wait for a writer), a page that cannot be stored at once (another worker holds the write
lock) is simply not stored, and any other error reaches ``PageCache``, which then serves pages fresh for a few
seconds. A file that is not a database any more is replaced. The generation stamp stays the small file
``page-cache.generation`` beside it (see ``page_cache``): renewing it makes every stored page unreachable at once,
and the rows of old generations go with the next pruning.
"""
from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME = "page-cache.sqlite"
ROW_LIMIT = 10_000  # pages and fragments kept in the file (those expiring first dropped beyond it)
PRUNE_EVERY = 500  # writes of this process between two prunings
BUSY_SECONDS = 0.05  # how long a write waits for another worker's; beyond it the page is not stored
# A rowid table: pages are tens of kilobytes, too large for a WITHOUT ROWID table's b-tree.
SCHEMA = "CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, expires REAL NOT NULL, value BLOB NOT NULL)"


class FileStore:
    """Pages shared by every process of the machine through ``path`` (SQLite), each with its expiry (wall clock,
    which every process and a restart agree on), under the generation stamp in ``stamp_path``."""

    retry_seconds = 5  # after an error, pages are served fresh for this long before the file is tried again

    def __init__(self, path: Path, stamp_path: Path, limit: int = ROW_LIMIT) -> None:
        self.path = Path(path)
        self.stamp_path = Path(stamp_path)
        self.limit = limit
        self.clock = time.time  # tests move time by hand
        self._local = threading.local()  # one connection per thread of each process, opened on first use
        self._writes = 0

    # --- connection ---------------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) == os.getpid():
            return local.connection
        # First use in this thread, or in a worker forked after the app was created: never share the parent's.
        try:
            connection = self._open()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise
            log.warning("page cache file %s is damaged (%s); starting a new one", self.path, exc)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            connection = self._open()
        local.connection, local.pid = connection, os.getpid()
        return connection

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(str(self.path), timeout=BUSY_SECONDS, isolation_level=None,
                                     check_same_thread=False)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self._with_patience(connection, "PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = OFF")  # a lost write only costs one page drawn again
            self._with_patience(connection, SCHEMA)
        except BaseException:
            connection.close()
            raise
        return connection

    @staticmethod
    def _with_patience(connection: sqlite3.Connection, statement: str) -> None:
        """Set-up statements wait longer than page writes: several workers open the file at the same moment."""
        connection.execute("PRAGMA busy_timeout = 2000")
        try:
            connection.execute(statement)
        finally:
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")

    # --- the store's interface (as MemoryStore and RedisStore) ---------------------------------------------

    def get(self, key: str) -> bytes | None:
        """The stored value, or None when absent or expired."""
        row = self._connection().execute("SELECT expires, value FROM pages WHERE key = ?", (key,)).fetchone()
        if row is None or row[0] <= self.clock():
            return None
        return bytes(row[1])

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Keep ``value`` for ``ttl`` seconds; skipped when another worker is writing (the page is drawn again)."""
        connection = self._connection()
        try:
            connection.execute("INSERT OR REPLACE INTO pages (key, expires, value) VALUES (?, ?, ?)",
                               (key, self.clock() + ttl, value))
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                return
            raise
        self._writes += 1
        if self._writes % PRUNE_EVERY == 0:
            self.prune()

    def prune(self) -> None:
        """Drop expired rows, then those expiring first beyond ``limit`` (skipped while another worker writes)."""
        connection = self._connection()
        try:
            connection.execute("DELETE FROM pages WHERE expires <= ?", (self.clock(),))
            extra = connection.execute("SELECT count(*) FROM pages").fetchone()[0] - self.limit
            if extra > 0:
                connection.execute("DELETE FROM pages WHERE key IN (SELECT key FROM pages ORDER BY expires LIMIT ?)",
                                   (extra,))
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise

    def generation(self) -> str:
        """The stamp every worker reads before each page (renewed by an invalidation in any of them)."""
        try:
            return self.stamp_path.read_text() or "0"
        except FileNotFoundError:
            return "0"

    def invalidate(self) -> None:
        """Make every stored page unreachable: a new stamp (a random one needs no lock between workers; the rename
        makes it appear whole), then forget the rows when no other worker is writing."""
        self.stamp_path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.stamp_path.with_name(f"{self.stamp_path.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_text(secrets.token_hex(8))
        os.replace(partial, self.stamp_path)
        try:
            self._connection().execute("DELETE FROM pages")
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text
