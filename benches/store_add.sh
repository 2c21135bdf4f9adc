#!/usr/bin/env bash
# `tel store add` end to end on 10,000 one-line functions in 10 modules: check, hash and
# write into a fresh codebase, then again with everything unchanged. Prints wall times.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p tel-cli
tel="$PWD/target/release/tel"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '[program]\nname = "store-add-bench"\n' > "$dir/tel.toml"
for m in $(seq 0 9); do
  {
    echo "module m$m"
    [ "$m" -gt 0 ] && echo "use m$((m - 1))::{f999 as prev}"
    for i in $(seq 0 999); do
      if [ "$i" -eq 0 ]; then
        if [ "$m" -eq 0 ]; then body="x + 1"; else body="prev(x) + 1"; fi
      else
        body="f$((i - 1))(x) * $((i % 7 + 2)) + $i"
      fi
      echo "pub fn f$i(x: Int) -> Int { $body }"
    done
  } > "$dir/m$m.tel"
done
cd "$dir"
for run in fresh unchanged; do
  start=$(date +%s%N)
  "$tel" store add . | head -1
  end=$(date +%s%N)
  echo "$run: $(((end - start) / 1000000)) ms"
done
