#!/usr/bin/env bash
# The steps of the yumda GitHub Action (action.yml), kept here so they run (and are tested) outside
# GitHub too. Configured by environment variables, as action.yml passes its inputs:
#   YUMDA_PACKAGE      what `npm install -g` installs (default: yumda@<the action's own version>)
#   YUMDA_PREFIX       npm prefix to install into (default: a fresh directory under RUNNER_TEMP/TMPDIR)
#   INPUT_MANIFEST     the manifest (default: yumda.json/yaml/yml in the working directory)
#   INPUT_LAYERS       layer names to build, separated by spaces, commas or newlines (default: all)
#   INPUT_FROZEN       true: fail if the manifest or the resolution differs from yumda.lock
#   INPUT_PUBLISH      true: publish each zip as a Lambda layer version named <layer>-<arch>
#   INPUT_REGIONS      with publish: regions (as INPUT_LAYERS; default: AWS_REGION)
#   INPUT_S3_BUCKET    with publish: bucket for zips over 50 MB ({region} is replaced)
# Writes the build's JSON report to $YUMDA_REPORT (default: yumda-build.json) and, on GitHub, the
# outputs `report` (its path) and `zips` (the zips' paths, one a line).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
truthy() { case "${1:-}" in true | True | TRUE | 1 | yes) return 0 ;; *) return 1 ;; esac }
words() { tr ',\n' '  ' <<<"${1:-}"; }
log() { printf '%s\n' "$*" >&2; }

package=${YUMDA_PACKAGE:-}
[ -n "$package" ] || package="yumda@$(node -p 'require(process.argv[1]).version' "$here/package.json")"
prefix=${YUMDA_PREFIX:-$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/yumda-prefix.XXXXXX")}
log "installing $package into $prefix"
npm install --global --prefix "$prefix" --omit=dev --no-audit --no-fund --loglevel=error "$package" >&2
yumda="$prefix/bin/yumda"
"$yumda" --version >&2
[ -z "${GITHUB_PATH:-}" ] || echo "$prefix/bin" >>"$GITHUB_PATH"

args=(build --json)
[ -z "${INPUT_MANIFEST:-}" ] || args+=(--manifest "$INPUT_MANIFEST")
for l in $(words "${INPUT_LAYERS:-}"); do args+=(--layer "$l"); done
! truthy "${INPUT_FROZEN:-}" || args+=(--frozen)
report=${YUMDA_REPORT:-yumda-build.json}
"$yumda" "${args[@]}" >"$report"

zips=$(node -e 'for (const l of require(require("path").resolve(process.argv[1])).layers) if (l.zip) console.log(l.zip)' "$report")
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "report=$report"; echo 'zips<<YUMDA_EOF'; echo "$zips"; echo 'YUMDA_EOF'; } >>"$GITHUB_OUTPUT"
fi

if truthy "${INPUT_PUBLISH:-}"; then
  regions=()
  for r in $(words "${INPUT_REGIONS:-${AWS_REGION:-}}"); do regions+=(--region "$r"); done
  [ ${#regions[@]} -gt 0 ] || { log "yumda: error: publish needs a region: set the action's regions input or AWS_REGION"; exit 2; }
  node -e 'for (const l of require(require("path").resolve(process.argv[1])).layers) if (l.zip) console.log(`${l.name}-${l.arch}\t${l.zip}`)' "$report" |
    while IFS=$'\t' read -r name zip; do
      extra=()
      [ -z "${INPUT_S3_BUCKET:-}" ] || extra+=(--s3-bucket "$INPUT_S3_BUCKET")
      "$yumda" publish "$zip" --name "$name" "${regions[@]}" "${extra[@]}"
    done
fi
