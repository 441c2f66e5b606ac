"""Structure from motion past its size thresholds, and the cameras it sets up, through the
real pycolmap on small sets: a set above ``GLOBAL_FROM`` is matched in a loop of neighbours
and placed by global mapping; EXIF focal lengths become the camera's prior; photos from two
cameras get a camera model each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gpu import evaluate, sfm, synthetic

pytestmark = pytest.mark.slow


def _write(folder: Path, cameras, exif_35mm: int | None = None) -> list[str]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for cam in cameras:
        image = Image.fromarray(synthetic.render(cam))
        exif = Image.Exif()
        if exif_35mm is not None:
            exif.get_ifd(0x8769)[0xA405] = exif_35mm   # FocalLengthIn35mmFilm
        image.save(folder / f"{cam.name}.jpg", quality=92, exif=exif)
        names.append(f"{cam.name}.jpg")
    return names


def _sfm(folder: Path, names: list[str], work: Path, progress=lambda f, m: None) -> sfm.SparseModel:
    return sfm.run(folder, names, work, max_image_size=320, max_features=1024, use_cuda=False,
                   progress=progress, cancel=None, domain_size_pooling=False)


def test_a_set_above_the_threshold_takes_the_global_path_and_places_every_image(tmp_path, monkeypatch):
    """24 small views with the thresholds lowered below them (the 300-image run is the
    benchmark's): loop pairs, not every pair, then global mapping; every view placed, and the
    camera centres where the true ones are after a similarity alignment."""
    monkeypatch.setattr(sfm, "EXHAUSTIVE_UP_TO", 16)
    monkeypatch.setattr(sfm, "SEQUENTIAL_OVERLAP", 4)
    monkeypatch.setattr(sfm, "GLOBAL_FROM", 20)
    cams = synthetic.cameras(24, 0.5)
    names = _write(tmp_path / "photos", cams)
    seen: list[tuple[float, str]] = []
    model = _sfm(tmp_path / "photos", names, tmp_path / "work", lambda f, m: seen.append((f, m)))
    assert (model.matching, model.mapper) == ("sequential (loop)", "global")
    # while the child maps, the bar moves on (it said nothing between start and end before)
    mapping = [f for f, m in seen if "global mapping), " in m]
    assert len(mapping) >= 2 and 0.6 < mapping[0] < mapping[-1] < 0.88
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    assert len(model.views) == 24 and not model.unregistered
    found = np.array([v.centre for v in model.views])
    truth = np.array([c.centre for c in cams])   # both in name order
    s, R, t = evaluate.similarity(found, truth)
    rms = float(np.sqrt(((s * found @ R.T + t - truth) ** 2).sum(1).mean()))
    assert rms < 0.02 * synthetic.object_size()

    # Cancel stops global mapping (a child process: its C++ takes no cancellation token) at once
    import threading
    import time

    from dstudio_desktop.core.progress import CancelToken
    from dstudio_desktop.errors import Cancelled

    token = CancelToken()
    (tmp_path / "again").mkdir()
    # what a child stopped while writing its model leaves (seen on a fast machine): not kept
    (tmp_path / "again" / "model0").mkdir()
    (tmp_path / "again" / "model0" / "cameras.bin").write_bytes(b"\x01")
    threading.Timer(0.2, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        sfm.run_global(tmp_path / "work" / "database.db", tmp_path / "photos", tmp_path / "again", names, token)
    assert time.monotonic() - started < 3
    assert not list((tmp_path / "again").glob("model*"))


def test_loop_pairs_close_the_loop_and_reach_far():
    names = [f"{i:03d}" for i in range(100)]
    pairs = set(sfm.loop_pairs(names, 5))
    assert ("000", "099") in pairs and ("000", "095") in pairs      # the loop closed
    assert ("000", "040") in pairs                                  # a doubling distance
    assert ("000", "007") not in pairs
    assert len(pairs) == len(set(tuple(sorted(p)) for p in pairs))


def test_exif_focal_length_is_the_cameras_prior(tmp_path):
    """JPEGs carrying FocalLengthIn35mmFilm: the camera starts from it (COLMAP's prior flag,
    and a focal length off the 1.2 x longer side guess); the same photos without EXIF start
    from the guess. The camera model of the set reports which."""
    import pycolmap

    cams = synthetic.cameras(2, 0.5)
    for label, exif in (("with", 28), ("without", None)):
        names = _write(tmp_path / label, cams, exif)
        database = tmp_path / f"{label}.db"
        reader = pycolmap.ImageReaderOptions()
        sfm.extract(database, tmp_path / label, names, reader, pycolmap.FeatureExtractionOptions(),
                    pycolmap.Device.cpu, None)
        db = pycolmap.Database.open(database)
        (camera,) = db.read_all_cameras()
        db.close()
        if exif:
            # 28 mm on the 35 mm frame's 43.3 mm diagonal, over the image's 400-pixel diagonal
            assert camera.has_prior_focal_length and camera.params[0] == pytest.approx(28 / 43.27 * 400, rel=0.01)
        else:
            assert not camera.has_prior_focal_length and camera.params[0] == pytest.approx(1.2 * 320)


def test_photos_from_two_cameras_get_a_camera_model_each(tmp_path):
    """Half the views from a second camera (smaller images, another EXIF model): two camera
    models, each with its own photos; EXIF make and model alone also separate same-size photos."""
    from PIL import Image

    folder = tmp_path / "photos"
    names = _write(folder, synthetic.cameras(4, 0.5))
    for name in names[1::2]:
        with Image.open(folder / name) as im:
            exif = Image.Exif()
            exif[0x0110] = "Second phone"
            im.resize((280, 210)).save(folder / name, exif=exif)
    groups = sfm.camera_groups(folder, names)
    assert sorted(map(sorted, groups)) == [sorted(names[0::2]), sorted(names[1::2])]
    with Image.open(folder / names[0]) as im:   # same size, another model: still its own camera
        exif = Image.Exif()
        exif[0x0110] = "Third phone"
        im.save(folder / names[0], exif=exif)
    assert len(sfm.camera_groups(folder, names)) == 3


def test_names_with_spaces_fall_back_to_colmaps_sequential_pairs(tmp_path, monkeypatch):
    """COLMAP's pair list splits on spaces, so photos named "IMG 0001.jpg" past the exhaustive
    threshold are matched by COLMAP's own sequential pairing (no loop) and still matched."""
    import pycolmap

    monkeypatch.setattr(sfm, "EXHAUSTIVE_UP_TO", 2)
    folder = tmp_path / "photos"
    for name in _write(folder, synthetic.cameras(24, 0.5)[:4]):
        (folder / name).rename(folder / name.replace("_", " "))
    names = sorted(p.name for p in folder.iterdir())
    database = tmp_path / "db.db"
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.sift.max_num_features = 1024
    sfm.extract(database, folder, names, pycolmap.ImageReaderOptions(), extraction, pycolmap.Device.cpu, None)
    assert sfm.match(database, names, pycolmap.Device.cpu, None) == "sequential"
    ids, graph = sfm.match_graph(database)
    assert all(graph[i] for i in ids)   # every photo has verified neighbours
