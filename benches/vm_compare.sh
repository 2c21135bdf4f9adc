#!/usr/bin/env bash
# The VM against CPython and Lua 5.4 on the same workloads (benches/programs/*.{tel,py,lua}):
# fib(30), a 10^7-iteration integer loop, and 100k records through map/filter/fold.
# Prints the best of 3 wall times of each whole process (start-up and compilation included).
# `vm` is the VM alone (the tel-vm example runner: source to core IR, load, run); `tel run` is
# the CLI, which also records the run's trace, when it is built with `run` (NO_CLI=1 skips
# building it). The ratios are the VM's. A missing peer is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}
runs=${RUNS:-3}

cargo build --release -q -p tel-vm --example run
vm=("$target/release/examples/run")
[ -n "${NO_CLI:-}" ] || cargo build --release -q -p tel-cli 2>/dev/null || true
cli=()
if [ -x "$target/release/tel" ] && "$target/release/tel" run --help >/dev/null 2>&1; then
  cli=("$target/release/tel" run)
else
  echo "no \`tel run\` built: showing the VM only" >&2
fi

peers=()
if command -v python3 >/dev/null; then
  version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  [ "$version" = 3.11 ] || echo "warning: python3 is $version, the target is CPython 3.11" >&2
  peers+=(python3)
else
  echo "python3 not found: skipping CPython" >&2
fi
if command -v lua5.4 >/dev/null; then
  peers+=(lua5.4)
else
  echo "lua5.4 not found: skipping Lua (apt-get install lua5.4)" >&2
fi

# Best of $runs wall-clock milliseconds of a command; its output must be the expected value.
best() {
  local expected=$1 b=
  shift
  for _ in $(seq "$runs"); do
    local start end out ms
    start=$(date +%s%N)
    out=$("$@" 2>/dev/null)
    end=$(date +%s%N)
    if [ "$out" != "$expected" ]; then
      echo "FAILED: $* printed '$out', expected '$expected'" >&2
      exit 1
    fi
    ms=$(((end - start) / 1000000))
    if [ -z "$b" ] || [ "$ms" -lt "$b" ]; then b=$ms; fi
  done
  echo "$b"
}

echo "best of $runs wall times in ms"
printf '%-9s %8s' workload vm
[ ${#cli[@]} -eq 0 ] || printf ' %8s' "tel run"
for p in "${peers[@]}"; do printf ' %8s' "$p"; done
for p in "${peers[@]}"; do printf ' %10s' "vm/$p"; done
echo
for w in fib loop records; do
  case $w in
    fib) expected=832040 ;;
    loop) expected=49999995000000 ;;
    records) expected=3812471125 ;;
  esac
  t=$(best "$expected" "${vm[@]}" "benches/programs/$w.tel")
  printf '%-9s %8s' "$w" "$t"
  [ ${#cli[@]} -eq 0 ] || printf ' %8s' "$(best "$expected" "${cli[@]}" "benches/programs/$w.tel")"
  times=()
  for p in "${peers[@]}"; do
    ext=py
    [ "$p" = lua5.4 ] && ext=lua
    x=$(best "$expected" "$p" "benches/programs/$w.$ext")
    times+=("$x")
    printf ' %8s' "$x"
  done
  for x in "${times[@]}"; do
    printf ' %10s' "$(awk -v a="$t" -v b="$x" 'BEGIN { printf "%.2f", a / b }')"
  done
  echo
done
