"""Random sequences of offline edits, syncs and faults on two desktops always end with both
converged and equal to the server."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dstudio_desktop.core.commands import SetNodeField
from dstudio_desktop.services import review

from .test_faults import DropResponse, NoNetwork
from .test_sync import _local_state, _new_project, _server_state

OPS = st.lists(st.tuples(st.sampled_from(["version", "annotate", "reply", "resolve", "edit", "sync", "sync_lost",
                                          "sync_offline"]),
                         st.integers(0, 1), st.integers(0, 50)), min_size=1, max_size=14)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_offline_work_with_faults_converges(team, tmp_path_factory, ops):
    a, b, _ = team
    project = _new_project(a.ws, tmp_path_factory.mktemp("part"))
    assert a.sync().state == "up to date" and b.sync().state == "up to date"
    desktops = (a, b)
    for op, who, n in ops:
        d = desktops[who]
        p = d.ws.load_project(project.id)
        notes = [x for x in d.ws.list_annotations(project.id) if x.parent_id is None]
        if op == "version":
            d.ws.save_version(project.id, notes=f"v by {who}")
        elif op == "annotate":
            review.add(d.ws, p, f"note {n} by {who}", None, None)
        elif op == "reply" and notes:
            review.reply(d.ws, p, notes[n % len(notes)].id, f"reply {n} by {who}")
        elif op == "resolve" and notes:
            note = notes[n % len(notes)]
            review.set_resolved(d.ws, p, note.id, not note.resolved)
        elif op == "edit":
            node = next(x for x, _ in p.scene_graph.walk())
            SetNodeField(node.id, "name", f"part {n} by {who}").do(p)
            d.ws.save_project(p)
        elif op == "sync":
            d.sync()
        elif op == "sync_lost":
            d.sync(transport=DropResponse("/rest/v1/rpc/apply_mutations"))
        elif op == "sync_offline":
            d.sync(transport=NoNetwork())
    for d in (a, b, a, b, a, b):  # the network is back for good
        assert d.sync().state == "up to date"
    server = _server_state(a.api, project.id)
    numbers = [n for _, n in server["versions"]]
    assert numbers == list(range(1, len(numbers) + 1))
    for d in (a, b):
        assert d.ws.outbox() == []
        local = _local_state(d, project.id)
        assert {k: local[k] for k in ("versions", "annotations", "replies")} == \
            {k: server[k] for k in ("versions", "annotations", "replies")}
    scene = [json.dumps(d.ws.load_project(project.id).scene_graph.to_json(), sort_keys=True) for d in (a, b)]
    assert scene[0] == scene[1]
