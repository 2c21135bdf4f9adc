// Reading the `tel` settings (package.json, contributes.configuration).
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { expandSetting } from './discovery';

export function folders(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
}

function settingPath(key: string): string | undefined {
  const value = vscode.workspace.getConfiguration('tel').get<string>(key)?.trim();
  if (!value) return undefined;
  const expanded = expandSetting(value, { workspaceFolders: folders(), homeDir: os.homedir() });
  const folder = folders()[0];
  return path.isAbsolute(expanded) || folder === undefined ? expanded : path.join(folder, expanded);
}

/** `tel.codebase`: the codebase file for the server (TEL_CODEBASE) and the CLI (--codebase). */
export function codebase(): string | undefined {
  return settingPath('codebase');
}

/** `tel.run.host`: the host file for Run (feeds, balances, seed). */
export function hostFile(): string | undefined {
  return settingPath('run.host');
}

export function serverPathSetting(): string | undefined {
  return vscode.workspace.getConfiguration('tel').get<string>('server.path');
}

/** The `tel` section as the server reads it (docs/lsp.md, "Settings"). */
export function serverSettings(): Record<string, unknown> {
  const c = vscode.workspace.getConfiguration('tel');
  return {
    inlayHints: { hashes: c.get('inlayHints.hashes', true), letTypes: c.get('inlayHints.letTypes', true) },
    lens: { hashes: c.get('lens.hashes', true), run: c.get('lens.run', true), store: c.get('lens.store', true) },
    diagnostics: { debounceMs: c.get('diagnostics.debounceMs', 5) },
  };
}
