#!/usr/bin/env bash
# `make demo`: the main job of pystage, end to end, on the embedded registry.
# Starts a throw-away registry, creates a user with TOTP two-factor, publishes
# 1.0.0 of a sample package, stages 1.1.0 with `pystage publish`, lists, views,
# approves it with a one-time password, shows 1.1.0 is installable, cleans up.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# PATH may name the venv relatively (PATH=.venv/bin:$PATH): pin it before any cd
if [ -x "$HERE/../.venv/bin/pystage" ]; then PATH="$(cd "$HERE/.." && pwd)/.venv/bin:$PATH"; fi
for tool in pystage python npm node; do
  command -v "$tool" >/dev/null || { echo "demo: '$tool' is not on PATH (run: make demo)" >&2; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/pystage-demo.XXXXXX")"
REGISTRY_PID=""
cleanup() {
  if [ -n "$REGISTRY_PID" ] && kill -0 "$REGISTRY_PID" 2>/dev/null; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

bold=""; dim=""; reset=""
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\e[1m'; dim=$'\e[2m'; reset=$'\e[0m'; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$reset"; }
say()  { printf '%s%s%s\n' "$dim" "$*" "$reset"; }
# show the command as a user would type it, then run it
run()  { printf '%s$ %s%s\n' "$bold" "$*" "$reset"; "$@"; }

# Everything the demo writes stays in $WORK: npm and pystage read this npmrc.
export npm_config_userconfig="$WORK/npmrc"
export npm_config_cache="$WORK/npm-cache"
export npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false
export PYSTAGE_NO_KEYRING=1
: > "$npm_config_userconfig"

step "1. Start the embedded staging registry (throw-away storage, a free port)"
say "pystage registry serve --listen 127.0.0.1:0 --storage $WORK/storage --open-registration &"
pystage registry serve --listen 127.0.0.1:0 --storage "$WORK/storage" --open-registration \
  >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
REGISTRY=""
for _ in $(seq 1 200); do
  REGISTRY="$(sed -n 's/.*listening on \(http:[^ ]*\/\).*/\1/p' "$WORK/registry.log" | head -n1)"
  [ -n "$REGISTRY" ] && break
  kill -0 "$REGISTRY_PID" 2>/dev/null || { cat "$WORK/registry.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$REGISTRY" ] || { echo "demo: the registry did not start" >&2; cat "$WORK/registry.log" >&2; exit 1; }
export npm_config_registry="$REGISTRY"
say "registry: $REGISTRY"

step "2. Create the user alice and log in (the token goes to the demo's npmrc)"
PASSWORD="demo-password-$$"
printf '%s\n' "$PASSWORD" | run pystage login --auth-type legacy -u alice --password-stdin \
  --save-to-npmrc --registry "$REGISTRY"
run pystage whoami --registry "$REGISTRY"

step "3. Turn on two-factor authentication (TOTP, for logins and writes)"
say "(what 'npm profile enable-2fa auth-and-writes' does; a user scans the QR code into an authenticator app)"
SECRET="$(python "$HERE/demo_2fa.py" enable "$REGISTRY" "$npm_config_userconfig" "$PASSWORD" "$WORK/otp-steps")"
say "TOTP secret enrolled. In this demo, codes are computed from it with pyotp;"
say "a real user reads them from the authenticator app."
otp() { python "$HERE/demo_2fa.py" code "$SECRET" "$WORK/otp-steps"; }

step "4. Publish 1.0.0 of a sample package the classic way (npm publish, with a one-time password)"
PKG="$WORK/hello-stage"
mkdir -p "$PKG"
cat > "$PKG/package.json" <<'JSON'
{
  "name": "hello-stage",
  "version": "1.0.0",
  "description": "A sample package for the pystage demo",
  "main": "index.js",
  "license": "MIT"
}
JSON
echo 'module.exports = () => "hello from 1.0.0";' > "$PKG/index.js"
printf '# hello-stage\n\nA sample package for the pystage demo.\n' > "$PKG/README.md"
cd "$PKG"
CODE="$(otp)"
run npm publish --otp "$CODE" --loglevel warn

step "5. Stage 1.1.0 with pystage publish: no one-time password needed now (2FA is deferred)"
sed -i.bak 's/"version": "1.0.0"/"version": "1.1.0"/' package.json && rm -f package.json.bak
echo 'module.exports = () => "hello from 1.1.0";' > index.js
# stdout is kept in a file to read the stage id back (not `tee /dev/stderr`: that
# reopens stderr and truncates it when the demo's output is redirected to a file)
printf '%s$ %s%s\n' "$bold" "pystage publish" "$reset"
pystage publish >"$WORK/publish.out"
cat "$WORK/publish.out"
STAGE_ID="$(sed -n 's/.*(staged with id \([0-9a-f-]*\)).*/\1/p' "$WORK/publish.out")"
[ -n "$STAGE_ID" ] || { echo "demo: no stage id in the output" >&2; exit 1; }

step "6. See what is staged"
run pystage list
run pystage view "$STAGE_ID"
say "1.1.0 is not installable yet:"
run npm view hello-stage versions --json

step "7. Approve it, with a code from the authenticator app"
CODE="$(otp)"
run pystage approve "$STAGE_ID" --otp "$CODE"

step "8. 1.1.0 is published: install it"
mkdir -p "$WORK/app" && cd "$WORK/app"
run npm view hello-stage dist-tags --json
run npm install hello-stage@1.1.0 --no-package-lock --loglevel warn
run node -e 'console.log(require("hello-stage")())'
run pystage list

step "Done: the registry is stopped and $WORK removed."
