"""`dstudio reconstruct` on the 24-image synthetic scene (640x480) and on the path-traced
product set (tests/data/pathtraced: 36 JPEGs at 800x600 rendered by Blender's Cycles), with
COLMAP's own CLI (Debian's `colmap`) running feature extraction, exhaustive matching and
mapping on the same images in the same run.

    python benchmarks/reconstruct_bench.py [synthetic] [pathtraced] [global] [--code DIR]
        [--qualities draft,normal] [--keep DIR] [--counts 120,300]

``--code`` runs the reconstruction from another checkout (the figures before a change);
``--keep`` copies each path-traced result (GLB and report) there.
For the path-traced set it prints photos placed, F-score at 1, 2, 3 and 5% of the object's
size, seconds, and the photos COLMAP's CLI placed.

Prints the time per stage at each quality, the F-score at 3% of the object's size, and the
ratio of our structure-from-motion stage (pycolmap, the same algorithms) to COLMAP's CLI.
COLMAP's CLI stops at a sparse model; the rest of our time is the dense stages it has no
CPU path for (its PatchMatch stereo needs CUDA)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import trimesh

from gpu import evaluate, synthetic

QUALITIES = ("draft", "normal")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _colmap(images: Path, work: Path) -> dict | None:
    """COLMAP's CLI on ``images``: seconds per step and the photos its largest model placed.

    Its SIFT gets the help ours has, domain-size pooling, and our draft's 4,096 features: with
    its defaults (no pooling, up to 8,192) on the path-traced set only 3 of 271 verified pairs
    reached the mapper's 100 inliers for a first pair, every start grew no further, and the
    mapper exited 1 ("No good initial image pair found"), and its brute-force CPU matcher took
    50 minutes on the loaded machine for those features."""
    exe = shutil.which("colmap")
    if exe is None:
        return None
    db, sparse = work / "colmap.db", work / "colmap_sparse"
    sparse.mkdir(parents=True, exist_ok=True)
    steps = {
        "features": [exe, "feature_extractor", "--database_path", db, "--image_path", images,
                     "--ImageReader.single_camera", "1", "--ImageReader.camera_model", "SIMPLE_RADIAL",
                     "--SiftExtraction.use_gpu", "0", "--SiftExtraction.domain_size_pooling", "1",
                     "--SiftExtraction.max_num_features", "4096"],
        "matching": [exe, "exhaustive_matcher", "--database_path", db, "--SiftMatching.use_gpu", "0"],
        "mapping": [exe, "mapper", "--database_path", db, "--image_path", images, "--output_path", sparse],
    }
    times = {}
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for name, cmd in steps.items():
        start = time.perf_counter()
        proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env=env)
        times[name] = time.perf_counter() - start
        if proc.returncode != 0:   # say why, rather than a figure of nothing placed
            lines = [line for line in proc.stderr.splitlines() if line.strip()]
            times["failed"] = f"{name} exited {proc.returncode}: {lines[-1] if lines else '(no message)'}"
            break
    times["total"] = sum(times[name] for name in steps if name in times)
    import pycolmap

    models = [pycolmap.Reconstruction(d) for d in sorted(sparse.iterdir()) if (d / "images.bin").exists()]
    times["registered"] = max((m.num_reg_images() for m in models), default=0)
    times["points"] = max((len(m.points3D) for m in models), default=0)
    return times


def _f_score(glb: Path, report: dict) -> float:
    mesh = trimesh.load(glb, force="mesh")
    samples, _ = trimesh.sample.sample_surface(mesh, 40000, seed=1)
    truth = synthetic.surface_samples(60000)
    seen = synthetic.views_seeing(truth, synthetic.cameras()) >= 2
    centres = np.array([i["center"] for i in report["images"]])
    true_centres = np.array([c.centre for c in synthetic.cameras()])
    return evaluate.score(np.asarray(samples), truth, centres, true_centres, 0.03 * synthetic.object_size(),
                          seen).f_score


def _reconstruct(images: Path, out: Path, report_path: Path, quality: str, home: Path, code: Path
                 ) -> tuple[float, str | None]:
    """Seconds, and the CLI's last error line when it failed."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "dstudio_desktop", "reconstruct", str(images), "-o", str(out),
                           "--report", str(report_path), "--quality", quality], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, cwd=code,
                          env={**os.environ, "DSTUDIO_HOME": str(home), "PYTHONPATH": str(code)})
    failed = None if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
    return time.perf_counter() - start, failed


def pathtraced_set(code: Path = REPO, qualities: tuple[str, ...] = QUALITIES, keep: Path | None = None) -> dict:
    from gpu.scenes import pathtraced

    truth = pathtraced.load()
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for quality in qualities:
            out, report_path = tmp / f"{quality}.glb", tmp / f"{quality}.json"
            wall, failed = _reconstruct(truth.images, out, report_path, quality, tmp / "home", code)
            if failed:
                results[quality] = {"wall_s": wall, "failed": failed}
                continue
            report = json.loads(report_path.read_text())
            if keep is not None:   # the results themselves, to look at
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(out, keep / out.name)
                shutil.copy(report_path, keep / report_path.name)
            results[quality] = {"wall_s": wall, "timings": report["timings"], "points": report["num_points"],
                                "why": report.get("unregistered_why", {}), "colour": report["colour"],
                                "colour_error": pathtraced.colour_error(out, report, truth),
                                **pathtraced.score_result(out, report, truth)}
        results["colmap"] = _colmap(truth.images, tmp)
    n = len(truth.cameras)
    print(f"Reconstruction of the path-traced product set: {n} JPEGs, 800x600, CPU (2 cores); code {code}")
    print(f"{'':10s}{'placed':>8s}{'points':>8s}" + "".join(f"{'F@' + f:>8s}" for f in ("1%", "2%", "3%", "5%"))
          + f"{'P@3%':>7s}{'R@3%':>7s}{'seconds':>9s}{'colour err':>11s}  (mean |sRGB| on the held-out views)")
    for quality in qualities:
        r = results[quality]
        if "failed" in r:
            print(f"{quality:10s} failed after {r['wall_s']:.0f} s: {r['failed']}")
            continue
        sc = r["scores"]
        print(f"{quality:10s}{r['registered']:>5d}/{n}{r['points']:8d}"
              + "".join(f"{sc[f]['f']:8.3f}" for f in ("1%", "2%", "3%", "5%"))
              + f"{sc['3%']['precision']:7.3f}{sc['3%']['recall']:7.3f}{r['wall_s']:9.1f}{r['colour_error']:11.4f}"
              + f"  {r['colour']}")
        print("    stages: " + ", ".join(f"{k} {v:.1f}" for k, v in r["timings"].items()) + " s")
        for name, why in r["why"].items():
            print(f"    not placed {name}: {why}")
    colmap = results["colmap"]
    if colmap is None:
        print("COLMAP CLI not found (apt-get install colmap); no peer figure")
    else:
        print(f"COLMAP CLI (exhaustive, SIFT with domain-size pooling, 4096 features): placed {colmap['registered']}/{n}, {colmap['points']} points, "
              f"{colmap['total']:.1f} s" + (f" ({colmap['failed']})" if "failed" in colmap else ""))
    return results


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    code, qualities = REPO, QUALITIES
    if "--code" in argv:
        i = argv.index("--code")
        code = Path(argv.pop(i + 1)).resolve()
        argv.pop(i)
    keep = None
    if "--keep" in argv:
        i = argv.index("--keep")
        keep = Path(argv.pop(i + 1)).resolve()
        argv.pop(i)
    if "--qualities" in argv:
        i = argv.index("--qualities")
        qualities = tuple(argv.pop(i + 1).split(","))
        argv.pop(i)
    counts = (300,)
    if "--counts" in argv:   # the set sizes of the global section
        i = argv.index("--counts")
        counts = tuple(int(c) for c in argv.pop(i + 1).split(","))
        argv.pop(i)
    sets = argv or ["synthetic", "pathtraced"]
    results = {}
    if "synthetic" in sets:
        results["synthetic"] = synthetic_set()
    if "pathtraced" in sets:
        results["pathtraced"] = pathtraced_set(code, qualities, keep)
    if "global" in sets:
        results["global"] = global_against_incremental(counts)
    return results


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def _map_once(kind: str, db: Path, images: Path, target: Path, true_centres: dict) -> dict:
    """One mapping of the matched database: seconds (wall and this process's CPU, all threads),
    images placed in the largest model, and its camera centres' error after a similarity fit."""
    import pycolmap

    target.mkdir()
    wall, cpu = time.perf_counter(), time.process_time()
    if kind == "global":
        models = pycolmap.global_mapping(db, images, target)
    else:
        models = pycolmap.incremental_mapping(db, images, target)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    best = max(models.values(), key=lambda m: m.num_reg_images()) if models else None
    placed = [im for im in best.images.values() if im.has_pose] if best else []
    rms = float("nan")
    if len(placed) >= 3:
        found = np.array([im.projection_center() for im in placed])
        truth = np.array([true_centres[im.name] for im in placed])
        s, R, t = evaluate.similarity(found, truth)
        rms = float(np.sqrt(((s * found @ R.T + t - truth) ** 2).sum(1).mean()))
    return {"seconds": wall, "cpu_s": cpu, "registered": len(placed), "centre_rms": rms,
            "points": len(best.points3D) if best else 0, "load": _load()}


def global_against_incremental(counts: tuple[int, ...] = (300,), scale: float = 0.5) -> dict:
    """Sets of hundreds (the synthetic scene, ``count`` views at 320x240 on two rings): features
    and matching once, as gpu/sfm.py does them (a camera per camera; loop pairs past
    EXHAUSTIVE_UP_TO images), then pycolmap's incremental mapping and its global mapping
    (GLOMAP) on the same database, each timed (wall and CPU), each scored by its camera centres
    against the true ones. gpu/sfm.py's GLOBAL_FROM comes from these figures."""
    import pycolmap
    from PIL import Image

    from gpu import sfm

    pycolmap.logging.minloglevel = 2
    results: dict = {}
    for count in counts:
        cams = synthetic.cameras(count, scale)
        out: dict = {"images": count}
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            images = tmp / "photos"
            images.mkdir()
            start = time.perf_counter()
            for cam in cams:
                Image.fromarray(synthetic.render(cam)).save(images / f"{cam.name}.jpg", quality=92)
            out["render_s"] = time.perf_counter() - start
            names = sorted(p.name for p in images.iterdir())
            db = tmp / "db.db"
            start = time.perf_counter()
            sfm.extract(db, images, names, pycolmap.ImageReaderOptions(), pycolmap.FeatureExtractionOptions(),
                        pycolmap.Device.cpu, None)
            out["features_s"] = time.perf_counter() - start
            start = time.perf_counter()
            out["matching"] = sfm.match(db, names, pycolmap.Device.cpu, None)
            out["matching_s"] = time.perf_counter() - start
            true_centres = {f"{c.name}.jpg": c.centre for c in cams}
            for kind in ("incremental", "global"):
                out[kind] = _map_once(kind, db, images, tmp / kind, true_centres)
        results[count] = out
        print(f"Mapping {count} images (synthetic, {cams[0].K[0, 2] * 2:.0f}x{cams[0].K[1, 2] * 2:.0f}, "
              f"{out['matching']} matching): pycolmap {pycolmap.__version__}, CPU (2 cores shared)")
        print(f"  render {out['render_s']:.0f} s, features {out['features_s']:.0f} s, matching "
              f"{out['matching_s']:.0f} s")
        for kind in ("incremental", "global"):
            r = out[kind]
            print(f"  {kind:12s} {r['seconds']:7.1f} s wall {r['cpu_s']:7.1f} s CPU  placed {r['registered']}/{count}"
                  f"  {r['points']} points  camera-centre rms {r['centre_rms']:.4f} (scene units; object size "
                  f"{synthetic.object_size():.2f})  [{r['load']}]")
        print(f"  global / incremental: {out['global']['seconds'] / out['incremental']['seconds']:.2f}x wall, "
              f"{out['global']['cpu_s'] / out['incremental']['cpu_s']:.2f}x CPU; gpu/sfm.py maps "
              f"{count} images {'globally' if count >= sfm.GLOBAL_FROM else 'incrementally'} "
              f"(GLOBAL_FROM = {sfm.GLOBAL_FROM})")
    return results


def synthetic_set() -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        images = tmp / "photos"
        synthetic.write_photo_set(images)
        (images / "ground_truth.json").unlink()
        for quality in QUALITIES:
            out, report_path = tmp / f"{quality}.glb", tmp / f"{quality}.json"
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "dstudio_desktop", "reconstruct", str(images), "-o", str(out),
                            "--report", str(report_path), "--quality", quality], check=True,
                           stdout=subprocess.DEVNULL, env={**os.environ, "DSTUDIO_HOME": str(tmp / "home")})
            wall = time.perf_counter() - start
            report = json.loads(report_path.read_text())
            results[quality] = {"wall_s": wall, "timings": report["timings"], "faces": report["faces"],
                                "f_score": _f_score(out, report)}
        results["colmap"] = _colmap(images, tmp)

    print("Reconstruction of the synthetic scene: 24 images, 640x480, CPU (2 cores)")
    stages = list(results[QUALITIES[0]]["timings"])
    print(f"{'stage':10s}" + "".join(f"{q:>10s}" for q in QUALITIES))
    for stage in stages:
        print(f"{stage:10s}" + "".join(f"{results[q]['timings'][stage]:9.1f}s" for q in QUALITIES))
    print(f"{'wall':10s}" + "".join(f"{results[q]['wall_s']:9.1f}s" for q in QUALITIES)
          + "   (the whole CLI: start-up, worker, every stage)")
    print(f"{'triangles':10s}" + "".join(f"{results[q]['faces']:10d}" for q in QUALITIES))
    print(f"{'F-score':10s}" + "".join(f"{results[q]['f_score']:10.3f}" for q in QUALITIES) + "   (at 3% of size)")
    colmap = results["colmap"]
    if colmap is None:
        print("COLMAP CLI not found (apt-get install colmap); no peer figure")
    else:
        ours = results["normal"]["timings"]["structure"]
        print(f"COLMAP CLI: placed {colmap['registered']}/24, {colmap['points']} points; features "
              f"{colmap['features']:.1f} s, matching {colmap.get('matching', 0):.1f} s, mapping "
              f"{colmap.get('mapping', 0):.1f} s, total {colmap['total']:.1f} s"
              + (f" ({colmap['failed']})" if "failed" in colmap else ""))
        print(f"our structure stage (normal) / COLMAP CLI sparse: {ours / colmap['total']:.2f}x; "
              f"our whole normal run / COLMAP sparse: {results['normal']['wall_s'] / colmap['total']:.2f}x")
    return results


if __name__ == "__main__":
    main()
