"""Uploads: size-checked files and safely unpacked zip archives (no zip-slip, no zip bombs).

Every archive is checked before anything is written: member names may not climb out of
the target folder (``..``) or be absolute, members may not be symbolic links or
encrypted, and the member count, each member's size, the total unpacked size and the
compression ratio are capped (``settings.UPLOAD_*``). While unpacking, the bytes actually
written are counted too, so a member that lies about its size is stopped.

    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as z:
    ...     z.writestr("zones/zones.geojson", "{}")
    >>> files = extract_zip(buf.getvalue(), name="zones.zip")
    >>> [p.relative_to(files.root).as_posix() for p in files.paths]
    ['zones/zones.geojson']
    >>> files.cleanup()
    >>> evil = io.BytesIO()
    >>> with zipfile.ZipFile(evil, "w") as z:
    ...     z.writestr("../evil.txt", "x")
    >>> try:
    ...     extract_zip(evil.getvalue(), name="evil.zip")
    ... except UploadError as exc:
    ...     print(str(exc).split(": ", 1)[1])
    member '../evil.txt' climbs out of the archive folder ('..' in its path)
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from coverage import settings
from coverage.errors import DataError, problems_message

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class UploadError(DataError):
    """An upload is refused; the message names the file (and member) and the limit."""


@dataclass(frozen=True)
class Extracted:
    """Files written under ``root`` (a new temporary folder); call :meth:`cleanup` when done."""

    root: Path
    paths: tuple[Path, ...]

    def cleanup(self) -> None:
        """Delete ``root`` and everything in it."""
        shutil.rmtree(self.root, ignore_errors=True)


def _mib(n: float) -> str:
    return f"{n / 1024 / 1024:,.1f} MiB" if n >= 1024 * 1024 else f"{n:,.0f} bytes"


def check_size(name: str, size: int, *,
               max_file_bytes: int = settings.UPLOAD_MAX_FILE_BYTES) -> None:
    """Raise UploadError if a file of ``size`` bytes is over the per-file limit."""
    if size > max_file_bytes:
        msg = (f"{name}: {_mib(size)} is over the {_mib(max_file_bytes)} limit per file; "
               "split or simplify the file")
        raise UploadError(msg)


def safe_name(name: str) -> str:
    """A plain file name (no folders, no odd characters) for an uploaded file's name."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = _SAFE_NAME.sub("_", base).lstrip(".")
    return cleaned[:120] or "upload"


def save_upload(name: str, data: bytes, *, dest: str | Path | None = None,
                max_file_bytes: int = settings.UPLOAD_MAX_FILE_BYTES) -> Path:
    """Write one uploaded file into ``dest`` (default: a new temporary folder).

    The name is reduced to a plain file name; the size is checked first.
    """
    check_size(name, len(data), max_file_bytes=max_file_bytes)
    folder = Path(dest) if dest is not None else Path(tempfile.mkdtemp(prefix="seccov-upload-"))
    path = folder / safe_name(name)
    path.write_bytes(data)
    return path


def _member_path(info: zipfile.ZipInfo) -> tuple[PurePosixPath | None, str | None]:
    """The member's relative path, or None and the reason it is unsafe."""
    raw = info.filename
    if "\x00" in raw:
        return None, "has a NUL character in its name"
    if raw.startswith(("/", "\\")) or _DRIVE.match(raw):
        return None, "has an absolute path; archives must hold relative paths"
    parts = [p for p in re.split(r"[\\/]", raw) if p not in ("", ".")]
    if ".." in parts:
        return None, "climbs out of the archive folder ('..' in its path)"
    if not parts:
        return None, "has an empty name"
    return PurePosixPath(*parts), None


def _check_members(infos: list[zipfile.ZipInfo], archive_bytes: int, *,
                   max_members: int, max_total_bytes: int, max_file_bytes: int,
                   max_ratio: float, ratio_min_bytes: int) -> list[str]:
    problems: list[str] = []
    if len(infos) > max_members:
        problems.append(f"holds {len(infos):,} members; at most {max_members:,} are allowed")
        return problems
    seen: set[str] = set()
    total = 0
    for info in infos:
        label = f"member '{info.filename[:200]}'"
        rel, why = _member_path(info)
        mode = info.external_attr >> 16
        if why:
            problems.append(f"{label} {why}")
        elif stat.S_ISLNK(mode):
            problems.append(f"{label} is a symbolic link; links are not accepted")
        elif info.flag_bits & 0x1:
            problems.append(f"{label} is encrypted; upload an unencrypted archive")
        elif str(rel).lower() in seen:
            problems.append(f"{label} appears twice")
        if rel is not None:
            seen.add(str(rel).lower())
        if info.is_dir():
            continue
        total += info.file_size
        if info.file_size > max_file_bytes:
            problems.append(f"{label} unpacks to {_mib(info.file_size)}, over the "
                            f"{_mib(max_file_bytes)} limit per file")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > ratio_min_bytes and ratio > max_ratio:
            problems.append(f"{label} expands {ratio:,.0f} times (limit {max_ratio:g}); it "
                            "looks like a zip bomb")
    if total > max_total_bytes:
        problems.append(f"unpacks to {_mib(total)} in total, over the {_mib(max_total_bytes)} "
                        "limit")
    elif total > ratio_min_bytes and total / max(archive_bytes, 1) > max_ratio:
        problems.append(f"expands {total / max(archive_bytes, 1):,.0f} times in total (limit "
                        f"{max_ratio:g}); it looks like a zip bomb")
    return problems


def extract_zip(source: str | Path | bytes | BinaryIO, *, name: str | None = None,
                dest: str | Path | None = None,
                max_members: int = settings.UPLOAD_MAX_MEMBERS,
                max_total_bytes: int = settings.UPLOAD_MAX_TOTAL_BYTES,
                max_file_bytes: int = settings.UPLOAD_MAX_FILE_BYTES,
                max_ratio: float = settings.UPLOAD_MAX_RATIO,
                ratio_min_bytes: int = settings.UPLOAD_RATIO_MIN_BYTES) -> Extracted:
    """Check and unpack a zip archive into a new temporary folder.

    Parameters
    ----------
    source
        The archive: a path, its bytes, or a binary file object (e.g. Streamlit's upload).
    name
        The name to use in messages (default: the path's name, else ``upload.zip``).
    dest
        Parent folder for the new temporary folder (default: the system's temp folder).

    Returns
    -------
    Extracted
        The new folder and the files written in it (archive order, no folders). Raises
        UploadError listing every problem, and writes nothing, if any check fails.
    """
    label = name or (Path(source).name if isinstance(source, str | Path) else "upload.zip")
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    size = Path(source).stat().st_size if isinstance(source, str | Path) else _stream_size(source)
    check_size(label, size, max_file_bytes=max_file_bytes)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        msg = f"{label}: not a valid zip archive ({exc}); upload a .zip file"
        raise UploadError(msg) from exc
    with archive:
        infos = archive.infolist()
        problems = _check_members(infos, size, max_members=max_members,
                                  max_total_bytes=max_total_bytes, max_file_bytes=max_file_bytes,
                                  max_ratio=max_ratio, ratio_min_bytes=ratio_min_bytes)
        if problems:
            raise UploadError(problems_message(label, problems))
        root = Path(tempfile.mkdtemp(prefix="seccov-upload-", dir=dest)).resolve()
        try:
            paths = [_write(archive, info, root, label, max_file_bytes) for info in infos
                     if not info.is_dir()]
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
    logger.info("%s: %d files unpacked into %s", label, len(paths), root)
    return Extracted(root, tuple(paths))


def _stream_size(stream: BinaryIO) -> int:
    here = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(here)
    return end - here


def _write(archive: zipfile.ZipFile, info: zipfile.ZipInfo, root: Path, label: str,
           max_file_bytes: int) -> Path:
    rel, _ = _member_path(info)
    assert rel is not None
    target = root.joinpath(*rel.parts).resolve()
    if not target.is_relative_to(root):  # defence in depth: checked above already
        msg = f"{label}: member '{info.filename}' would be written outside the upload folder"
        raise UploadError(msg)
    target.parent.mkdir(parents=True, exist_ok=True)
    limit = min(info.file_size, max_file_bytes)
    written = 0
    try:
        with archive.open(info) as src, open(target, "wb") as out:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    msg = (f"{label}: member '{info.filename}' unpacks to more than its "
                           f"declared {_mib(limit)}; the archive is damaged or hostile")
                    raise UploadError(msg)
                out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        msg = f"{label}: member '{info.filename}' cannot be unpacked ({exc})"
        raise UploadError(msg) from exc
    return target
