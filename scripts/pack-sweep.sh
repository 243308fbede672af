#!/usr/bin/env bash
# pack-sweep.sh [OUTDIR]  (default .sweep; from the project root, after npm install)
# Packs the gossipfl CLI into one folder that runs sweeps on a bare x86-64 Linux host without
# Node.js or npm (the recipe of docs/simulations.md): the CLI bundled with esbuild, a launcher,
# the wasm backend's .wasm files, the resvg addon, the MNIST digits (compressed) and this
# machine's node binary (compressed). On the host:
#   bash OUTDIR/run-sweep.sh SWEEP.yaml OUTPUT [sweep options...]
# runs `gossipfl sweep SWEEP.yaml --out OUTPUT ...`, then writes OUTPUT/run-info.json (the
# machine, the options, the wall time, the exit code), which simulations/lib/results-from-sweep.ts
# reads beside the run directories.
set -euo pipefail
out=${1:-.sweep}
. "$(dirname "$0")/pack-lib.sh"
pack_cli "$out"
pack_node "$out"
cat > "$out/run-sweep.sh" <<'EOF'
#!/usr/bin/env bash
# run-sweep.sh SWEEP.yaml OUTPUT [sweep options...]: a sweep with the packed CLI, then OUTPUT/run-info.json.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sweep=${1:?usage: run-sweep.sh SWEEP.yaml OUTPUT [options]}
output=${2:?usage: run-sweep.sh SWEEP.yaml OUTPUT [options]}
shift 2
. "$here/host.sh"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t0=$(date +%s)
"$here/node" "$here/app/launch.mjs" sweep "$sweep" --out "$output" "$@"
code=$?
GOSSIPFL_RUN_INFO="$(printf '%s\n' "$sweep" "$output" "$started" "$(( $(date +%s) - t0 ))" "$code" "$@")" "$here/node" --input-type=module -e '
import os from "node:os"; import { writeFileSync } from "node:fs"; import { basename } from "node:path";
const [sweepFile, output, startedAt, wall, code, ...opts] = process.env.GOSSIPFL_RUN_INFO.split("\n");
const value = (flag) => { const i = opts.indexOf(flag); return i >= 0 ? opts[i + 1] : undefined; };
const overrides = opts.flatMap((o, i) => (opts[i - 1] === "--set" ? [o] : []));
const info = { sweep: basename(output), sweepFile, workers: Number(value("--workers") ?? 1), overrides, exitCode: Number(code),
  stoppedAtDeadline: false, startedAt, wallSeconds: Number(wall), cores: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}`, cli: "bundle" };
writeFileSync(`${output}/run-info.json`, JSON.stringify(info, null, 2) + "\n");'
exit $code
EOF
chmod +x "$out/run-sweep.sh"
du -sh "$out"
echo "packed the CLI into $out; on the host: bash $out/run-sweep.sh SWEEP.yaml OUTPUT [--workers N --set backend=wasm ...]"
