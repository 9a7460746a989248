#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine: installs what is missing, configures and builds
# in Release, then runs the main job or the test suite.
#
#   bash scripts/quickstart.sh main       # the main job (see README)
#   bash scripts/quickstart.sh test       # the whole test suite through CTest
#   bash scripts/quickstart.sh sanitize   # the test suite built with ASan + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."

job=${1:-main}
shift || true
packages=(g++ cmake ninja-build pkg-config libeigen3-dev libfmt-dev doctest-dev libboost-program-options-dev zlib1g-dev nlohmann-json3-dev)

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
if [[ $job == sanitize ]]; then
  build=build-sanitize
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNIF_SANITIZE=ON)
fi
echo "== configuring and building ($build)"
mkdir -p "$build"
cmake -S . -B "$build" -G Ninja "${flags[@]}" > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)"

case $job in
  main)
    echo "== main job: the three architectures on both traveling-wave cases (Adam, seed 1, 5000 epochs)"
    "$build/bin/nif" compare --out runs/quickstart "$@"
    echo "== per-run folders (config, log.csv, metrics.json, checkpoints, loss.svg, fields.png): runs/quickstart/*/"
    ;;
  test | sanitize)
    echo "== test suite"
    exec ctest --test-dir "$build" --output-on-failure -j "$(nproc)" "$@"
    ;;
  *)
    echo "quickstart.sh: unknown job '$job' (expected main, test or sanitize)" >&2
    exit 2
    ;;
esac
