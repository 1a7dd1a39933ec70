"""A regular lon/lat grid of node positions: the nodes in a box without a sort or a tree."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Nodes per cell of the grid, on average.
GRID_CELL_NODES = 16


@dataclass(frozen=True, eq=False)
class Grid:
    """Nodes bucketed on a regular lon/lat grid (about :data:`GRID_CELL_NODES` per cell, at
    most 256 x 256 cells): the nodes of cell row ``r``, columns ``a..b``, are
    ``order[ptr[r * nx + a] : ptr[r * nx + b + 1]]``.

    A point's cell is ``floor((x - x0) * sx)`` clipped to the grid, which never decreases
    as ``x`` grows (each float step rounds monotonically), so every node inside a box lies
    in the cells between the box corners' cells.
    """

    x0: float
    y0: float
    sx: float
    sy: float
    nx: int
    ny: int
    order: IntArray
    ptr: IntArray

    @classmethod
    def of(cls, lon: FloatArray, lat: FloatArray) -> Grid:
        side = int(min(256, max(1, math.isqrt(max(1, lon.size // GRID_CELL_NODES)))))
        x0, y0 = (float(lon.min()), float(lat.min())) if lon.size else (0.0, 0.0)
        span_x = float(lon.max()) - x0 if lon.size else 0.0
        span_y = float(lat.max()) - y0 if lat.size else 0.0
        sx = side / span_x if span_x > 0 else 0.0
        sy = side / span_y if span_y > 0 else 0.0
        grid = cls(x0, y0, sx, sy, side, side, np.empty(0, dtype=np.int64),
                   np.empty(0, dtype=np.int64))
        cell = (grid._row(lat) * side + grid._col(lon)).astype(np.uint16)
        order = np.argsort(cell, kind="stable").astype(np.int64)  # radix sort of 16 bits
        ptr = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=side * side))])
        return replace(grid, order=order, ptr=ptr.astype(np.int64))

    def _col(self, x: npt.ArrayLike) -> IntArray:
        return np.clip(np.floor((np.asarray(x, dtype=np.float64) - self.x0) * self.sx),
                       0, self.nx - 1).astype(np.int64)

    def _row(self, y: npt.ArrayLike) -> IntArray:
        return np.clip(np.floor((np.asarray(y, dtype=np.float64) - self.y0) * self.sy),
                       0, self.ny - 1).astype(np.int64)

    def candidates(self, x0: float, y0: float, x1: float, y1: float) -> IntArray:
        """Nodes of the cells a box overlaps (a superset of the nodes inside it)."""
        if not (x0 <= x1 and y0 <= y1):
            return np.empty(0, dtype=np.int64)
        a, b = (int(v) for v in self._col([x0, x1]))
        r0, r1 = (int(v) for v in self._row([y0, y1]))
        rows = np.arange(r0, r1 + 1) * self.nx
        starts, stops = self.ptr[rows + a], self.ptr[rows + b + 1]
        if rows.size == 1:
            return self.order[int(starts[0]) : int(stops[0])]
        counts = stops - starts
        pos = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
        return self.order[pos]
