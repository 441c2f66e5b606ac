"""The PatchMatch path needs a CUDA build of pycolmap, which this machine has not: what can
run here is whether it is chosen and the reader of COLMAP's depth-map files."""

from __future__ import annotations

import numpy as np

from gpu import patchmatch


def test_colmap_depth_maps_read_back(tmp_path):
    depth = np.arange(12, dtype=np.float32).reshape(3, 4)   # 3 rows, 4 columns
    path = tmp_path / "view.png.geometric.bin"
    # COLMAP's layout: "width&height&channels&", then x fastest, then y, then channel (its
    # read_write_dense.py reads it as a (width, height, channels) Fortran-order array)
    path.write_bytes(b"4&3&1&" + depth.astype("<f4").tobytes())
    assert np.array_equal(patchmatch.read_array(path), depth)


def test_patchmatch_is_only_chosen_on_cuda_with_a_cuda_pycolmap():
    import pycolmap

    assert not patchmatch.available("cpu")
    assert patchmatch.available("cuda") == bool(pycolmap.has_cuda)
