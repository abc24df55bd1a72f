"""The one file-identity rule (sertools.utils._files.file_token)."""

from __future__ import annotations

import os
import shutil

from sertools.utils._files import file_token


def test_token_changes_when_rewritten_in_place_with_times_restored(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"\x00" * 64)
    before = file_token(f)
    st = f.stat()
    f.write_bytes(b"\x01" * 64)  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # modification time restored
    assert f.stat().st_mtime_ns == st.st_mtime_ns and f.stat().st_size == st.st_size
    assert file_token(f) != before


def test_token_changes_when_replaced_by_a_copy_keeping_its_mtime(tmp_path):
    f, g = tmp_path / "a.bin", tmp_path / "b.bin"
    f.write_bytes(b"\x00" * 64)
    g.write_bytes(b"\x01" * 64)
    os.utime(g, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns))
    before = file_token(f)
    tmp = tmp_path / "b-copy.bin"
    shutil.copy2(g, tmp)  # cp -p
    os.replace(tmp, f)
    assert file_token(f) != before


def test_token_is_stable_and_none_for_missing(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"x")
    assert file_token(f) == file_token(str(f)) == file_token(tmp_path / "." / "a.bin")
    assert file_token(tmp_path / "missing.wav") is None
