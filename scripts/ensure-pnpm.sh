# Sourced by the entry scripts: makes pnpm 9 available and the workspace installed.
# corepack's signature check fails against this registry, so pnpm comes from npm.
if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version)" != 9.* ]]; then
  echo "[setup] installing pnpm@9 with npm" >&2
  npm install -g pnpm@9 >/dev/null
fi
echo "[setup] pnpm install" >&2
pnpm install --frozen-lockfile --prefer-offline >/dev/null
