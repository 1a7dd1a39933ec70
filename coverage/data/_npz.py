"""Uncompressed ``.npz`` files whose arrays start on 64-byte boundaries, mapped, not read.

``numpy.savez`` puts each array wherever its zip member falls; :func:`savez_aligned` pads
each member's local zip header (an extra field readers skip) so the array data start on a
multiple of :data:`ALIGN` bytes, and :func:`mapped` maps them from the file as they are
(numpy works slowly on misaligned memory, so a misaligned member is copied).
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib import format as npformat

ALIGN = 64  # bytes: numpy pads an .npy header to this, and the zip header to it here
PAD_ID = 0xD935  # zip extra-field id of the padding (zipalign's; readers skip unknown ids)


def savez_aligned(fh: Any, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
    """``numpy.savez`` (uncompressed ``.npz``), with each member's local zip header padded
    by an extra field so that its array data start on a multiple of :data:`ALIGN`."""
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            zip64 = value.nbytes >= 2**31 - 2**20
            # zipfile appends its own 20-byte zip64 extra field after ours when forced
            fixed = fh.tell() + 30 + len(info.filename.encode()) + (20 if zip64 else 0)
            pad = -fixed % ALIGN
            if 0 < pad < 4:  # an extra field needs 4 bytes of its own
                pad += ALIGN
            if pad:
                info.extra = PAD_ID.to_bytes(2, "little") + (pad - 4).to_bytes(2, "little") \
                    + bytes(pad - 4)
            with zf.open(info, "w", force_zip64=zip64) as member:
                npformat.write_array(member, np.asanyarray(value), allow_pickle=False)


def mapped(path: Path) -> dict[str, npt.NDArray[Any]]:
    """The arrays of an ``.npz`` written by :func:`numpy.savez`, memory-mapped read-only.

    ``savez`` stores each ``.npy`` member uncompressed, so its data lie in the file as they
    are: after the member's local zip header and the ``.npy`` header. A compressed member,
    or one holding Python objects, is read the ordinary way.
    """
    out: dict[str, npt.NDArray[Any]] = {}
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        for info in zf.infolist():
            name = info.filename.removesuffix(".npy")
            fh.seek(info.header_offset)
            local = fh.read(30)
            if info.compress_type != zipfile.ZIP_STORED or local[:4] != b"PK\x03\x04":
                out[name] = np.load(zf.open(info), allow_pickle=False)
                continue
            fh.seek(info.header_offset + 30 + int.from_bytes(local[26:28], "little")
                    + int.from_bytes(local[28:30], "little"))
            version = npformat.read_magic(fh)
            read_header = (npformat.read_array_header_1_0 if version == (1, 0)
                           else npformat.read_array_header_2_0)
            shape, fortran, dtype = read_header(fh)
            if dtype.hasobject:
                msg = f"{info.filename} holds Python objects"
                raise ValueError(msg)
            if math.prod(shape) == 0 or dtype.itemsize == 0:
                out[name] = np.load(zf.open(info), allow_pickle=False)
                continue
            offset = fh.tell()
            mapped = np.asarray(np.memmap(fh, dtype=dtype, mode="r", offset=offset,
                                          shape=shape, order="F" if fortran else "C"))
            # numpy works slowly on misaligned data: a file from before _savez_aligned is
            # copied once, member by member
            out[name] = mapped if offset % max(dtype.alignment, 1) == 0 else mapped.copy()
    return out


def is_aligned(path: Path) -> bool:
    """Whether every stored member of the ``.npz`` at ``path`` starts its array data on a
    multiple of :data:`ALIGN` bytes (as :func:`savez_aligned` writes them)."""
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        for info in zf.infolist():
            fh.seek(info.header_offset)
            local = fh.read(30)
            start = (info.header_offset + 30 + int.from_bytes(local[26:28], "little")
                     + int.from_bytes(local[28:30], "little"))
            if info.compress_type != zipfile.ZIP_STORED or start % ALIGN:
                return False
    return True
