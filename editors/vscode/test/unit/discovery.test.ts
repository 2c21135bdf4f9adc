import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bundledPath, type DiscoveryEnv, expandSetting, findTel } from '../../src/discovery';

function env(executables: string[], over: Partial<DiscoveryEnv> = {}): DiscoveryEnv {
  const set = new Set(executables);
  return {
    configured: undefined,
    pathEnv: '/usr/local/bin:/usr/bin',
    platform: 'linux',
    arch: 'x64',
    extensionPath: '/ext',
    workspaceFolders: ['/work/proj'],
    homeDir: '/home/ana',
    isExecutable: (f) => set.has(f),
    ...over,
  };
}

describe('finding the tel binary', function () {
  it('prefers the setting over PATH and the bundled binary', function () {
    const d = findTel(env(['/opt/tel/bin/tel', '/usr/bin/tel', '/ext/bin/linux-x64/tel'], { configured: '/opt/tel/bin/tel' }));
    assert.deepStrictEqual(d, { ok: true, path: '/opt/tel/bin/tel', source: 'setting' });
  });

  it('takes the first PATH entry that has tel, in PATH order', function () {
    const d = findTel(env(['/usr/bin/tel', '/usr/local/bin/tel']));
    assert.deepStrictEqual(d, { ok: true, path: '/usr/local/bin/tel', source: 'PATH' });
  });

  it('falls back to the bundled binary of the platform', function () {
    const d = findTel(env(['/ext/bin/linux-x64/tel']));
    assert.deepStrictEqual(d, { ok: true, path: '/ext/bin/linux-x64/tel', source: 'bundled' });
  });

  it('says what it tried and how to fix it when nothing is found', function () {
    const d = findTel(env([]));
    assert.strictEqual(d.ok, false);
    if (d.ok) return;
    assert.deepStrictEqual(d.tried, ['/usr/local/bin/tel', '/usr/bin/tel', '/ext/bin/linux-x64/tel']);
    assert.match(d.message, /not found on PATH/);
    assert.match(d.message, /tel\.server\.path/);
    assert.match(d.message, /cargo install --path crates\/tel-cli/);
  });

  it('does not fall back when the setting names nothing executable', function () {
    const d = findTel(env(['/usr/bin/tel'], { configured: '/nowhere/tel' }));
    assert.strictEqual(d.ok, false);
    if (d.ok) return;
    assert.match(d.message, /tel\.server\.path is "\/nowhere\/tel"/);
    assert.deepStrictEqual(d.tried, ['/nowhere/tel']);
  });

  it('resolves a relative setting against the first workspace folder, and ~', function () {
    assert.strictEqual(expandSetting('target/debug/tel', env([])), '/work/proj/target/debug/tel');
    assert.strictEqual(expandSetting('${workspaceFolder}/bin/tel', env([])), '/work/proj/bin/tel');
    assert.strictEqual(expandSetting('~/.cargo/bin/tel', env([])), '/home/ana/.cargo/bin/tel');
    const d = findTel(env(['/work/proj/target/debug/tel'], { configured: ' target/debug/tel ' }));
    assert.deepStrictEqual(d, { ok: true, path: '/work/proj/target/debug/tel', source: 'setting' });
  });

  it('looks a bare name in the setting up on PATH', function () {
    const d = findTel(env(['/usr/bin/tel-nightly'], { configured: 'tel-nightly' }));
    assert.deepStrictEqual(d, { ok: true, path: '/usr/bin/tel-nightly', source: 'setting' });
  });

  it('uses PATHEXT and ; on Windows', function () {
    const e = env(['C:\\tools\\tel.exe'], { platform: 'win32', pathEnv: 'C:\\Windows;C:\\tools', pathExt: '.COM;.EXE' });
    assert.deepStrictEqual(findTel(e), { ok: true, path: 'C:\\tools\\tel.exe', source: 'PATH' });
    assert.strictEqual(bundledPath({ platform: 'win32', arch: 'x64', extensionPath: '/ext' }), path.join('/ext', 'bin', 'win32-x64', 'tel.exe'));
  });

  it('finds a real executable on a real PATH, and skips a file that cannot be executed', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tel-discovery-'));
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.writeFileSync(path.join(a, 'tel'), 'not executable');
    fs.writeFileSync(path.join(b, 'tel'), '#!/bin/sh\n', { mode: 0o755 });
    const isExecutable = (f: string) => {
      try {
        fs.accessSync(f, fs.constants.X_OK);
        return fs.statSync(f).isFile();
      } catch {
        return false;
      }
    };
    const d = findTel(env([], { pathEnv: `${a}:${b}`, isExecutable }));
    assert.deepStrictEqual(d, { ok: true, path: path.join(b, 'tel'), source: 'PATH' });
    fs.rmSync(dir, { recursive: true });
  });
});
