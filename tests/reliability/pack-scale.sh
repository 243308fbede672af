#!/usr/bin/env bash
# pack-scale.sh [OUTDIR]  (default .scale; from the project root, after npm install)
# Packs the real-peer scale run (tests/reliability/scale-main.ts and the peer entry it starts) with
# node into one folder for a many-core x86-64 Linux host without Node.js or npm. On the host:
#   bash OUTDIR/run-scale.sh [--peers 64] [--topology both] [--out scale.json]
set -euo pipefail
out=${1:-.scale}
. "$(dirname "$0")/../../scripts/pack-lib.sh"
mkdir -p "$out"
pack_bundle tests/reliability/scale-peer-cli.ts "$out/peer" peer.mjs
pack_bundle tests/reliability/scale-main.ts "$out/main" scale.mjs
pack_node "$out"
cat > "$out/run-scale.sh" <<'RUN'
#!/usr/bin/env bash
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/host.sh"
ulimit -n 65536 2>/dev/null || true
exec "$here/node" "$here/main/app/scale.mjs" --peer-bundle "$here/peer/app/peer.mjs" "$@"
RUN
chmod +x "$out/run-scale.sh"
du -sh "$out"
