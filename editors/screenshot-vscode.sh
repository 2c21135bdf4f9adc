#!/usr/bin/env bash
# Screenshots of the TEL extension in a real VS Code (code-server 4.100.3, VS Code 1.100.3, in
# headless Chromium) on a copy of fixtures/projects/exchange:
#   docs/vscode-hashes.png     fees.tel: the hash inlay hints, the `#… · N dependents` and Store
#                              lenses, a `let` type hint
#   docs/vscode-step-back.png  main.tel in a `tel dap` session: breakpoint in `submit`, two
#                              steps over, one Step Back (locals `qty`, `price` gone again)
#
#   TEL_BIN=target/debug/tel editors/screenshot-vscode.sh [OUT_DIR]     (default OUT_DIR: docs)
#
# Needs the extension's .vsix (TEL_VSIX, default editors/vscode/dist/tel.vsix, which
# editors/test.sh builds) and, from Debian, chromium, ripgrep, fonts-symbola (the `⏵` of the
# Debug lens), libkrb5-dev (code-server's kerberos module), g++ and make; everything else comes
# from npm. code-server 4.100.3 is the last release for Node 20. Its install scripts are not run,
# because @vscode/ripgrep's downloads ripgrep from GitHub: Debian's rg is put where it would
# have gone, and the native modules are built here with node-gyp. The work (about 400 MB) goes
# to TEL_SHOT_WORK, default /tmp/tel-vscode-shot, outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
OUT="${1:-docs}"
case "$OUT" in /*) ;; *) OUT="$REPO/$OUT" ;; esac
TEL_BIN="${TEL_BIN:-target/debug/tel}"
case "$TEL_BIN" in /*) ;; *) TEL_BIN="$REPO/$TEL_BIN" ;; esac
TEL_VSIX="${TEL_VSIX:-editors/vscode/dist/tel.vsix}"
case "$TEL_VSIX" in /*) ;; *) TEL_VSIX="$REPO/$TEL_VSIX" ;; esac
WORK="${TEL_SHOT_WORK:-/tmp/tel-vscode-shot}"
PORT="${TEL_SHOT_PORT:-18734}"
CODE_SERVER=4.100.3
PUPPETEER=24.43.1

die() { echo "editors/screenshot-vscode.sh: $*" >&2; exit 2; }
[ -x "$TEL_BIN" ] || die "no tel binary at $TEL_BIN (cargo build -p tel-cli, or set TEL_BIN)"
[ -f "$TEL_VSIX" ] || die "no extension at $TEL_VSIX (editors/test.sh builds it, or set TEL_VSIX)"
for tool in chromium rg g++ make; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install chromium ripgrep fonts-symbola libkrb5-dev g++ make)"
done
[ -f /usr/include/krb5.h ] || die "krb5.h is missing (apt-get install libkrb5-dev)"
# node-gyp would download Node's headers; Debian's nodejs has them in /usr/include/node.
if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
mkdir -p "$WORK" "$OUT"
npmq() { npm --no-audit --no-fund --loglevel=error "$@"; }

CS="$WORK/cs/node_modules/code-server"
if [ ! -f "$WORK/cs/.done-$CODE_SERVER" ]; then
  rm -rf "$WORK/cs" && mkdir -p "$WORK/cs"
  (cd "$WORK/cs" && npmq init -y >/dev/null && npmq install --ignore-scripts "code-server@$CODE_SERVER")
  (cd "$WORK/cs" && npmq rebuild argon2)
  (
    # What code-server's postinstall.sh does, less the download.
    cd "$CS/lib/vscode"
    npmq install --omit=dev --ignore-scripts
    mkdir -p node_modules/@vscode/ripgrep/bin
    cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
    npmq rebuild @parcel/watcher @vscode/deviceid @vscode/spdlog kerberos native-watchdog
    # node-pty's postinstall only writes compile_commands.json with a node-gyp it fetches
    # through npx (and fails without asking); the module itself is built by then.
    npmq rebuild node-pty >/dev/null 2>&1 || true
    [ -f node_modules/node-pty/build/Release/pty.node ] || die "node-pty did not build"
    ln -sfn node_modules node_modules.asar
    (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
    (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
    cd extensions && npmq install --omit=dev --ignore-scripts && node postinstall.mjs >/dev/null
  )
  touch "$WORK/cs/.done-$CODE_SERVER"
fi
if [ ! -d "$WORK/pp/node_modules/puppeteer-core" ]; then
  mkdir -p "$WORK/pp" && (cd "$WORK/pp" && npmq init -y >/dev/null && npmq install "puppeteer-core@$PUPPETEER")
fi

# A fresh profile, the extension, and the project with settings and a launch configuration.
rm -rf "$WORK/data" "$WORK/ext" "$WORK/exchange"
mkdir -p "$WORK/data/User" "$WORK/ext"
cp -r fixtures/projects/exchange "$WORK/exchange"
mkdir -p "$WORK/exchange/.vscode"
echo '{"feeds": {"ETH/USD": 3000}}' >"$WORK/exchange/host.json"
cat >"$WORK/exchange/.vscode/settings.json" <<EOF
{ "tel.server.path": "$TEL_BIN", "tel.run.host": "host.json" }
EOF
cat >"$WORK/exchange/.vscode/launch.json" <<'EOF'
{ "version": "0.2.0", "configurations": [ { "type": "tel", "request": "launch",
  "name": "Debug the exchange", "program": "${workspaceFolder}", "entry": "main",
  "host": "host.json", "stopOnEntry": true } ] }
EOF
cat >"$WORK/data/User/settings.json" <<'EOF'
{ "workbench.startupEditor": "none", "workbench.colorTheme": "Default Light Modern",
  "security.workspace.trust.enabled": false, "telemetry.telemetryLevel": "off",
  "workbench.tips.enabled": false, "update.mode": "none", "extensions.ignoreRecommendations": true,
  "editor.minimap.enabled": false, "window.commandCenter": false,
  "workbench.layoutControl.enabled": false, "chat.commandCenter.enabled": false, "editor.fontSize": 14 }
EOF
node "$CS/out/node/entry.js" --user-data-dir "$WORK/data" --extensions-dir "$WORK/ext" \
  --install-extension "$TEL_VSIX" >/dev/null
# In a session of its own, so that the exit takes its extension host, file watcher, tel lsp
# and tel dap along.
setsid node "$CS/out/node/entry.js" --user-data-dir "$WORK/data" --extensions-dir "$WORK/ext" \
  --auth none --disable-telemetry --disable-update-check --disable-workspace-trust \
  --bind-addr "127.0.0.1:$PORT" "$WORK/exchange" >"$WORK/code-server.log" 2>&1 &
SERVER=$!
trap 'kill -- -"$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  sleep 1
done

cat >"$WORK/pp/shot.mjs" <<'EOF'
// Drives the workbench with keys and real mouse clicks (Monaco ignores synthetic DOM clicks)
// and waits on the DOM: the lenses, the debug toolbar, the stopped frame.
import puppeteer from 'puppeteer-core';
const [url, out] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const browser = await puppeteer.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const page = await browser.newPage();
async function chord(mods, key) {
  for (const m of mods) await page.keyboard.down(m);
  await page.keyboard.press(key);
  for (const m of [...mods].reverse()) await page.keyboard.up(m);
}
async function input(keys, text) {
  await chord(['Control'], keys);
  await page.waitForSelector('.quick-input-widget input', { visible: true, timeout: 30000 });
  await page.keyboard.type(text);
  await sleep(1500);
  await page.keyboard.press('Enter');
}
async function click(selector, label) {
  const box = await page.evaluate((selector, label) => {
    const e = [...document.querySelectorAll(selector)]
      .find((e) => `${e.textContent} ${e.getAttribute('aria-label') ?? ''}`.includes(label));
    if (!e) return null;
    const r = e.getBoundingClientRect();
    return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
  }, selector, label);
  if (!box) throw new Error(`no ${selector} with ${label}`);
  await page.mouse.click(box.x, box.y);
}
async function open(file) {
  await input('KeyP', file);
  await page.waitForSelector('.codelens-decoration a', { timeout: 120000 });
  // The hash inlay hints: `#` and eight base-32 digits after a signature.
  await page.waitForFunction(() => [...document.querySelectorAll('.view-lines span')]
    .some((e) => e.children.length === 0 && /^#[0-9a-v]{8}$/.test(e.textContent)), { timeout: 60000 });
  await sleep(2000);
}

await page.setViewport({ width: 1200, height: 560 });
await page.goto(url, { waitUntil: 'networkidle2', timeout: 120000 });
await page.waitForSelector('.monaco-workbench', { timeout: 120000 });
await sleep(5000);
await open('fees.tel');
await page.mouse.move(200, 400); // the empty part of the explorer: no hover
await sleep(500);
await page.screenshot({ path: `${out}/vscode-hashes.png` });

await page.setViewport({ width: 1400, height: 900 });
await open('main.tel');
await input('KeyG', '15'); // `let fill = execute(o, q);` in `submit`
await sleep(500);
await page.keyboard.press('F9');
await click('.codelens-decoration a', 'Debug');
await page.waitForSelector('.debug-toolbar', { visible: true, timeout: 60000 });
await page.waitForSelector('.debug-top-stack-frame-line', { timeout: 60000 });
await sleep(2000);
const frame = () => page.evaluate(() => document.querySelector('.debug-call-stack .monaco-list-row.selected')?.textContent);
async function toolbar(label) {
  const before = await frame();
  await click('.debug-toolbar .action-label', label);
  for (let i = 0; i < 100 && (await frame()) === before; i++) await sleep(100);
  await sleep(1500);
}
await toolbar('Continue');
await toolbar('Step Over');
await toolbar('Step Over');
await click('.debug-toolbar .action-label', 'Step Back');
await sleep(3000);
// The Step Back tooltip stays up: it says which button was pressed.
await page.screenshot({ path: `${out}/vscode-step-back.png` });
await browser.close();
EOF
node "$WORK/pp/shot.mjs" "http://127.0.0.1:$PORT/?folder=$WORK/exchange" "$OUT"
ls -l "$OUT"/vscode-hashes.png "$OUT"/vscode-step-back.png
