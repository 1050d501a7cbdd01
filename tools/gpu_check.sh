#!/usr/bin/env bash
# StaticRnn's CUDA back end on a GPU machine, in one call: checks (benchmarks/StaticRnn.CudaBench `check`),
# timings (`bench`), the same models through PyTorch/cuDNN (tools/cudnn_bench.py) and a comparison table.
#
# Two halves, because the GPU machine has no .NET and no network:
#
#   bash tools/gpu_check.sh prepare     # HERE, in the checkout the session started in (the device tool sends that one):
#                                       # publishes the program self-contained for linux-x64 into .gpu/bench (git-ignored),
#                                       # checks its size and runs its no-GPU `check` once.
#   bash tools/gpu_check.sh device      # ON the GPU machine, from the repository root, with .gpu carried.
#
# Through the device tool (one call; about 3-5 minutes, each step has its own time limit, all together < 10 min):
#     run  command: "bash tools/gpu_check.sh device"   carry: [".gpu"]   timeout_s: 600
# The logs and JSON come back from $OUT (at most 8 files): gpu_check.log (everything), check.log, staticrnn.json,
# cudnn.json, summary.md. The reply's output tail ends with the comparison table.
#
# Exit status of `device`: 0 when every check passed and every step ran; 1 otherwise (the summary says which).
# Environment (optional): STATICRNN_NVRTC (path of libnvrtc.so.*; found automatically otherwise), BENCH_REPEATS (20),
# CHECK_TIMEOUT / BENCH_TIMEOUT / CUDNN_TIMEOUT (seconds: 200 / 150 / 180); CHECK_ARGS, BENCH_ARGS, CUDNN_ARGS: more
# arguments for the three programs (e.g. CHECK_ARGS="--model gru_16_64", CUDNN_ARGS="--device cpu --batch 256" for a dry
# run of this script without a GPU).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
PROJECT=benchmarks/StaticRnn.CudaBench/StaticRnn.CudaBench.csproj
BENCH_DIR=.gpu/bench
EXE=$BENCH_DIR/StaticRnn.CudaBench
# What the device tool carries: the working tree plus carried paths, 64 MiB in all. Leave room for the tree.
MAX_BENCH_BYTES=$((30 * 1024 * 1024))

prepare() {
    command -v dotnet >/dev/null || { echo "prepare: dotnet not found (the .NET 10 SDK is needed here)"; return 1; }
    if ! grep -qxF '/.gpu/' .gitignore 2>/dev/null; then
        echo '/.gpu/' >> .gitignore
        echo "prepare: added /.gpu/ to .gitignore"
    fi
    rm -rf "$BENCH_DIR" .gpu/out
    # Self-contained (no .NET there), one compressed file. Trimmed (TrimMode=partial: only the assemblies marked trimmable,
    # the framework and StaticRnn, whose trim analyzers are on; this program's own assembly is kept whole): untrimmed, the
    # runtime is 39 MB even compressed, and with the 33 MB working tree it would not fit the device tool's 64 MiB.
    # CUDABENCH_TRIM=none publishes untrimmed. Invariant globalization: no ICU is needed there.
    local trim=()
    [ "${CUDABENCH_TRIM:-partial}" = none ] || trim=(-p:CudaBenchTrim="${CUDABENCH_TRIM:-partial}")
    dotnet publish "$PROJECT" -c Release -r linux-x64 --self-contained -o "$BENCH_DIR" "${trim[@]}" \
        -p:InvariantGlobalization=true \
        -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true \
        -p:DebugType=none -p:PublishDocumentationFiles=false -p:PublishReferencesDocumentationFiles=false \
        || { echo "prepare: dotnet publish failed"; return 1; }
    [ -x "$EXE" ] || { echo "prepare: $EXE was not written"; return 1; }

    local bench_bytes tree_bytes
    bench_bytes=$(du -sb .gpu | cut -f1)
    tree_bytes=$( (git ls-files -co --exclude-standard -z 2>/dev/null || true) | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
    tree_bytes=${tree_bytes:-0}
    echo "prepare: .gpu is $((bench_bytes / 1024)) KiB ($(ls "$BENCH_DIR" | tr '\n' ' ')); the working tree that travels" \
         "is $((tree_bytes / 1024)) KiB; together $(((bench_bytes + tree_bytes) / 1024)) KiB of the 65536 KiB allowed"
    if [ "$bench_bytes" -gt "$MAX_BENCH_BYTES" ] || [ $((bench_bytes + tree_bytes)) -gt $((60 * 1024 * 1024)) ]; then
        echo "prepare: too large to carry"; return 1
    fi

    # The published program's no-GPU path, here: the CPU-vs-PyTorch checks must pass.
    echo "prepare: running the published program's check here (no GPU expected):"
    local out rc
    out=$("$EXE" check 2>&1); rc=$?
    echo "$out" | sed 's/^/    /'
    [ $rc -eq 0 ] || { echo "prepare: the published program's check failed here (exit $rc)"; return 1; }
    echo "prepare: done. On the GPU machine: bash tools/gpu_check.sh device   (carry .gpu)"
}

# ---------------------------------------------------------------------------------------------------------------------

section() { printf '\n===== %s =====\n' "$*"; }

# Prints the path of the NVRTC library to use: STATICRNN_NVRTC if set, else the CUDA toolkit's, else one from
# ldconfig, else one from Python's nvidia-* wheels. Prefers the CUDA major version the driver reports.
find_nvrtc() {
    local major="$1" c
    local -a found=()
    for c in /usr/local/cuda/lib64/libnvrtc.so* /usr/local/cuda/targets/x86_64-linux/lib/libnvrtc.so* \
             /usr/local/cuda-*/lib64/libnvrtc.so* /usr/local/cuda-*/targets/x86_64-linux/lib/libnvrtc.so*; do
        [ -f "$c" ] && found+=("$c")
    done
    while read -r c; do [ -f "$c" ] && found+=("$c"); done < <(ldconfig -p 2>/dev/null | awk '/libnvrtc\.so/ && !/builtins/ {print $NF}')
    while read -r c; do [ -f "$c" ] && found+=("$c"); done < <(python3 - 2>/dev/null <<'PY'
import glob, os, site, sys
dirs = set(site.getsitepackages() + [site.getusersitepackages()] + [p for p in sys.path if p.endswith("-packages")])
for d in sorted(dirs):
    for f in sorted(glob.glob(os.path.join(d, "nvidia", "**", "libnvrtc.so*"), recursive=True)):
        if "builtins" not in f:
            print(f)
PY
)
    for c in "${found[@]}"; do echo "  candidate: $c" >&2; done
    for c in "${found[@]}"; do
        case "$(basename "$c")" in *builtins*) continue ;; libnvrtc.so."$major"*) echo "$c"; return 0 ;; esac
    done
    for c in "${found[@]}"; do case "$(basename "$c")" in *builtins*) ;; *) echo "$c"; return 0 ;; esac; done
    return 1
}

device() {
    if [ -z "${OUT:-}" ]; then OUT="$ROOT/.gpu/out"; fi
    mkdir -p "$OUT"
    device_steps 2>&1 | tee -a "$OUT/gpu_check.log"
    return "${PIPESTATUS[0]}"
}

device_steps() {
    local started=$SECONDS failures=()
    echo "gpu_check.sh device: $(date -u +%FT%TZ), $(uname -srm), repository $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

    section "machine"
    if ! nvidia-smi; then failures+=("nvidia-smi failed: no NVIDIA driver or GPU"); fi
    nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total,clocks.sm,clocks.max.sm,power.limit,temperature.gpu,persistence_mode \
        --format=csv 2>&1
    local cuda_major
    cuda_major=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9]*\).*/\1/p' | head -1)
    echo "driver's CUDA version major: ${cuda_major:-?}"
    if command -v nvcc >/dev/null; then nvcc --version | tail -2
    else ls /usr/local/cuda*/bin/nvcc 2>/dev/null && /usr/local/cuda/bin/nvcc --version 2>/dev/null | tail -2 || echo "nvcc: not found"; fi
    python3 -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'cuDNN', torch.backends.cudnn.version(), 'GPU', torch.cuda.is_available())" 2>&1
    echo "CPU: $(nproc) threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"; free -g | head -2

    section "NVRTC"
    local nvrtc="" on_default=0
    if ldconfig -p 2>/dev/null | grep -q 'libnvrtc\.so'; then on_default=1; fi
    if [ -n "${STATICRNN_NVRTC:-}" ]; then
        echo "STATICRNN_NVRTC given: $STATICRNN_NVRTC"; nvrtc=$STATICRNN_NVRTC
    else
        nvrtc=$(find_nvrtc "${cuda_major:-13}") || nvrtc=""
        if [ -z "$nvrtc" ]; then
            echo "no libnvrtc.so found"; failures+=("no NVRTC library found")
        elif [ $on_default = 1 ]; then
            echo "NVRTC is on the default search path (ldconfig); STATICRNN_NVRTC left unset (would be $nvrtc)"
        else
            export STATICRNN_NVRTC="$nvrtc"
            echo "STATICRNN_NVRTC=$STATICRNN_NVRTC"
        fi
    fi
    if [ -n "$nvrtc" ]; then export LD_LIBRARY_PATH="$(dirname "$nvrtc")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
    STATICRNN_CUDA_CACHE=$(mktemp -d /tmp/staticrnn-cuda-cache.XXXXXX)
    export STATICRNN_CUDA_CACHE DOTNET_BUNDLE_EXTRACT_BASE_DIR=/tmp/dotnet-bundle
    echo "STATICRNN_CUDA_CACHE=$STATICRNN_CUDA_CACHE"

    if [ ! -f "$EXE" ]; then
        echo "$EXE is missing: run 'bash tools/gpu_check.sh prepare' here first and carry .gpu"
        failures+=("$EXE missing (prepare not run, or .gpu not carried)")
    else
        chmod +x "$EXE"

        section "StaticRnn.CudaBench check"
        timeout "${CHECK_TIMEOUT:-200}" "$EXE" check ${CHECK_ARGS:-} 2>&1 | tee "$OUT/check.log"
        local rc=${PIPESTATUS[0]}
        if grep -q "no CUDA device" "$OUT/check.log" && [ -z "${STATICRNN_NVRTC:-}" ] && [ -n "$nvrtc" ]; then
            echo "StaticRnn found no CUDA device; again with STATICRNN_NVRTC=$nvrtc"
            export STATICRNN_NVRTC="$nvrtc"
            timeout "${CHECK_TIMEOUT:-200}" "$EXE" check ${CHECK_ARGS:-} 2>&1 | tee "$OUT/check.log"
            rc=${PIPESTATUS[0]}
        fi
        if [ "$rc" -ne 0 ]; then failures+=("check: exit $rc$( [ "$rc" = 124 ] && echo ' (timed out)')"); fi
        if grep -q "no CUDA device\|built without the CUDA back end" "$OUT/check.log"; then
            failures+=("check: StaticRnn ran no GPU checks on a GPU machine ($(grep -m1 'CUDA unavailable\|built without' "$OUT/check.log"))")
        fi

        section "StaticRnn.CudaBench bench"
        timeout "${BENCH_TIMEOUT:-150}" "$EXE" bench --repeats "${BENCH_REPEATS:-20}" --json "$OUT/staticrnn.json" ${BENCH_ARGS:-} 2>&1
        rc=$?
        if [ "$rc" -ne 0 ]; then failures+=("bench: exit $rc$( [ "$rc" = 124 ] && echo ' (timed out)')"); fi
    fi

    section "PyTorch / cuDNN (tools/cudnn_bench.py)"
    PYTHONUNBUFFERED=1 timeout "${CUDNN_TIMEOUT:-180}" python3 tools/cudnn_bench.py --repeats "${BENCH_REPEATS:-20}" --json "$OUT/cudnn.json" ${CUDNN_ARGS:-} 2>&1
    local rc=$?
    if [ "$rc" -ne 0 ]; then failures+=("cudnn_bench.py: exit $rc$( [ "$rc" = 124 ] && echo ' (timed out)')"); fi

    section "comparison"
    python3 - "$OUT/staticrnn.json" "$OUT/cudnn.json" "$OUT/summary.md" <<'PY' || failures+=("comparison: could not be made")
import json, os, sys
sr_path, cu_path, out_path = sys.argv[1:4]
def load(p):
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"{p}: {e}")
        return None
sr, cu = load(sr_path), load(cu_path)
if sr is None or cu is None:
    sys.exit(1)
def rate(v):
    return "-" if v is None else (f"{v / 1e6:.2f} M" if v >= 1e6 else f"{v / 1e3:.1f} k")
def ratio(a, b):
    return None if a is None or not b else a / b
def fx(v):
    return "-" if v is None else f"{v:.2f}x"
cu_models = {m["name"]: m for m in cu["models"]}
lines = [f"StaticRnn CUDA vs PyTorch {cu['torch']} cuDNN {cu['cudnn']} on {sr.get('device')} "
         f"(cc {sr.get('computeCapability')}), batch {sr['batch']}, T = 100, fp32; medians of {sr['repeats']} runs",
         "",
         "| model | StaticRnn resident seq/s | cuDNN fp32 resident seq/s | ratio (target >= 2x) | cuDNN default (TF32) seq/s | ratio | "
         "StaticRnn Score (from host) seq/s | cuDNN fp32 pinned H2D+fwd+D2H seq/s | ratio |",
         "|---|---|---|---|---|---|---|---|---|"]
below = []
for m in sr["models"]:
    c = cu_models.get(m["name"], {}).get("rows", {})
    fp32, default = c.get("fp32", {}), c.get("default", {})
    r = ratio(m["residentSeqPerSecond"], fp32.get("residentSeqPerSecond"))
    if r is None or r < 2:
        below.append(m["name"])
    lines.append(f"| {m['name']} | {rate(m['residentSeqPerSecond'])} | {rate(fp32.get('residentSeqPerSecond'))} | {fx(r)} | "
                 f"{rate(default.get('residentSeqPerSecond'))} | {fx(ratio(m['residentSeqPerSecond'], default.get('residentSeqPerSecond')))} | "
                 f"{rate(m['scoreSeqPerSecond'])} | {rate(fp32.get('pinnedSeqPerSecond'))} | "
                 f"{fx(ratio(m['scoreSeqPerSecond'], fp32.get('pinnedSeqPerSecond')))} |")
lines.append("")
if sr.get("batch") != cu.get("batch"):
    lines.append(f"note: the batches differ (StaticRnn {sr.get('batch')}, cuDNN {cu.get('batch')}): the ratios compare unlike runs")
lines.append("target (StaticRnn resident >= 2x cuDNN fp32 resident): " +
             ("met for every model" if not below else "NOT met for " + ", ".join(below)))
text = "\n".join(lines)
print(text)
with open(out_path, "w") as f:
    f.write(text + "\n")
PY

    section "summary"
    echo "elapsed: $((SECONDS - started)) s; logs and JSON in $OUT: $(ls "$OUT" | tr '\n' ' ')"
    if [ ${#failures[@]} -gt 0 ]; then
        echo "FAILED:"; printf '  - %s\n' "${failures[@]}"
        return 1
    fi
    echo "all steps ran, every check passed"
}

case "${1:-}" in
    prepare) prepare ;;
    device) device ;;
    *) echo "usage: bash tools/gpu_check.sh prepare|device   (see the top of this file)"; exit 2 ;;
esac
