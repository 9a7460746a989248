#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine: installs what is missing, configures and builds
# in Release, then runs the main job or the test suite.
#
#   bash scripts/quickstart.sh main       # the main job (see README)
#   bash scripts/quickstart.sh test       # the whole test suite through CTest
#   bash scripts/quickstart.sh sanitize   # the test suite built by clang with ASan + UBSan
#   bash scripts/quickstart.sh fuzz       # every libFuzzer target, NIF_FUZZ_SECONDS (30) each
#
# sanitize and fuzz share one clang build (build-sanitize/, -O1, ASan + UBSan + libFuzzer
# coverage): sanitize builds and runs the test executables, fuzz builds and runs fuzz/fuzz_*.
set -euo pipefail
cd "$(dirname "$0")/.."

job=${1:-main}
shift || true
packages=(g++ cmake ninja-build pkg-config libeigen3-dev libfmt-dev doctest-dev libboost-program-options-dev zlib1g-dev nlohmann-json3-dev libcairo2-dev
          python3-dev pybind11-dev python3-pybind11 python3-numpy python3-pytest python3-matplotlib
          libopenmpi-dev openmpi-bin)
[[ $job == sanitize || $job == fuzz ]] && packages+=(clang-16 libclang-rt-16-dev llvm-16)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build=build
flags=(-DCMAKE_BUILD_TYPE=Release)
targets=(all)
if [[ $job == sanitize || $job == fuzz ]]; then
  build=build-sanitize
  # -O1 with line tables only: compiles in a fraction of RelWithDebInfo's time, runs the tests
  # several times faster than -O0, and stack traces still give file:line.
  flags=(-DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -gline-tables-only -DNDEBUG"
         -DNIF_SANITIZE=ON -DNIF_FUZZ=ON)
  targets=(all_tests)
  [[ $job == fuzz ]] && targets=(fuzz_all)
  # Stack traces with file:line in sanitizer reports (llvm-16 has the symbolizer).
  symbolizer=external_symbolizer_path=/usr/lib/llvm-16/bin/llvm-symbolizer
  export ASAN_OPTIONS="$symbolizer${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export UBSAN_OPTIONS="print_stacktrace=1:$symbolizer${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi
echo "== configuring and building ($build: ${targets[*]})"
mkdir -p "$build"
cmake -S . -B "$build" -G Ninja "${flags[@]}" > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"

# Runs every fuzz target for NIF_FUZZ_SECONDS, one per core at a time, from its seeds
# (fuzz/corpus/<name>, plus the saved crash inputs tests/data/fuzz/<name>). New inputs, logs and
# crash artifacts stay in the build folder; the job fails if any target crashed.
fuzz_one() {
  local exe=$1 name=${1##*/fuzz_}
  local work="$build/fuzz-runs/$name"
  local inputs=("$work/corpus" "fuzz/corpus/$name") options=()
  [[ -d tests/data/fuzz/$name ]] && inputs+=("tests/data/fuzz/$name")
  [[ -f fuzz/dict/$name.dict ]] && options+=("-dict=fuzz/dict/$name.dict")
  mkdir -p "$work/corpus" "$work/artifacts"
  "$exe" -max_total_time="${NIF_FUZZ_SECONDS:-30}" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=256 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "${options[@]}" "${inputs[@]}" > "$work/log" 2>&1
}

run_fuzzers() {
  local exes=("$build"/fuzz/fuzz_*) failed=()
  echo "== fuzzing ${exes[*]##*/} for ${NIF_FUZZ_SECONDS:-30} s each"
  mkdir -p "$build/fuzz-runs"
  for exe in "${exes[@]}"; do
    (if fuzz_one "$exe"; then echo ok; else echo failed; fi > "$build/fuzz-runs/${exe##*/fuzz_}.status") &
    while (($(jobs -rp | wc -l) >= $(nproc))); do wait -n || true; done
  done
  wait
  for exe in "${exes[@]}"; do
    local name=${exe##*/fuzz_} work="$build/fuzz-runs/${exe##*/fuzz_}"
    if [[ $(cat "$build/fuzz-runs/$name.status") == ok ]]; then
      echo "$name: $(grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)" "$work/log" | tr -s '\n ' ' ')"
    else
      tail -n 40 "$work/log"
      echo "== fuzz $name FAILED: the input is in $work/artifacts/ (log: $work/log)"
      failed+=("$name")
    fi
  done
  ((${#failed[@]} == 0)) || { echo "== fuzz targets that failed: ${failed[*]}"; return 1; }
}

case $job in
  main)
    echo "== main job: the three architectures on both traveling-wave cases (Adam, seed 1, 5000 epochs)"
    "$build/bin/nif" compare --out runs/quickstart "$@"
    echo "== per-run folders (config, log.csv, metrics.json, checkpoints, loss.svg, fields.png): runs/quickstart/*/"
    ;;
  test)
    echo "== test suite"
    exec ctest --test-dir "$build" --output-on-failure -j "$(nproc)" "$@"
    ;;
  sanitize)
    # All but the SIGINT test, which trains 2 x 3000 epochs: over 2 minutes alone under the
    # sanitizers, the rest of the suite 10 s. The shorter --resume and kill -9 tests run its code.
    # And but the mpirun tests: LeakSanitizer reports OpenMPI's own process-lifetime allocations.
    # And but the three `nif study` tests (130 CPU s under the sanitizers): their training, POD and
    # hold-out code runs in the shorter train, baseline and holdout tests.
    echo "== test suite under ASan + UBSan"
    exec ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -E "SIGINT during training|mpirun|nif study" "$@"
    ;;
  fuzz)
    run_fuzzers
    ;;
  *)
    echo "quickstart.sh: unknown job '$job' (expected main, test, sanitize or fuzz)" >&2
    exit 2
    ;;
esac
