#!/usr/bin/env bash
# Packs what `gpu-kit` needs to run on a machine with a GPU and no package registry (the `device` tool):
# .device-kit/ (git-ignored) holds the bundled script, this machine's node binary (gzip), Dawn's linux-x64
# build as node_modules/webgpu, and Debian's Vulkan loader (.deb). Then, with the device tool:
#   run(command: 'bash tools/bench/device-run.sh', carry: ['.device-kit'])
# Output: one JSON line per case (docs/benchmarks.md "attention on a GPU" takes them).
set -euo pipefail
cd "$(dirname "$0")/../.."
kit=.device-kit
rm -rf "$kit"
mkdir -p "$kit/node_modules/webgpu/dist/linux-x64"
esbuild=$(ls -d node_modules/.pnpm/esbuild@*/node_modules/esbuild/bin/esbuild | tail -1)
"$esbuild" tools/bench/src/gpu-kit.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --log-level=warning --outfile="$kit/gpu-kit.mjs"
webgpu=$(ls -d node_modules/.pnpm/webgpu@*/node_modules/webgpu | tail -1)
cp "$webgpu/index.js" "$webgpu/package.json" "$kit/node_modules/webgpu/"
gzip -c "$webgpu/dist/linux-x64/dawn.node" > "$kit/node_modules/webgpu/dist/linux-x64/dawn.node.gz"
gzip -c "$(readlink -f "$(command -v node)")" > "$kit/node.gz"
(cd "$kit" && apt-get download libvulkan1 >/dev/null)
du -sh "$kit"
