"""Uploads (issue 13 defects 1, 5, 8): stored once by content hash, total storage capped with
least-recently-used eviction, capped in columns, and read in the encodings spreadsheets write."""

from __future__ import annotations

import pytest

from core.data import DataUnavailable, load_dataset
from core.data import upload as up
from core.data.upload import register_csv, upload_meta


def table(seed: int, rows: int = 30) -> bytes:
    body = "".join(f"{(i * seed) % 11},{i % 5},{i % 2}\n" for i in range(rows))
    return ("a,b,label\n" + body).encode()


def test_an_upload_is_parsed_and_written_once(monkeypatch):
    """A rerun of the page re-sends the same bytes: the second time costs a hash, not a parse
    and two file writes (9 uploads used to grow to 100 MB, rewritten on every rerun)."""
    first = register_csv(table(3), "label", file_name="my data.csv")
    calls = {"read": 0, "write": 0}

    def counted(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(up, "_read_csv", counted("read", up._read_csv))
    monkeypatch.setattr(up, "_atomic_write", counted("write", up._atomic_write))
    assert register_csv(table(3), "label", file_name="renamed.csv") == first
    assert calls == {"read": 0, "write": 0}
    assert upload_meta(first)["file_name"] == "my data.csv" and upload_meta(first)["rows"] == 30


def test_upload_storage_is_capped_least_recently_used_first(monkeypatch, tmp_path):
    monkeypatch.setenv("WHATIF_DATA_DIR", str(tmp_path))
    names = [register_csv(table(s, rows=200), "label") for s in (2, 3)]
    two = sum(p.stat().st_size for p in (tmp_path / "uploads").iterdir())  # equal-sized tables
    monkeypatch.setattr(up, "MAX_UPLOAD_STORAGE_BYTES", int(two * 1.6))  # room for three, not four
    register_csv(table(4, rows=200), "label")
    up.load_upload.cache_clear()
    load_dataset(names[0])  # used: the oldest unused one is names[1]
    newest = register_csv(table(5, rows=200), "label")
    for name in (names[0], newest):
        assert len(load_dataset(name)) == 200
    with pytest.raises(DataUnavailable, match="upload the CSV again"):
        load_dataset(names[1])


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16", "utf-8-sig"])
def test_spreadsheet_encodings_are_read(encoding):
    text = "taille (µm),été,label\n" + "".join(f"{i},{i % 3},{'ça' if i % 2 else 'non'}\n" for i in range(10))
    ds = load_dataset(register_csv(text.encode(encoding), "label"))
    assert ds.feature_names == ("taille (µm)", "été") and ds.class_names == ("non", "ça")


def test_a_binary_file_is_told_to_save_as_utf8():
    with pytest.raises(ValueError, match="save it as CSV UTF-8"):
        register_csv(b"a,label\n\x00\x01,1\n", "label")


def test_a_file_name_is_kept_without_folders():
    name = register_csv(table(7), "label", file_name="C:\\Users\\me\\secret folder\\data.csv")
    assert upload_meta(name)["file_name"] == "data.csv"


HELD_UP = {  # what issue 13 found refused with a clear message; kept so
    "formula cells": (b"a,label\n=1+1,0\n=2+2,1\n3,0\n4,1\n", "non-numeric"),
    "NaN": (b"a,label\nnan,0\n2,1\n3,0\n4,1\n", "missing values"),
    "inf": (b"a,label\ninf,0\n2,1\n3,0\n4,1\n", "infinite"),
    "1e300": (b"a,label\n1e300,0\n2,1\n3,0\n4,1\n", "too large"),
    "one class": (b"a,label\n1,0\n2,0\n3,0\n", "single class"),
    "1,000 classes": (b"a,label\n" + b"".join(b"%d,%d\n" % (i, i // 2) for i in range(2000)), "at most 100"),
    "empty": (b"", "could not be read"),
    "ragged": (b"a,b,label\n1,2,0\n3,4,5,6\n", "could not be read"),
    "gzip bomb": (b"\x1f\x8b\x08\x00" + b"\x00" * 64, "not a text CSV"),
}


@pytest.mark.parametrize(("content", "words"), HELD_UP.values(), ids=HELD_UP.keys())
def test_what_held_up_is_still_refused_clearly(content, words):
    with pytest.raises(ValueError, match=words):
        register_csv(content, "label")
