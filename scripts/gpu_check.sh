#!/usr/bin/env bash
# The GPU check in one call, on a machine with an NVIDIA GPU and no network (see
# docs/performance.md, "GPU check"): sets the machine up from the bundle that
# scripts/gpu_bundle.ts builds in .gpu/ (carried with the working tree), then runs
# scripts/gpu_check.ts: the training jobs on tfjs' WebGPU backend and the nHSIC benchmarks,
# against PyTorch on CUDA, and one table of ratios. Under 8 minutes.
#
#   deno run -A scripts/gpu_bundle.ts        # here, once: .gpu/ (about 48 MiB)
#   bash scripts/gpu_check.sh [--rehearse]   # there (the device tool: carry [".gpu"])
#
# Exit status 2, with the reason, where there is no NVIDIA GPU, no Vulkan driver for WebGPU or
# no PyTorch with CUDA; --rehearse runs the steps on the CPU anyway (a test of the plumbing).
set -uo pipefail
cd "$(dirname "$0")/.."
bundle=.gpu
work=${GPU_CHECK_DIR:-/tmp/infoplane-gpu}
say() { echo "[gpu_check.sh] $*" >&2; }

if [[ " $* " != *" --rehearse "* ]]; then
  if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q GPU; then
    say "no NVIDIA GPU here (nvidia-smi is missing or lists no GPU): this check needs one."
    say "No GPU table can be made on this machine; see docs/performance.md, \"GPU check\"."
    exit 2
  fi
fi
if [[ ! -f $bundle/deno.xz || ! -f $bundle/node_modules.tar.xz ]]; then
  say "the bundle is missing: run 'deno run -A scripts/gpu_bundle.ts' where there is a network"
  say "and carry $bundle/ with the working tree"
  exit 2
fi
mkdir -p "$work"

# Deno
if ! "$work/deno" --version >/dev/null 2>&1; then
  xz -dc "$bundle/deno.xz" >"$work/deno" && chmod +x "$work/deno" || { say "cannot unpack deno"; exit 2; }
fi
export PATH="$work:$PATH" DENO_DIR="$work/deno_dir" DENO_NO_UPDATE_CHECK=1
say "$("$work/deno" --version | head -1)"

# node_modules (ignored by git: it does not travel with the working tree)
if [[ ! -f node_modules/.deno/.gpu-bundle ]]; then
  tar -xJf "$bundle/node_modules.tar.xz" && touch node_modules/.deno/.gpu-bundle ||
    { say "cannot unpack node_modules"; exit 2; }
fi

# The Vulkan loader, for Deno's WebGPU (wgpu on Vulkan), unless the system has one
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  for f in "$bundle"/debs/vulkan/*.deb; do [[ -f $f ]] && dpkg -x "$f" /; done
  ldconfig 2>/dev/null
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  say "no Vulkan loader (libvulkan.so.1) and none in $bundle/debs/vulkan: WebGPU cannot start"
fi
nv=/usr/local/nvidia/share
if [[ -f $nv/vulkan/icd.d/nvidia_icd.json && -z ${VK_DRIVER_FILES:-} ]]; then
  ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1 ||
    export VK_DRIVER_FILES=$nv/vulkan/icd.d/nvidia_icd.json
fi

# OpenBLAS for lib/nhsic's float64 work, unpacked beside (not over) the system's libraries
if [[ -z ${INFOPLANE_OPENBLAS:-} ]] && ls "$bundle"/debs/blas/*.deb >/dev/null 2>&1; then
  for f in "$bundle"/debs/blas/*.deb; do dpkg -x "$f" "$work/blas"; done
  lib=$work/blas/usr/lib/x86_64-linux-gnu
  so=$(ls "$lib"/openblas-pthread/libopenblas.so.0 2>/dev/null | head -1)
  if [[ -n $so ]]; then
    export INFOPLANE_OPENBLAS=$so LD_LIBRARY_PATH=$lib:$lib/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi
fi

# PyTorch: the image's python3 (the benches look for one that imports torch and numpy)
export PYTHONUNBUFFERED=1
exec "$work/deno" run --config=deno.json --cached-only -A scripts/gpu_check.ts "$@"
