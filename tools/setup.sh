#!/usr/bin/env bash
# Installs what a fresh Debian machine with Node 20 lacks, then the workspace's packages.
#  - Debian chromium + libvulkan1: SwiftShader, the CPU Vulkan driver that runs WebGPU with no GPU
#    (design.md "Running WebGPU with no GPU"), and the browser for e2e tests.
#  - pnpm 10 through corepack (npm as a fallback), pinned by package.json "packageManager".
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -f /usr/lib/chromium/vk_swiftshader_icd.json ] || need_apt+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' || need_apt+=(libvulkan1)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

want_pnpm=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null || true)" != "$want_pnpm" ]; then
  echo "setup: enabling pnpm $want_pnpm"
  # this registry serves no corepack signatures (toolchain.md)
  export COREPACK_INTEGRITY_KEYS=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0
  if ! { corepack enable && corepack prepare "pnpm@$want_pnpm" --activate; } >/dev/null 2>&1; then
    corepack disable pnpm 2>/dev/null || true
    npm install -g "pnpm@$want_pnpm" >/dev/null
  fi
fi

export TURBO_TELEMETRY_DISABLED=1
pnpm install --frozen-lockfile --reporter=silent
echo "setup: done (pnpm $(pnpm --version), node $(node --version))"
