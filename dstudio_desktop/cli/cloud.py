"""Handlers for cloud work: ``dstudio reconstruct ... --cloud``, ``dstudio export ... --cloud PRESET``,
``dstudio jobs list|show|cancel|wait`` and ``dstudio credits``. Each one is a thin shell over ``services.cloud_jobs``."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..errors import Cancelled
from .common import _run_cancellable, _workspace
from .output import Output


def register(add: Callable[..., argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """The ``jobs`` and ``credits`` commands (``reconstruct --cloud`` is an option of reconstruct)."""
    p = add("jobs", cmd_jobs, "list, follow and cancel the organisation's cloud jobs")
    jsub = p.add_subparsers(dest="jobs_cmd", metavar="ACTION", required=True)
    j = jsub.add_parser("list", help="the most recent jobs", parents=[common])
    j.add_argument("--limit", type=int, default=20)
    for action, what in (("show", "one job's row"), ("cancel", "cancel a queued or running job (its hold comes back)"),
                         ("wait", "follow a job until it ends")):
        j = jsub.add_parser(action, help=what, parents=[common])
        j.add_argument("id", help="the job's id")
        if action == "wait":
            j.add_argument("--project", help="land the result in this project (asset + node + version)")
            j.add_argument("-o", "--output", help="also write the mesh here (.glb)")
    p = add("credits", cmd_credits, "the organisation's balance and its recent ledger (holds, settlements, refunds)")
    p.add_argument("--limit", type=int, default=15, help="ledger entries to show")


@contextmanager
def _cloud() -> Iterator:
    from ..services import cloud_jobs

    with _workspace() as ws:
        cloud = cloud_jobs.connect(ws)
        try:
            yield ws, cloud
        finally:
            cloud.close()


def _land(out: Output, ws, cloud, job: dict, project: str | None, output: str | None) -> dict:
    from ..services import cloud_jobs

    result: dict = {}
    if output:
        data = cloud.client.download("assets", job["outputs"]["glb"]["path"])
        Path(output).write_bytes(data)
        result["output"] = output
    if project:
        imported, version = _run_cancellable(out, lambda token: cloud_jobs.land_job(
            ws, cloud, job, project, progress=out.progress, cancel=token))
        result.update(node_id=imported.nodes[0].id, asset_id=imported.assets[0].id, version=version.version_number)
    return result


def _ended(out: Output, ws, cloud, job: dict, project: str | None, output: str | None) -> int:
    from ..services import cloud_jobs

    lines = [f"job {job['id']}: {cloud_jobs.describe(job)}"]
    result = {"job": job}
    if job["status"] == "completed":
        landed = _land(out, ws, cloud, job, project, output)
        result.update(landed)
        if "output" in landed:
            lines.append(f"wrote {landed['output']}")
        if "version" in landed:
            lines.append(f"added node {landed['node_id']} to {project}; saved version {landed['version']}")
    out.result(result, "\n".join(lines))
    return 0 if job["status"] == "completed" else 1


def _wait(out: Output, cloud, job_id: str) -> dict | None:
    """The job once it has ended, followed with a progress bar; None when Ctrl+C cancelled it
    (its hold comes back)."""
    from ..services import cloud_jobs

    try:
        return _run_cancellable(out, lambda token: cloud_jobs.wait_job(cloud, job_id, out.progress, token))
    except Cancelled:
        cloud_jobs.cancel_job(cloud, job_id)
        out.error(f"cancelled job {job_id}; its credits were refunded")
        return None


def _follow(out: Output, ws, cloud, job_id: str, project: str | None, output: str | None) -> int:
    job = _wait(out, cloud, job_id)
    return 130 if job is None else _ended(out, ws, cloud, job, project, output)


def _confirmed(out: Output, args: argparse.Namespace, what: str, quote) -> bool:
    """The price shown, and accepted by --yes or at the terminal's question."""
    print(f"{what}: {quote.summary()}", file=sys.stderr)
    if args.yes:
        return True
    if not sys.stdin.isatty():
        out.error("not confirmed: pass --yes to accept the price without a question")
        return False
    if input(f"Spend {quote.credits} credits? [y/N] ").strip().lower() not in ("y", "yes"):
        out.error("not submitted")
        return False
    return True


def cmd_reconstruct_cloud(args: argparse.Namespace, out: Output) -> int:
    from ..services import cloud_jobs

    output = Path(args.output)
    with _cloud() as (ws, cloud):
        if args.project:
            ws.require(args.project, "edit")
            project_id = ws.resolve_project(args.project)
        else:
            project_id = None
        photos = cloud_jobs.photo_set(args.images)
        quote = cloud_jobs.quote_reconstruction(cloud, photos, args.quality)
        if not quote.sufficient:
            raise cloud_jobs.ShortBalance(quote.credits, quote.balance)
        if not _confirmed(out, args, f"cloud reconstruction of {len(photos.photos)} photos", quote):
            return 1 if args.yes or sys.stdin.isatty() else 2
        job = _run_cancellable(out, lambda token: cloud_jobs.submit_reconstruction(
            cloud, photos, args.quality, project_id=project_id, quote=quote, progress=out.progress, cancel=token))
        print(f"submitted job {job['id']} ({job['credits_estimated']} credits held)", file=sys.stderr)
        if args.no_wait:
            out.result({"job": job}, job["id"])
            return 0
        return _follow(out, ws, cloud, job["id"], args.project, str(output))


def cmd_export_cloud(args: argparse.Namespace, out: Output) -> int:
    """``dstudio export PROJECT -o OUT.glb --cloud PRESET``: the project's GLB optimised on the
    server (gltfpack) at the quoted price, written to OUT (and its levels of detail beside it)."""
    from ..services import cloud_jobs

    output = Path(args.output)
    if output.suffix.lower() != ".glb":
        out.error(f"{output}: a cloud export writes .glb files; export other formats on this computer (free)")
        return 2
    if args.node:
        out.error("a cloud export optimises the whole project: leave out --node, or export the node here (free)")
        return 2
    with _cloud() as (ws, cloud):
        ws.resolve_project(args.project)   # an unknown project is named before anything is asked
        quote = cloud_jobs.quote_export(cloud, args.cloud)
        if not quote.sufficient:
            raise cloud_jobs.ShortBalance(quote.credits, quote.balance)
        what = f"cloud export ({args.cloud}: {cloud_jobs.EXPORT_PRESETS[args.cloud]})"
        if not _confirmed(out, args, what, quote):
            return 1 if args.yes or sys.stdin.isatty() else 2
        job = _run_cancellable(out, lambda token: cloud_jobs.submit_export(ws, cloud, args.project, args.cloud,
                                                                           quote=quote))
        print(f"submitted job {job['id']} ({job['credits_estimated']} credits held)", file=sys.stderr)
        if args.no_wait:
            out.result({"job": job}, job["id"])
            return 0
        job = _wait(out, cloud, job["id"])
        if job is None:
            return 130
        lines = [f"job {job['id']}: {cloud_jobs.describe(job)}"]
        written = []
        if job["status"] == "completed":
            written = [str(p) for p in cloud_jobs.write_export(cloud, job, output)]
            lines += [f"wrote {p}" for p in written]
        out.result({"job": job, "files": written}, "\n".join(lines))
        return 0 if job["status"] == "completed" else 1


def cmd_jobs(args: argparse.Namespace, out: Output) -> int:
    from ..services import cloud_jobs

    with _cloud() as (ws, cloud):
        if args.jobs_cmd == "list":
            jobs = cloud_jobs.list_jobs(cloud, args.limit)
            lines = [f"{j['id']}  {j['created_at'][:19]}  {cloud_jobs.describe(j)}" for j in jobs] or ["no jobs"]
            out.result(jobs, "\n".join(lines))
            return 0
        if args.jobs_cmd == "show":
            job = cloud_jobs.get_job(cloud, args.id)
            out.result(job, "\n".join(f"{k}: {v}" for k, v in job.items()))
            return 0
        if args.jobs_cmd == "cancel":
            job = cloud_jobs.cancel_job(cloud, args.id)
            out.result(job, f"cancelled job {job['id']}; {job['credits_estimated']} credits refunded")
            return 0
        return _follow(out, ws, cloud, args.id, args.project, args.output)


def cmd_credits(args: argparse.Namespace, out: Output) -> int:
    from ..services import cloud_jobs

    with _cloud() as (ws, cloud):
        info = cloud_jobs.credits(cloud, args.limit)
    b = info["balance"]
    lines = [f"balance {b['balance']} credits ({b['monthly_remaining']} of this month's {b['monthly_allocation']} "
             f"+ {b['purchased_balance']} purchased)"]
    lines += [f"  {e['created_at'][:19]}  {e['delta']:+6d}  = {e['running_balance']:6d}  {e['category']:10s} "
              f"{e['reason']}" for e in info["ledger"]]
    out.result(info, "\n".join(lines))
    return 0
