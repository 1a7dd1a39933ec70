"""Uploads: zip-slip, absolute paths, symlinks, bombs, oversize and member limits refused."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from coverage.data.uploads import (
    UploadError,
    check_size,
    extract_zip,
    safe_name,
    save_upload,
)


def make_zip(members: list[tuple[str | zipfile.ZipInfo, bytes]], *,
             method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def test_good_archive_is_extracted(tmp_path: Path) -> None:
    data = make_zip([("roads/roads.shp", b"shp"), ("roads/roads.dbf", b"dbf"),
                     ("zones.geojson", b"{}"), ("empty/", b"")])
    out = extract_zip(data, name="district.zip", dest=tmp_path)
    try:
        assert [p.relative_to(out.root).as_posix() for p in out.paths] == [
            "roads/roads.shp", "roads/roads.dbf", "zones.geojson"]
        assert out.root.parent == tmp_path.resolve()
        assert all(p.is_relative_to(out.root) for p in out.paths)
        assert (out.root / "roads" / "roads.dbf").read_bytes() == b"dbf"
    finally:
        out.cleanup()
    assert not out.root.exists()


@pytest.mark.parametrize(("name", "why"), [
    ("../evil.txt", "climbs out"),
    ("a/../../evil.txt", "climbs out"),
    ("..\\..\\evil.txt", "climbs out"),
    ("/etc/cron.d/evil", "has an absolute path"),
    ("\\\\server\\share\\evil", "has an absolute path"),
    ("C:\\Windows\\evil.dll", "has an absolute path"),
    ("c:evil", "has an absolute path"),
])
def test_zip_slip_is_refused_and_nothing_written(tmp_path: Path, name: str, why: str) -> None:
    data = make_zip([("ok.txt", b"fine"), (name, b"evil")])
    with pytest.raises(UploadError, match=rf"upload.zip: member '.*' {why}"):
        extract_zip(data, dest=tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert not (tmp_path.parent / "evil.txt").exists()


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = make_zip([(link, b"/etc/passwd"), ("ok.txt", b"x")])
    with pytest.raises(UploadError, match="member 'link' is a symbolic link"):
        extract_zip(data, dest=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_encrypted_and_duplicate_members_are_refused(tmp_path: Path) -> None:
    data = bytearray(make_zip([("secret.txt", b"x"), ("a.txt", b"1"), ("A.TXT", b"2")]))
    cd = data.find(b"PK\x01\x02")  # first central directory entry: set "encrypted"
    data[cd + 8] |= 0x1
    with pytest.raises(UploadError) as err:
        extract_zip(bytes(data), dest=tmp_path)
    assert "member 'secret.txt' is encrypted" in str(err.value)
    assert "member 'A.TXT' appears twice" in str(err.value)


def test_too_many_members(tmp_path: Path) -> None:
    data = make_zip([(f"f{i}.txt", b"x") for i in range(6)])
    with pytest.raises(UploadError, match="holds 6 members; at most 5"):
        extract_zip(data, dest=tmp_path, max_members=5)
    assert len(extract_zip(data, dest=tmp_path, max_members=6).paths) == 6


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    data = make_zip([("zeros.csv", bytes(20 * 1024 * 1024))])
    assert len(data) < 100_000
    with pytest.raises(UploadError, match=r"member 'zeros.csv' expands [\d,]+ times.*zip bomb"):
        extract_zip(data, dest=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_small_repetitive_files_are_not_bombs(tmp_path: Path) -> None:
    data = make_zip([("blank.csv", bytes(100_000))])  # ratio ~ 1000, but only 100 kB
    assert len(extract_zip(data, dest=tmp_path).paths) == 1


def test_total_and_per_file_size_limits(tmp_path: Path) -> None:
    data = make_zip([("a.bin", b"a" * 3000), ("b.bin", b"b" * 3000)])
    assert len(data) < 1000
    with pytest.raises(UploadError, match="unpacks to 6,000 bytes in total, over the 5,000"):
        extract_zip(data, dest=tmp_path, max_total_bytes=5000)
    with pytest.raises(UploadError, match=r"member 'a\.bin' unpacks to .* limit per file"):
        extract_zip(data, dest=tmp_path, max_file_bytes=2900, max_ratio=1e9)
    with pytest.raises(UploadError, match=r"upload\.zip: .* bytes is over the 100 bytes limit"):
        extract_zip(data, dest=tmp_path, max_file_bytes=100)


def test_member_that_lies_about_its_size(tmp_path: Path) -> None:
    data = bytearray(make_zip([("big.bin", b"z" * 5000)], method=zipfile.ZIP_STORED))
    cd = data.rfind(b"PK\x01\x02")  # central directory entry: declare 10 bytes, not 5000
    data[cd + 24:cd + 28] = struct.pack("<I", 10)
    with pytest.raises(UploadError, match=r"big\.bin"):
        extract_zip(bytes(data), dest=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_not_a_zip(tmp_path: Path) -> None:
    with pytest.raises(UploadError, match=r"x\.zip: not a valid zip archive"):
        extract_zip(b"PK not really", name="x.zip", dest=tmp_path)
    path = tmp_path / "real.zip"
    path.write_bytes(make_zip([("a.txt", b"a")]))
    out = extract_zip(path, dest=tmp_path / "..")
    assert [p.name for p in out.paths] == ["a.txt"]
    out.cleanup()


def test_single_file_uploads(tmp_path: Path) -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\boot.ini") == "boot.ini"
    assert safe_name("my zones (v2).geojson") == "my_zones_v2_.geojson"
    assert safe_name("...") == "upload"
    p = save_upload("../../officers.csv", b"officer_id\nA\n", dest=tmp_path)
    assert p == tmp_path / "officers.csv"
    with pytest.raises(UploadError, match=r"big\.csv: 2\.0 MiB is over the 1\.0 MiB limit"):
        save_upload("big.csv", bytes(2 * 1024 * 1024), dest=tmp_path,
                    max_file_bytes=1024 * 1024)
    check_size("ok.csv", 10)
    fresh = save_upload("a.csv", b"x")
    assert fresh.name == "a.csv"
    fresh.unlink()
    fresh.parent.rmdir()
