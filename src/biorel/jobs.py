"""Job machinery shared by every command that writes: atomic outputs,
append-only journals, one-writer locks and the cache folder.

``convert``, ``extract``, ``synth``, ``train`` and the dataset cache all use
this module, so the rules below hold for every output biorel writes:

* **Atomic files** (:func:`atomic_file`): the content goes to a temporary file
  ``.NAME.<pid>.<random>.tmp`` in the output's own folder, is flushed and
  fsynced, and is renamed over ``NAME`` only when the block ends without an
  exception (the folder is fsynced too). An exception removes the temporary
  file; a ``kill -9`` leaves at most that hidden temporary file, which the next
  write of the same output removes once its process is gone. ``NAME`` is thus
  either absent, the old content, or the complete new content; never a part.
* **Atomic folders** (:func:`atomic_dir`): the folder is built in a temporary
  folder beside it and swapped in. An existing folder stays in place until the
  new one is complete: on Linux the two are exchanged in one step
  (``renameat2(RENAME_EXCHANGE)``), elsewhere the old one is renamed aside,
  the new one renamed in, and the old one removed.
* **Journals** (:class:`Journal`): JSONL files of records, one JSON object per
  line, appended a whole line at a time and fsynced, for work that must
  survive ``kill -9`` and resume. Opening a journal for reading cuts off a
  partial last line left by a killed writer and reports it (E052); a complete
  line that is not a JSON object is an error (E053).
* **Locks** (:func:`exclusive_lock`): an exclusive ``fcntl.flock`` on
  ``NAME.lock`` beside the output. The kernel releases it when the process
  dies, so ``kill -9`` leaves no stale lock (at most a stale, unlocked file,
  which the next writer reuses). A second writer is refused at once with E050
  naming the output and the holder's pid. The lock is re-entrant within one
  process (nested ``exclusive_lock`` of the same output just counts). The lock
  file is removed on release.
* **Cache** (:func:`cache_dir`): ``$BIOREL_CACHE``, default ``~/.cache/biorel``;
  datasets, encoders and synth models live under it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from collections.abc import Iterable, Iterator

from .errors import BiorelError, Diagnostics, SourceLocation, error

CACHE_ENV = "BIOREL_CACHE"
LOCK_SUFFIX = ".lock"

__all__ = [
    "CACHE_ENV",
    "Journal",
    "atomic_dir",
    "atomic_file",
    "atomic_output",
    "cache_dir",
    "exclusive_lock",
    "fsync_dir",
    "lock_path",
    "remove_stale_temps",
]


# ---------------------------------------------------------------- cache
def cache_dir() -> Path:
    """biorel's cache folder: ``$BIOREL_CACHE`` or ``~/.cache/biorel``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "biorel"


# ---------------------------------------------------------------- atomic outputs
def fsync_dir(folder: str | os.PathLike) -> None:
    """Make a rename inside ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_name(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.{kind}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files/folders of ``path`` (``.NAME.<pid>.<hex>.tmp``)
    left by processes that no longer run (a ``kill -9`` during a write)."""
    target = Path(path)
    removed = []
    for p in target.parent.glob(f".{target.name}.*.*.tmp"):
        pid = p.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
            removed.append(p)
    return removed


@contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on a clean exit it is
    fsynced and renamed to ``path``, on an exception removed (see the module
    docstring). ``mode`` is ``"w"`` (text) or ``"wb"``."""
    if mode not in ("w", "wt", "wb"):
        raise ValueError(f"atomic_file writes a new file: mode must be 'w' or 'wb', not {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    tmp = _temp_name(target, "tmp")
    binary = "b" in mode
    fh = open(tmp, "wb") if binary else open(tmp, "w", encoding=encoding, newline=newline)
    try:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        os.replace(tmp, target)
    except BaseException:
        fh.close()
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            p = os.path.join(folder, name)
            if os.path.islink(p):
                continue
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
        fsync_dir(folder)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``);
    ``False`` where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    return renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path`` to build the output in; on a
    clean exit its files are fsynced and it replaces ``path`` (an existing
    folder stays in place until the new one is complete), on an exception it
    is removed."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise error("E054", path=str(target), reason="it exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    tmp = _temp_name(target, "tmp")
    tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not target.exists():
        os.rename(tmp, target)
    elif _exchange(tmp, target):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old folder
    else:
        old = _temp_name(target, "old.tmp")
        os.rename(target, old)
        os.rename(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(target.parent)


def _move_into(src: Path, dst: Path) -> None:
    """Move the tree ``src`` to ``dst``: in one rename when ``dst`` is absent
    (or an empty folder), else file by file (each file replaced whole)."""
    if src.is_dir():
        if dst.is_dir() and not any(dst.iterdir()):
            dst.rmdir()
        if not dst.exists():
            os.rename(src, dst)
            return
        if not dst.is_dir():
            raise error("E054", path=str(dst), reason="a folder output would replace a file")
        for child in sorted(src.iterdir()):
            _move_into(child, dst / child.name)
        fsync_dir(dst)
        return
    if dst.is_dir():
        raise error("E054", path=str(dst), reason="a file output would replace a folder")
    os.replace(src, dst)


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """For writers that take a path and may write several files (a brat
    folder, an ``.ann`` with its ``.txt``, BC2's ``GENE.eval`` beside the
    ``.in``): yield ``path``'s name inside a hidden staging folder beside it.
    On a clean exit everything written in the staging folder is fsynced and
    moved beside ``path`` (a single file or a new folder in one rename; into an
    existing, non-empty folder file by file, each file whole); on an exception
    the staging folder is removed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    staging = _temp_name(target, "tmp")
    staging.mkdir()
    try:
        yield staging / target.name
        _fsync_tree(staging)
        for child in sorted(staging.iterdir()):
            _move_into(child, target.parent / child.name)
        fsync_dir(target.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------- journals
class Journal:
    """An append-only JSONL file of records (see the module docstring).

    ::

        j = Journal(path, diagnostics)
        done = {rec["id"] for _, rec in j.records()}   # cuts a torn last line first
        with j:                                          # opens for appending
            j.append({"id": "a", ...})                   # whole line, fsynced
    """

    def __init__(self, path: str | os.PathLike, diagnostics: Diagnostics | None = None):
        self.path = Path(path)
        self.diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        self.truncated = 0  # partial last lines cut off by this object
        self._fh: IO[bytes] | None = None
        self._recovered = False

    # -- reading
    def recover(self) -> int:
        """Cut off a partial last line (no final newline) left by a killed
        writer; report it (E052) and return the number of bytes cut."""
        self._recovered = True
        if not self.path.exists():
            return 0
        with open(self.path, "r+b") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                return 0
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return 0
            cut = self._last_newline_end(fh, size)
            fh.truncate(cut)
            fh.flush()
            os.fsync(fh.fileno())
            fh.seek(0)
            line = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b"")) + 1
        err = error("E052", size=size - cut, path=str(self.path))
        self.diagnostics.add(BiorelError(err.code, err.message, where=SourceLocation(str(self.path), line, offset=cut)), "truncated")
        self.truncated += 1
        return size - cut

    @staticmethod
    def _last_newline_end(fh: IO[bytes], size: int) -> int:
        pos = size
        while pos > 0:
            start = max(0, pos - (1 << 16))
            fh.seek(start)
            block = fh.read(pos - start)
            i = block.rfind(b"\n")
            if i >= 0:
                return start + i + 1
            pos = start
        return 0

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(line number, record)`` for every record, streamed (after
        :meth:`recover`, which runs first if it has not). A line that is not a
        JSON object raises E053; blank lines are skipped."""
        if not self._recovered:
            self.recover()
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    if not isinstance(rec, dict):
                        raise ValueError(f"a JSON {type(rec).__name__}, not an object")
                except (ValueError, UnicodeDecodeError) as e:
                    raise error("E053", where=SourceLocation(str(self.path), lineno), path=str(self.path), line=lineno, reason=str(e)) from None
                yield lineno, rec

    def read(self) -> list[dict[str, Any]]:
        return [rec for _, rec in self.records()]

    # -- writing
    @staticmethod
    def encode(record: dict[str, Any]) -> bytes:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"

    def open(self) -> Journal:
        if self._fh is None:
            if not self._recovered:
                self.recover()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "ab")
        return self

    def append(self, record: dict[str, Any], *, sync: bool = True) -> None:
        """Append one record as a whole line; ``sync=False`` defers the fsync
        to :meth:`sync` (one fsync per batch)."""
        self.write_bytes(self.encode(record))
        if sync:
            self.sync()

    def extend(self, records: Iterable[dict[str, Any]]) -> int:
        n = 0
        for rec in records:
            self.write_bytes(self.encode(rec))
            n += 1
        self.sync()
        return n

    def write_bytes(self, data: bytes) -> None:
        """Low level: append ``data`` as is (used by fault-injection tests)."""
        self.open()
        assert self._fh is not None
        self._fh.write(data)

    def sync(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self.sync()
            self._fh.close()
            self._fh = None

    def __enter__(self) -> Journal:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()


# ---------------------------------------------------------------- locks
def lock_path(path: str | os.PathLike) -> Path:
    """The lock file of an output: ``NAME.lock`` beside it."""
    p = Path(path)
    return p.with_name(p.name + LOCK_SUFFIX)


_held: dict[str, int] = {}
_held_guard = threading.Lock()


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return f"pid {text}" if text.isdigit() else "pid unknown"


def _acquire(lock: Path, output: Path) -> int:
    import fcntl

    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise error("E051", lock=str(lock), path=str(output), reason=e.strerror or str(e)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise error("E050", path=str(output), holder=holder, lock=str(lock)) from None
        except OSError as e:
            os.close(fd)
            raise error("E051", lock=str(lock), path=str(output), reason=e.strerror or str(e)) from None
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:  # else the previous holder removed the file after we opened it: retry on the new one
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


@contextmanager
def exclusive_lock(path: str | os.PathLike) -> Iterator[Path]:
    """Hold the one-writer lock of the output ``path`` (a file or a folder)
    for the block; a second process asking for it gets E050 at once. Yields
    the lock file's path."""
    output = Path(path).absolute()
    lock = lock_path(output)
    key = str(lock)
    with _held_guard:
        if key in _held:
            _held[key] += 1
            fd = None
        else:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = _acquire(lock, Path(path))
            _held[key] = 1
            _fds[key] = fd
    try:
        yield lock
    finally:
        with _held_guard:
            _held[key] -= 1
            if _held[key] == 0:
                del _held[key]
                fd = _fds.pop(key)
                lock.unlink(missing_ok=True)  # still holding it: no other process owns this file
                os.close(fd)


_fds: dict[str, int] = {}
