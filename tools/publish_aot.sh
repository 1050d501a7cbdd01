#!/usr/bin/env bash
# Publishes every project under samples/ (or the projects named) with Native AOT, fails on any warning (trim and
# AOT analysis included), then runs each binary and fails if one exits non-zero.
#
#   tools/publish_aot.sh [--out DIR] [--no-run] [PROJECT.csproj...] [dotnet publish arguments...]
#
#   --out DIR   where the binaries go: DIR/<project>/<project> (default artifacts/aot)
#   --no-run    publish only
#   *.csproj    the projects to publish instead of those under samples/
#   anything else is passed to dotnet publish, e.g. -p:IlcInstructionSet=native or -p:IlcInstructionSet=x86-64-v3
#
# Native AOT on Linux needs clang (the linker driver) and zlib1g-dev besides the .NET SDK; on a Debian or Ubuntu
# machine without them this script installs them with apt-get (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

out=artifacts/aot
run=1
projects=()
publish_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --no-run) run=0; shift ;;
    *.csproj) projects+=("$1"); shift ;;
    *) publish_args+=("$1"); shift ;;
  esac
done

arch=$(uname -m)
case "$arch" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  *) echo "publish_aot.sh: no Native AOT runtime identifier for $arch" >&2; exit 1 ;;
esac

# ---- prerequisites: clang and zlib1g-dev ----
missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== Native AOT needs ${missing[*]}; installing with apt-get"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "publish_aot.sh: install ${missing[*]} (no apt-get here)" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
      echo "publish_aot.sh: install ${missing[*]}, or run as root" >&2
      exit 1
    fi
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ${#projects[@]} -eq 0 ]; then
  mapfile -t projects < <(find samples -name '*.csproj' | sort)
fi
if [ ${#projects[@]} -eq 0 ]; then
  echo "publish_aot.sh: no project under samples/" >&2
  exit 1
fi

status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for project in "${projects[@]}"; do
  name=$(basename "$project" .csproj)
  dir="$out/$name"
  echo "== dotnet publish $project -r $rid -p:PublishAot=true ${publish_args[*]}"
  started=$SECONDS
  # -warnaserror: every MSBuild warning fails the publish, the ILC's trim (IL2xxx) and AOT (IL3xxx) warnings
  # included; TrimmerSingleWarn=false reports each of them rather than one per assembly.
  if ! dotnet publish "$project" -c Release -r "$rid" -p:PublishAot=true -p:TrimmerSingleWarn=false \
         -warnaserror -o "$dir" "${publish_args[@]}" 2>&1 | tee "$log"; then
    echo "FAIL: $name did not publish" >&2
    status=1
    continue
  fi
  # Belt and braces: a warning that reached the log without failing the build still fails here.
  if grep -E 'warning (IL[0-9]{4}|[A-Z]+[0-9]+)' "$log" >/dev/null; then
    echo "FAIL: $name published with warnings:" >&2
    grep -E 'warning (IL[0-9]{4}|[A-Z]+[0-9]+)' "$log" | sort -u >&2
    status=1
    continue
  fi
  binary="$dir/$name"
  if [ ! -x "$binary" ]; then
    echo "FAIL: no $binary (an AssemblyName other than the project's name?)" >&2
    status=1
    continue
  fi
  size=$(stat -c %s "$binary")
  echo "== $name: published in $((SECONDS - started)) s, no warnings, $binary is $((size / 1024)) KiB"
  if [ "$run" -eq 1 ]; then
    echo "== running $binary"
    if ! (cd "$dir" && timeout 600 "./$name"); then
      echo "FAIL: $binary exited non-zero" >&2
      status=1
    fi
  fi
done
exit $status
