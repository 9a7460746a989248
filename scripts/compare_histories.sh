#!/usr/bin/env bash
# Trains the seed cases with two commits of nif-cpp on this machine and checks that their loss
# histories (log.csv: epoch, loss, lr) and final checkpoints (parameter and optimizer arrays,
# step count, shuffling RNG, loss scale) are bit-identical. A refactoring must not change them.
# Results differ between CPUs, so both commits are built and run here, never compared with
# numbers saved elsewhere. --balance-threads is left out: its cuts depend on timing.
#
# usage: scripts/compare_histories.sh [--epochs E] [--workdir DIR] [--jobs J] OLD_REV [NEW_REV]
#   NEW_REV  defaults to HEAD
#   --epochs E     epochs per run (default 300)
#   --workdir DIR  keep the two worktrees, their builds and the runs in DIR (later calls with
#                  the same DIR rebuild only what changed); default: a temporary folder, removed
# Prints one line per run; exits 1 on any difference, 2 on bad usage.
set -euo pipefail

epochs=300 workdir="" jobs=2 revs=()
while (($#)); do
  case "$1" in
    --epochs) epochs="${2:?--epochs needs a value}"; shift 2 ;;
    --workdir) workdir="${2:?--workdir needs a value}"; shift 2 ;;
    --jobs) jobs="${2:?--jobs needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "compare_histories: unknown option $1" >&2; exit 2 ;;
    *) revs+=("$1"); shift ;;
  esac
done
if ((${#revs[@]} < 1 || ${#revs[@]} > 2)); then
  echo "usage: scripts/compare_histories.sh [--epochs E] [--workdir DIR] [--jobs J] OLD_REV [NEW_REV]" >&2
  exit 2
fi
[[ "$epochs" =~ ^[1-9][0-9]*$ ]] || { echo "compare_histories: --epochs must be a positive integer" >&2; exit 2; }
repo="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
old="$(git -C "$repo" rev-parse --verify "${revs[0]}^{commit}")" || { echo "compare_histories: unknown revision ${revs[0]}" >&2; exit 2; }
new="$(git -C "$repo" rev-parse --verify "${revs[1]:-HEAD}^{commit}")" || { echo "compare_histories: unknown revision ${revs[1]}" >&2; exit 2; }

if [[ -z "$workdir" ]]; then
  workdir="$(mktemp -d "${TMPDIR:-/tmp}/compare-histories.XXXXXX")"
  trap 'for w in "$workdir"/src-*; do [[ -d "$w" ]] && git -C "$repo" worktree remove --force "$w"; done; rm -rf "$workdir"' EXIT
fi
mkdir -p "$workdir"
workdir="$(cd "$workdir" && pwd)"

# The nif binary of commit $2, built (Release, incrementally) in the worktree $workdir/src-$1.
build() {
  local src="$workdir/src-$1"
  if [[ -d "$src" ]]; then
    git -C "$src" checkout --quiet --detach "$2"
  else
    git -C "$repo" worktree add --detach "$src" "$2" >/dev/null 2>&1
  fi
  echo "building ${2:0:10} in $src ..." >&2
  cmake -S "$src" -B "$src/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$src/build" -j"$jobs" --target nif_cli >/dev/null
  echo "$src/build/bin/nif"
}

# Everything of a checkpoint that must repeat: each array's bytes, and the metadata without timings.
fingerprint() {
  python3 - "$1" <<'PY'
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for info in sorted(z.infolist(), key=lambda i: i.filename):
    if info.filename != "metadata.json":
        print(info.filename, info.CRC, info.file_size)
meta = json.loads(z.read("metadata.json"))
state = meta["user"]["trainer"]
print(json.dumps([meta["optimizer"], state["epochs_done"], state["shuffle_rng"], state["loss_scale"]], sort_keys=True))
PY
}

old_bin="$(build old "$old")"
new_bin="$(build new "$new")"
runs="$workdir/runs"
failed=0
for arch in upstream functional pytorch; do
  for case_name in low-frequency high-frequency; do
    for threads in 1 2; do
      name="$arch-$case_name-t$threads"
      for side in old new; do
        bin="${side}_bin"
        rm -rf "$runs/$side/$name"
        "${!bin}" train --arch "$arch" --case "$case_name" --threads "$threads" --epochs "$epochs" --quiet \
          --out "$runs/$side/$name" >/dev/null
      done
      diff_log="$(diff <(cut -d, -f1-3 "$runs/old/$name/log.csv") <(cut -d, -f1-3 "$runs/new/$name/log.csv") | head -n 3 || true)"
      diff_ckpt="$(diff <(fingerprint "$runs/old/$name/checkpoint.npz") <(fingerprint "$runs/new/$name/checkpoint.npz") | head -n 3 || true)"
      final="$(tail -n 1 "$runs/new/$name/log.csv" | cut -d, -f2)"
      if [[ -z "$diff_log" && -z "$diff_ckpt" ]]; then
        printf 'same       %-36s %s epochs, final loss %s\n' "$name" "$epochs" "$final"
      else
        failed=1
        printf 'DIFFERENT  %-36s\n' "$name"
        [[ -n "$diff_log" ]] && printf '    log.csv: %s\n' "$diff_log"
        [[ -n "$diff_ckpt" ]] && printf '    checkpoint: %s\n' "$diff_ckpt"
      fi
    done
  done
done
echo "old ${old:0:10} vs new ${new:0:10}: $([[ $failed == 0 ]] && echo 'all histories identical' || echo 'histories differ')"
exit "$failed"
