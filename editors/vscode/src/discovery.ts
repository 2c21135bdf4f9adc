// Finding the `tel` binary: the `tel.server.path` setting, then PATH, then a binary bundled
// in the extension (bin/ of a platform-specific .vsix). Pure (no `vscode` import) so that
// the unit tests can drive it with a fake file system.
import * as path from 'path';

export interface DiscoveryEnv {
  /** `tel.server.path` as the user wrote it (empty or undefined: not set). */
  configured?: string;
  /** The PATH variable of the extension host. */
  pathEnv: string;
  /** PATHEXT on Windows. */
  pathExt?: string;
  platform: NodeJS.Platform;
  arch: string;
  extensionPath: string;
  /** Workspace folders, first first: a relative setting is resolved against the first. */
  workspaceFolders: string[];
  homeDir: string;
  /** True when `file` exists and can be executed. */
  isExecutable(file: string): boolean;
}

export type Source = 'setting' | 'PATH' | 'bundled';

export type Discovery =
  | { ok: true; path: string; source: Source }
  | { ok: false; message: string; tried: string[] };

/** Where a bundled binary lives inside the extension: bin/<platform>-<arch>/tel[.exe]. */
export function bundledPath(env: Pick<DiscoveryEnv, 'platform' | 'arch' | 'extensionPath'>): string {
  const exe = env.platform === 'win32' ? 'tel.exe' : 'tel';
  return path.join(env.extensionPath, 'bin', `${env.platform}-${env.arch}`, exe);
}

/** `~`, `${workspaceFolder}` and `${userHome}` expanded; relative paths against the first folder. */
export function expandSetting(value: string, env: Pick<DiscoveryEnv, 'workspaceFolders' | 'homeDir'>): string {
  const folder = env.workspaceFolders[0];
  let v = value.trim();
  if (v === '~' || v.startsWith('~/') || v.startsWith('~\\')) v = env.homeDir + v.slice(1);
  v = v.replace(/\$\{userHome\}/g, env.homeDir);
  if (folder !== undefined) v = v.replace(/\$\{workspaceFolder\}/g, folder);
  if (!path.isAbsolute(v) && folder !== undefined && /[\\/]/.test(v)) v = path.join(folder, v);
  return v;
}

function candidatesOnPath(env: DiscoveryEnv, name: string): string[] {
  const sep = env.platform === 'win32' ? ';' : ':';
  const dirs = env.pathEnv.split(sep).filter((d) => d.length > 0);
  const exts = env.platform === 'win32' ? (env.pathExt ?? '.EXE;.CMD;.BAT').split(';').filter((e) => e) : [''];
  const p = env.platform === 'win32' ? path.win32 : path.posix;
  return dirs.flatMap((d) => exts.map((e) => p.join(d, name + e.toLowerCase())));
}

/**
 * The binary to run. A setting that names no executable is an error, not a reason to fall
 * back: the user asked for that binary, and running another would hide the mistake.
 */
export function findTel(env: DiscoveryEnv): Discovery {
  const configured = env.configured?.trim();
  if (configured) {
    const expanded = expandSetting(configured, env);
    // A bare name (`tel`, `tel-nightly`) is looked up on PATH, as a shell would.
    const candidates = /[\\/]/.test(expanded) ? [expanded] : candidatesOnPath(env, expanded);
    const found = candidates.find((c) => env.isExecutable(c));
    if (found) return { ok: true, path: found, source: 'setting' };
    return {
      ok: false,
      tried: candidates,
      message:
        `The setting tel.server.path is "${configured}", but no executable is there` +
        (candidates.length > 1 ? ' (looked on PATH)' : ` (${expanded})`) +
        '. Fix the setting, or clear it to use `tel` from PATH.',
    };
  }
  const onPath = candidatesOnPath(env, 'tel');
  const found = onPath.find((c) => env.isExecutable(c));
  if (found) return { ok: true, path: found, source: 'PATH' };
  const bundled = bundledPath(env);
  if (env.isExecutable(bundled)) return { ok: true, path: bundled, source: 'bundled' };
  return {
    ok: false,
    tried: [...onPath, bundled],
    message:
      'The TEL toolchain (`tel`) was not found on PATH, and this extension has no bundled binary. ' +
      'Install it (`cargo install --path crates/tel-cli` in the TEL repository) and make sure it is on PATH, ' +
      'or set tel.server.path to the binary.',
  };
}
