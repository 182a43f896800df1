"""biorel.jobs: atomic files and folders, journals, one-writer locks, cache_dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from biorel.errors import BiorelError, Diagnostics
from biorel.jobs import Journal, atomic_dir, atomic_file, cache_dir, exclusive_lock, lock_path, remove_stale_temps


def _leftovers(folder, name):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}."))


# ---------------------------------------------------------------- cache_dir
def test_cache_dir_env_and_default(monkeypatch, tmp_path):
    monkeypatch.setenv("BIOREL_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("BIOREL_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "biorel"


def test_every_cache_helper_is_the_jobs_one(monkeypatch, tmp_path):
    from biorel import datasets
    from biorel.synth import models as synth_models

    monkeypatch.setenv("BIOREL_CACHE", str(tmp_path))
    assert datasets.cache_dir() == tmp_path
    assert synth_models.cache_dir() == tmp_path / "models"


# ---------------------------------------------------------------- atomic_file
def test_atomic_file_replaces_on_success(tmp_path):
    out = tmp_path / "sub" / "out.txt"
    with atomic_file(out) as fh:
        fh.write("new\n")
        assert not out.exists()  # nothing visible until the block ends
    assert out.read_text() == "new\n"
    assert _leftovers(out.parent, "out.txt") == []


def test_atomic_file_keeps_old_content_on_exception(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_file(out) as fh:
            fh.write("half of the new")
            raise RuntimeError("boom")
    assert out.read_text() == "old\n"
    assert _leftovers(tmp_path, "out.txt") == []


def test_atomic_file_binary_and_bad_mode(tmp_path):
    with atomic_file(tmp_path / "b.bin", "wb") as fh:
        fh.write(b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    with pytest.raises(ValueError):
        with atomic_file(tmp_path / "c", "a"):
            pass


def test_atomic_file_under_kill9_leaves_no_output_and_next_write_cleans_up(tmp_path):
    out = tmp_path / "out.txt"
    code = textwrap.dedent(f"""
        import os, signal
        from biorel.jobs import atomic_file
        with atomic_file({str(out)!r}) as fh:
            fh.write("x" * 100000); fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code])
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    stale = _leftovers(tmp_path, "out.txt")
    assert len(stale) == 1 and stale[0].endswith(".tmp")
    with atomic_file(out) as fh:
        fh.write("ok")
    assert out.read_text() == "ok" and _leftovers(tmp_path, "out.txt") == []


def test_remove_stale_temps_keeps_live_processes(tmp_path):
    live = tmp_path / f".out.{os.getppid()}.abcd.tmp"
    live.write_text("")
    assert remove_stale_temps(tmp_path / "out") == []
    assert live.exists()


# ---------------------------------------------------------------- atomic_dir
def test_atomic_dir_new_and_replace(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as d:
        (d / "a.txt").write_text("1")
    assert (target / "a.txt").read_text() == "1"
    with atomic_dir(target) as d:
        assert (target / "a.txt").exists()  # the old folder stays until the new one is in place
        (d / "b.txt").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert _leftovers(tmp_path, "model") == []


def test_atomic_dir_exception_keeps_old(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "a.txt").write_text("old")
    with pytest.raises(KeyError):
        with atomic_dir(target) as d:
            (d / "a.txt").write_text("new")
            raise KeyError("x")
    assert (target / "a.txt").read_text() == "old"
    assert _leftovers(tmp_path, "model") == []


def test_atomic_dir_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(BiorelError) as e:
        with atomic_dir(tmp_path / "f"):
            pass
    assert e.value.code == "E054"


# ---------------------------------------------------------------- Journal
def test_journal_append_and_read(tmp_path):
    j = Journal(tmp_path / "j.jsonl")
    with j:
        j.append({"id": "a"})
        j.extend([{"id": "b"}, {"id": "c"}])
    assert [r["id"] for r in Journal(tmp_path / "j.jsonl").read()] == ["a", "b", "c"]


def test_journal_truncates_torn_last_line_and_reports(tmp_path):
    p = tmp_path / "j.jsonl"
    p.write_bytes(b'{"id":"a"}\n{"id":"b"}\n{"id":"c","te')
    diags = Diagnostics()
    j = Journal(p, diags)
    assert [r["id"] for r in j.read()] == ["a", "b"]
    assert p.read_bytes() == b'{"id":"a"}\n{"id":"b"}\n'
    (prob,) = list(diags)
    assert prob.code == "E052" and prob.action == "truncated"
    assert prob.where.line == 3 and prob.where.offset == 22 and "13 bytes" in prob.message
    assert j.truncated == 1
    with j:  # appending after recovery continues on a clean line
        j.append({"id": "c"})
    assert [r["id"] for r in Journal(p).read()] == ["a", "b", "c"]


def test_journal_torn_first_line(tmp_path):
    p = tmp_path / "j.jsonl"
    p.write_bytes(b'{"id":')
    assert Journal(p).read() == [] and p.read_bytes() == b""


def test_journal_malformed_complete_line(tmp_path):
    p = tmp_path / "j.jsonl"
    p.write_bytes(b'{"id":"a"}\n[1, 2]\n')
    with pytest.raises(BiorelError) as e:
        Journal(p).read()
    assert e.value.code == "E053" and e.value.where.line == 2


def test_journal_missing_file_reads_empty(tmp_path):
    assert Journal(tmp_path / "none.jsonl").read() == []


# ---------------------------------------------------------------- exclusive_lock
_HOLD = textwrap.dedent("""
    import sys, time
    from biorel.jobs import exclusive_lock
    with exclusive_lock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(60)
""")


def _holder(path):
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_refuses_second_writer_with_pid(tmp_path):
    out = tmp_path / "out.jsonl"
    proc = _holder(out)
    try:
        with pytest.raises(BiorelError) as e:
            with exclusive_lock(out):
                pass
        assert e.value.code == "E050"
        assert str(out) in str(e.value) and f"pid {proc.pid}" in str(e.value)
    finally:
        proc.terminate()
        proc.wait()


def test_lock_dies_with_kill9(tmp_path):
    out = tmp_path / "out"
    proc = _holder(out)
    proc.kill()
    proc.wait()
    assert lock_path(out).exists()  # the stale file stays, the lock does not
    with exclusive_lock(out) as lock:
        assert lock.read_text().strip() == str(os.getpid())
    assert not lock_path(out).exists()


def test_lock_is_reentrant_in_one_process(tmp_path):
    out = tmp_path / "out"
    with exclusive_lock(out):
        with exclusive_lock(out):
            pass
        assert lock_path(out).exists()  # still held by the outer block
    assert not lock_path(out).exists()


def test_lock_released_after_exception(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with exclusive_lock(out):
            raise RuntimeError
    code = "import sys; from biorel.jobs import exclusive_lock\nwith exclusive_lock(sys.argv[1]): print('ok')"
    t0 = time.time()
    assert subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True).stdout.strip() == "ok"
    assert time.time() - t0 < 30
