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

# One run of a command: "WALL_MS CPU_MS" (CPU = user + system, when /usr/bin/time is there;
# on a busy machine it is the steadier figure). Its output must be the expected value.
once() {
  local expected=$1 start end out cpu=-
  shift
  local tf
  tf=$(mktemp)
  start=$(date +%s%N)
  if [ -x /usr/bin/time ]; then
    out=$(/usr/bin/time -o "$tf" -f '%U %S' "$@" 2>/dev/null)
  else
    out=$("$@" 2>/dev/null)
  fi
  end=$(date +%s%N)
  [ -s "$tf" ] && cpu=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$tf")
  rm -f "$tf"
  if [ "$out" != "$expected" ]; then
    echo "FAILED: $* printed '$out', expected '$expected'" >&2
    exit 1
  fi
  echo "$(((end - start) / 1000000)) $cpu"
}

echo "best of $runs runs, wall ms (CPU ms)"
printf '%-9s %8s' workload vm
[ ${#cli[@]} -eq 0 ] || printf ' %8s' "tel run"
for p in "${peers[@]}"; do printf ' %8s' "$p"; done
for p in "${peers[@]}"; do printf ' %10s' "vm/$p"; done
echo
# Rounds interleave the implementations, so that a busy moment of the machine does not
# land on one of them only; each keeps its best time.
for w in fib loop records; do
  case $w in
    fib) expected=832040 ;;
    loop) expected=49999995000000 ;;
    records) expected=3812471125 ;;
  esac
  cmds=("vm")
  [ ${#cli[@]} -eq 0 ] || cmds+=("cli")
  cmds+=("${peers[@]}")
  declare -A best=() cpu=()
  for _ in $(seq "$runs"); do
    for c in "${cmds[@]}"; do
      case $c in
        vm) r=$(once "$expected" "${vm[@]}" "benches/programs/$w.tel") ;;
        cli) r=$(once "$expected" "${cli[@]}" "benches/programs/$w.tel") ;;
        lua5.4) r=$(once "$expected" lua5.4 "benches/programs/$w.lua") ;;
        *) r=$(once "$expected" "$c" "benches/programs/$w.py") ;;
      esac
      read -r ms c_ms <<<"$r"
      if [ -z "${best[$c]:-}" ] || [ "$ms" -lt "${best[$c]}" ]; then best[$c]=$ms; fi
      if [ "$c_ms" != - ] && { [ -z "${cpu[$c]:-}" ] || [ "$c_ms" -lt "${cpu[$c]}" ]; }; then
        cpu[$c]=$c_ms
      fi
    done
  done
  printf '%-9s' "$w"
  for c in "${cmds[@]}"; do printf ' %8s' "${best[$c]} (${cpu[$c]:--})"; done
  for p in "${peers[@]}"; do
    printf ' %10s' "$(awk -v a="${best[vm]}" -v b="${best[$p]}" 'BEGIN { printf "%.2f", a / b }')"
    [ -z "${cpu[vm]:-}" ] || printf ' (%s)' "$(awk -v a="${cpu[vm]}" -v b="${cpu[$p]}" 'BEGIN { printf "%.2f", a / b }')"
  done
  echo
  unset best cpu
done
