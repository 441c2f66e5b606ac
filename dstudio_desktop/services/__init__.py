"""Use cases: the one door for each kind of change, called by the CLI and the UI alike.

- ``geometry``: geometry entering a project, from files, a reconstruction result or a
  repaired part (``geometry_change`` builds the change; ``changes.land`` lands it)
- ``changes``: a change as one core command plus the asset bytes it needs, landed atomically
  in the store, or in the open editor as one undoable step
- ``models``: projects out to files and facts (export, info, stored meshes)
- ``versions``: saving a version with its thumbnail; restoring one
- ``review`` and ``report``: annotations, version diff, the review report
- ``images``: pictures of a stored project without a window
- ``sample``: the bundled sample project
"""
