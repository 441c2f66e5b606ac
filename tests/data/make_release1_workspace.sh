#!/usr/bin/env bash
# Makes tests/data/workspace_release1/: a workspace written by the first release's code
# (commit db84a4f, workspace schema 4, before the projects.revision column), for
# tests/store/test_upgrade_release1.py. Run from the repository: tests/data/make_release1_workspace.sh
# It checks that commit out in a throwaway git worktree and drives its own CLI, so the files are
# exactly what that release wrote.
set -euo pipefail
COMMIT=${1:-db84a4f}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=/work/main/.venv/bin/python
OUT=$REPO/tests/data/workspace_release1
TMP=$(mktemp -d)
trap 'git -C "$REPO" worktree remove --force "$TMP/src" >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT

git -C "$REPO" worktree add --detach "$TMP/src" "$COMMIT" >/dev/null
ln -s ../resources "$TMP/src/dstudio_desktop/resources"
export DSTUDIO_HOME=$TMP/home PYTHONPATH=$TMP/src
ds() { (cd "$TMP" && "$PYTHON" -m dstudio_desktop "$@"); }

# two small models of the formats a designer brings: an STL (mm, Z-up) and an OBJ
cat > "$TMP/wedge.stl" <<'STL'
solid wedge
facet normal 0 0 -1
 outer loop
  vertex 0 0 0
  vertex 0 20 0
  vertex 30 0 0
 endloop
endfacet
facet normal 0 -1 0
 outer loop
  vertex 0 0 0
  vertex 30 0 0
  vertex 0 0 10
 endloop
endfacet
facet normal -1 0 0
 outer loop
  vertex 0 0 0
  vertex 0 0 10
  vertex 0 20 0
 endloop
endfacet
facet normal 0.3 0.5 0.8
 outer loop
  vertex 30 0 0
  vertex 0 20 0
  vertex 0 0 10
 endloop
endfacet
endsolid wedge
STL
cat > "$TMP/tile.obj" <<'OBJ'
o tile
v 0 0 0
v 0.1 0 0
v 0.1 0 0.1
v 0 0 0.1
v 0 0.01 0
v 0.1 0.01 0
v 0.1 0.01 0.1
v 0 0.01 0.1
f 1 2 3 4
f 8 7 6 5
f 1 5 6 2
f 2 6 7 3
f 3 7 8 4
f 4 8 5 1
OBJ

ds sample >/dev/null
ds version save "Sample: desk lamp" -m "as shipped"
ds annotate add "Sample: desk lamp" --text "Shade a touch wider?" --point 0,0.3,0 >/dev/null
first=$(ds annotate list --json "Sample: desk lamp" | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
ds annotate reply "Sample: desk lamp" "$first" --text "Agreed, +5 mm" >/dev/null

ds new "Bracket" >/dev/null
ds import "Bracket" "$TMP/wedge.stl" >/dev/null
ds version save "Bracket" -m "wedge only"
ds import "Bracket" "$TMP/tile.obj" >/dev/null
ds version save "Bracket" -m "with the tile"
ds annotate add "Bracket" --text "Chamfer this edge" --node wedge --point 0.005,0,-0.005 >/dev/null
ds annotate resolve "Bracket" "$(ds annotate list --json Bracket | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")" >/dev/null
ds new "Empty idea" >/dev/null

"$PYTHON" - "$TMP/home/workspace.sqlite3" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("VACUUM")  # smaller, and everything in the main file (still in WAL mode, as the app left it)
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
PY
rm -rf "$OUT"
mkdir -p "$OUT"
cp "$TMP/home/workspace.sqlite3" "$OUT/"  # the -wal beside it is empty once checkpointed
cp -r "$TMP/home/blobs" "$OUT/"
rm -rf "$OUT/blobs/tmp"
echo "wrote $OUT ($(du -sh "$OUT" | cut -f1)) with the code at $COMMIT"
