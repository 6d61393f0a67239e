#!/usr/bin/env bash
# Runs the README's test command the way a new user's machine has it: a fresh clone of this repository's HEAD
# in an empty temporary folder (no ../shared beside it), an environment with nothing but PATH and a new HOME
# (no DATABASE_URL, REDIS_URL or MDL_* settings, no Playwright browser cache), and, when this shell may make a
# mount namespace (root, `unshare`), no system Chromium and no system fonts either: they are covered by empty
# mounts for this run only. Without a mount namespace it sets MDL_CHROMIUM=npm instead, which skips the system
# lookup. The npm cache of this machine is reused to save the download; it changes nothing but speed.
#
#   bash scripts/fresh-machine.sh                  # npm ci && npm test
#   bash scripts/fresh-machine.sh npm ci \&\& npm start   # any other command, run in the clone
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/mdl-fresh.XXXXXX")"
trap 'rm -rf "$work"' EXIT
command=("$@")
[ ${#command[@]} -gt 0 ] || command=(npm ci --no-audit --no-fund '&&' npm test)

git clone --quiet --no-hardlinks "$repo" "$work/repo"
mkdir -p "$work/home"
echo "== fresh clone of $(git -C "$repo" rev-parse --short HEAD) in $work/repo ($(ls -A "$work" | tr '\n' ' '))"

env_vars=(
  "PATH=$PATH"
  "HOME=$work/home"
  "TMPDIR=$work"
  "PLAYWRIGHT_BROWSERS_PATH=$work/no-browsers"
  "npm_config_cache=$(npm config get cache)"
  "CI=${CI:-}"
)
# Everything the browser and font lookups could find on this machine, covered for this run.
masks='for p in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome /usr/bin/google-chrome-stable; do
         [ -e "$p" ] && mount --bind /dev/null "$p"; done
       for d in /usr/lib/chromium /opt/google /usr/share/fonts /usr/local/share/fonts /etc/fonts; do
         [ -d "$d" ] && mount -t tmpfs none "$d"; done
       true'
run="cd '$work/repo' && ${command[*]}"
if unshare --mount --propagation private true 2>/dev/null; then
  echo "== system Chromium and fonts masked in a mount namespace"
  exec_cmd=(unshare --mount --propagation private bash -c "$masks && $run")
else
  echo "== no mount namespace here: MDL_CHROMIUM=npm skips the system Chromium"
  env_vars+=("MDL_CHROMIUM=npm")
  exec_cmd=(bash -c "$run")
fi
env -i "${env_vars[@]}" "${exec_cmd[@]}"
