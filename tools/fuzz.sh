#!/usr/bin/env bash
# Coverage-guided fuzzing of the generator's weight-file readers: SharpFuzz instruments StaticRnn.Generators.dll
# and AFL++ drives tests/StaticRnn.Fuzz with it, one format at a time, for a fixed time budget. The onnx format
# runs the ONNX reader and then, on what it reads, the importer (the graph evaluated into layers).
#
#   tools/fuzz.sh [SECONDS_PER_FORMAT] [FORMAT...]      defaults: 300 seconds; safetensors npy npz onnx
#
# Seeds:  tests/StaticRnn.Fuzz/corpus/<format>/ (committed). New inputs that reach new code are minimized with
#         afl-cmin and added there, so each run starts where the last one ended.
# Crashes and hangs are copied to tests/StaticRnn.Fuzz/regressions/<format>/; the generator tests run every file
#         of both folders through the readers (FuzzCorpusTests), so a finding stays fixed once fixed.
# Exit status: 1 if the run found a crash or a hang, 0 otherwise. Needs root or sudo to install afl++ once.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-300}
shift || true
formats=("$@")
[ ${#formats[@]} -eq 0 ] && formats=(safetensors npy npz onnx)
for format in "${formats[@]}"; do
  case $format in
    safetensors|npy|npz|onnx) ;;
    *) echo "unknown format '$format'; expected safetensors, npy, npz or onnx" >&2; exit 2 ;;
  esac
done

sudo=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo=sudo
if ! command -v afl-fuzz >/dev/null; then
  $sudo apt-get update -qq && $sudo apt-get install -y -qq afl++ >/dev/null
fi

work=.fuzz
mkdir -p "$work"
if [ ! -x "$work/tools/sharpfuzz" ]; then
  dotnet tool install --tool-path "$work/tools" SharpFuzz.CommandLine --version 2.3.0 >/dev/null
fi

# Publish, then instrument only the readers' assembly (not Roslyn, not the harness).
rm -rf "$work/bin"
dotnet publish tests/StaticRnn.Fuzz -c Release -o "$work/bin" -nologo -v quiet
"$work/tools/sharpfuzz" "$work/bin/StaticRnn.Generators.dll"

# AFL++ in a container: the dotnet host is not instrumented itself (the check would refuse it), CPU frequency
# scaling and the core pattern are the host's business.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1

# afl-cmin wants the target by path.
dotnet=$(command -v dotnet)
found=0
for format in "${formats[@]}"; do
  corpus=tests/StaticRnn.Fuzz/corpus/$format
  regressions=tests/StaticRnn.Fuzz/regressions/$format
  findings=$work/findings/$format
  rm -rf "$findings"
  mkdir -p "$(dirname "$findings")"
  echo "== $format: $seconds s from $(ls "$corpus" | wc -l) seeds"
  afl-fuzz -V "$seconds" -i "$corpus" -o "$findings" -t 10000 -m none -- "$dotnet" "$work/bin/StaticRnn.Fuzz.dll" "$format" \
    > "$work/afl-$format.log" 2>&1 || { echo "afl-fuzz failed; see $work/afl-$format.log"; tail -20 "$work/afl-$format.log"; exit 2; }
  stats=$findings/default/fuzzer_stats
  grep -E '^(execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg) ' "$stats" | sed 's/^/   /'

  for kind in crashes hangs; do
    for file in "$findings"/default/$kind/id*; do
      [ -e "$file" ] || continue
      name=$kind-$(sha256sum "$file" | cut -c1-16)
      cp "$file" "$regressions/$name"
      echo "   $kind: $regressions/$name"
      found=1
    done
  done

  # Keep the corpus small: the minimal set of the queue that covers everything the queue covers. (afl-cmin refuses
  # to run in /tmp or /var/tmp: fuzz from a checkout elsewhere, or the corpus stays as it was.)
  minimized=$work/minimized/$format
  rm -rf "$minimized"
  if afl-cmin -i "$findings/default/queue" -o "$minimized" -t 10000 -m none -- "$dotnet" "$work/bin/StaticRnn.Fuzz.dll" "$format" \
      > "$work/cmin-$format.log" 2>&1; then
    known=$(for file in "$corpus"/*; do sha256sum "$file" | cut -c1-16; done)
    for file in "$minimized"/*; do
      [ -e "$file" ] || continue
      hash=$(sha256sum "$file" | cut -c1-16)
      # The seeds keep their own names (tests/StaticRnn.Fuzz/corpus/onnx/*.onnx): not copied again under their hash.
      grep -qx "$hash" <<<"$known" || cp "$file" "$corpus/$hash"
    done
    echo "   corpus: $(ls "$corpus" | wc -l) files"
  else
    echo "   afl-cmin failed (see $work/cmin-$format.log); corpus unchanged"
  fi
done
exit $found
