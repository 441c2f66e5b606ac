"""``dstudio-worker``: a cloud worker of its own, with neither Qt nor vispy. It claims jobs from
the backend's queue (``claim_next_job``), keeps their leases with heartbeats, runs the same
pipeline entry point a local reconstruction runs, uploads the results under the organisation's
folder and completes or fails the job. Workers on any number of machines coordinate through
PostgreSQL alone (row locks and leases); none of them knows of another."""
