#!/usr/bin/env bash
# CI check of the layering autodiff <- nn <- nif <- experiments: no #include points back up.
#
#   bash scripts/check_layers.sh [ROOT]     # ROOT defaults to the repository this script is in
#
# A source file in a layer may include project headers only from its own layer and the layers
# below it: autodiff/ only autodiff/; nn/ also autodiff/; nif/ also nn/; experiments/ anything.
# tests/, bench/ and fuzz/ sit on top of every layer (they test or drive the whole program), so
# they are not checked. A quoted include is resolved as the compiler does: relative to the
# including file's folder first, then to ROOT (the include root of every target); system headers
# (<...> that name no project folder) are not ours. Prints every offending "file:line: include"
# and exits 1; otherwise prints a one-line summary and exits 0.
set -euo pipefail

root=${1:-"$(dirname "$0")/.."}
cd "$root"

layers=(autodiff nn nif experiments)
# allowed[layer] = the folders a layer's files may include from.
declare -A allowed=(
  [autodiff]="autodiff"
  [nn]="autodiff nn"
  [nif]="autodiff nn nif"
  [experiments]="autodiff nn nif experiments"
)
# Folders whose headers are project headers (an include naming one of them must obey the rules).
project="autodiff nn nif experiments tests bench fuzz"

# Sets `folder` to the folder of ROOT that `target` (as written in an include of `file`) refers
# to, or to nothing when it is not a project header.
include_folder() {
  local file=$1 target=$2 resolved
  folder=
  if [[ -e $(dirname "$file")/$target ]]; then
    resolved=$(realpath -m --relative-to=. "$(dirname "$file")/$target")
    [[ $resolved != ../* ]] && folder=${resolved%%/*}
  elif [[ $target == */* && " $project " == *" ${target%%/*} "* ]]; then
    folder=${target%%/*}
  fi
  return 0
}

files=0 includes=0 bad=0
for layer in "${layers[@]}"; do
  [[ -d $layer ]] || continue
  while IFS= read -r -d '' file; do
    files=$((files + 1))
    # "line:text" of every #include line (quoted or angled).
    while IFS=: read -r line text; do
      [[ $text =~ include[[:space:]]*[\<\"]([^\>\"]+)[\>\"] ]] || continue  # a computed include
      target=${BASH_REMATCH[1]}
      includes=$((includes + 1))
      include_folder "$file" "$target"
      [[ -z $folder ]] && continue
      if [[ " ${allowed[$layer]} " != *" $folder "* ]]; then
        echo "$file:$line: ${text#"${text%%[![:space:]]*}"}  ($layer/ may include only ${allowed[$layer]// /\/, }/)"
        bad=$((bad + 1))
      fi
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$file" || true)
  done < <(find "$layer" -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cc' -o -name '*.in' \) -print0)
done

if ((bad)); then
  echo "check_layers: $bad include(s) point back up the layers autodiff <- nn <- nif <- experiments" >&2
  exit 1
fi
echo "check_layers: $files files, $includes includes, none points back up autodiff <- nn <- nif <- experiments"
