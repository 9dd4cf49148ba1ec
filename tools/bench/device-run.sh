#!/usr/bin/env bash
# Runs on the GPU machine (see device-kit.sh): unpacks the kit, finds the NVIDIA Vulkan driver, runs
# gpu-kit and keeps its output in $OUT/gpu-kit.jsonl.
set -uo pipefail
cd "$(dirname "$0")/../../.device-kit"
gunzip -kf node.gz node_modules/webgpu/dist/linux-x64/dawn.node.gz
chmod +x node
for f in *.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
./node gpu-kit.mjs "$@" 2>&1 | tee "${OUT:-/tmp}/gpu-kit.jsonl"
