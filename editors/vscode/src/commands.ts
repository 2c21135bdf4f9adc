// The commands the server's lenses name (docs/lsp.md: `tel.showReferences`, `tel.debug`; and
// `tel.run`, `tel.storeAdd`, `tel.showHistory`, which the server does not execute yet), plus
// a few of the extension's own. A command the server announces in `executeCommandProvider`
// is forwarded to it; otherwise the extension does the job with the `tel` command line.
import { execFile } from 'child_process';
import * as path from 'path';
import * as vscode from 'vscode';
import { parseRunJson, type RunRequest, runArgs, storeAddArgs } from './cli';
import * as config from './config';
import type { Server } from './server';
import { historyUri } from './store';

export interface TelProcess {
  stdout: string;
  stderr: string;
  code: number | null;
}

export function runTel(server: Server, args: string[], cwd: string | undefined): Promise<TelProcess> {
  const binary = server.binary();
  if (!binary) return Promise.reject(new Error('no `tel` binary (see the TEL output)'));
  server.output.appendLine(`$ ${binary} ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  return new Promise((resolve) => {
    execFile(binary, args, { cwd, env: server.env(), maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error && typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : error ? null : 0;
      resolve({ stdout, stderr, code });
    });
  });
}

function cwdFor(file: string): string {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file));
  return folder ? folder.uri.fsPath : path.dirname(file);
}

async function activeTelDocument(): Promise<vscode.TextEditor | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'tel' || editor.document.uri.scheme !== 'file') {
    void vscode.window.showWarningMessage('TEL: open a .tel file first.');
    return undefined;
  }
  if (editor.document.isDirty) await editor.document.save();
  return editor;
}

/** The function under the cursor, qualified (`module::name`), when there is one. */
async function entryAtCursor(server: Server, editor: vscode.TextEditor): Promise<string | undefined> {
  try {
    const h = await server.hashOf(editor.document, editor.selection.active);
    return h && (h.kind === 'fn' || h.kind === 'function') ? h.name : undefined;
  } catch {
    return undefined;
  }
}

function isRunRequest(v: unknown): v is RunRequest {
  return typeof v === 'object' && v !== null && typeof (v as RunRequest).program === 'string';
}

function isServerRun(v: unknown): boolean {
  const o = v as { uri?: unknown; name?: unknown } | null;
  return typeof o === 'object' && o !== null && typeof o.uri === 'string' && typeof o.name === 'string';
}

async function forwarded(server: Server, command: string, args: unknown[]): Promise<boolean> {
  if (!server.serverCommands().includes(command)) return false;
  await server.request('workspace/executeCommand', { command, arguments: args });
  return true;
}

export function registerCommands(context: vscode.ExtensionContext, server: Server, output: vscode.OutputChannel): void {
  const register = (name: string, f: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(name, async (...args: unknown[]) => {
        try {
          return await f(...args);
        } catch (e) {
          output.appendLine(`${name}: ${e instanceof Error ? e.message : String(e)}`);
          void vscode.window.showErrorMessage(`TEL: ${e instanceof Error ? e.message : String(e)}`);
          return undefined;
        }
      }),
    );

  register('tel.showOutput', () => output.show());
  register('tel.restartServer', () => server.restart());

  // Run: the entry point under the cursor (else `main`) of the current file, or a
  // `{program, entry, args}` request (a lens argument, or a `#hash`).
  register('tel.run', async (...args) => {
    // The server runs its own lens's {uri, name}; any other request goes through `tel run`.
    if (isServerRun(args[0]) && (await forwarded(server, 'tel.run', args))) return;
    let request: RunRequest;
    if (isRunRequest(args[0])) {
      request = { ...args[0] };
    } else if (args[0] instanceof vscode.Uri) {
      request = { program: args[0].fsPath };
    } else {
      const editor = await activeTelDocument();
      if (!editor) return;
      request = { program: editor.document.uri.fsPath, entry: await entryAtCursor(server, editor) };
    }
    request.host ??= config.hostFile();
    request.codebase ??= config.codebase();
    const cwd = request.program.startsWith('#') ? config.folders()[0] : cwdFor(request.program);
    const what = `${request.entry ?? 'main'} of ${request.program.startsWith('#') ? request.program : path.basename(request.program)}`;
    const p = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `TEL: running ${what}` },
      () => runTel(server, runArgs(request), cwd),
    );
    const outcome = parseRunJson(p.stdout, p.stderr, p.code);
    output.appendLine(`── run ${what}`);
    for (const line of outcome.log) output.appendLine(line);
    if (outcome.ok) {
      void vscode.window.showInformationMessage(`TEL: ${what} = ${outcome.summary}`, 'Show Log').then((c) => c && output.show());
    } else {
      void vscode.window.showErrorMessage(`TEL: ${what}: ${outcome.summary}`, 'Show Log').then((c) => c && output.show());
    }
    return outcome;
  });

  // Debug: the server's lens passes a launch configuration (`{type: "tel", request: "launch", …}`).
  register('tel.debug', async (...args) => {
    let configuration = args[0] as vscode.DebugConfiguration | undefined;
    if (!configuration || typeof configuration !== 'object') {
      const editor = await activeTelDocument();
      if (!editor) return;
      const entry = await entryAtCursor(server, editor);
      configuration = {
        type: 'tel',
        request: 'launch',
        name: `Debug ${entry ?? 'main'}`,
        program: editor.document.uri.fsPath,
        ...(entry ? { entry } : {}),
      };
    }
    const program = typeof configuration.program === 'string' ? configuration.program : undefined;
    const folder = program && !program.startsWith('#') ? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(program)) : undefined;
    return vscode.debug.startDebugging(folder ?? vscode.workspace.workspaceFolders?.[0], configuration);
  });

  register('tel.storeAdd', async (...args) => {
    if (await forwarded(server, 'tel.storeAdd', args)) return;
    let file: string | undefined;
    if (args[0] instanceof vscode.Uri) file = args[0].fsPath;
    else if (typeof args[0] === 'string') file = args[0].startsWith('file:') ? vscode.Uri.parse(args[0]).fsPath : args[0];
    else file = (await activeTelDocument())?.document.uri.fsPath;
    if (!file) return;
    const p = await runTel(server, storeAddArgs([file], config.codebase()), cwdFor(file));
    output.appendLine(p.stdout.trimEnd());
    if (p.stderr.trim()) output.appendLine(p.stderr.trimEnd());
    if (p.code === 0) {
      const first = p.stdout.split('\n')[0] ?? 'stored';
      void vscode.window.showInformationMessage(`TEL: ${first}`, 'Show Log').then((c) => c && output.show());
    } else {
      const why = p.stderr.replace(/^error:\s*/, '').split('\n')[0] || `tel store add exited with ${p.code}`;
      void vscode.window.showErrorMessage(`TEL: ${why}`, 'Show Log').then((c) => c && output.show());
    }
  });

  register('tel.showHistory', async (...args) => {
    if (await forwarded(server, 'tel.showHistory', args)) return;
    let name = typeof args[0] === 'string' ? args[0] : undefined;
    if (!name) {
      const editor = vscode.window.activeTextEditor;
      const h = editor ? await server.hashOf(editor.document, editor.selection.active) : null;
      name = h?.name ?? (await vscode.window.showInputBox({ prompt: 'History of which name? (module::name)' }));
    }
    if (!name) return;
    const doc = await vscode.workspace.openTextDocument(historyUri(name));
    await vscode.window.showTextDocument(doc, { preview: true });
  });

  // The hash of the definition under the cursor, copied.
  register('tel.showHash', async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return;
    const h = await server.hashOf(editor.document, editor.selection.active);
    if (!h) {
      void vscode.window.showInformationMessage('TEL: no definition here.');
      return;
    }
    await vscode.env.clipboard.writeText(`#${h.hash}`);
    const stored = h.status === 'changed' && h.storedHash ? ` (the codebase has #${h.storedHash.slice(0, 8)})` : '';
    void vscode.window.showInformationMessage(`TEL: ${h.name} #${h.hash} — ${h.status}${stored}. Copied.`);
  });

  // The hash lens: `[uri, position]` as LSP JSON.
  register('tel.showReferences', async (...args) => {
    const uri = typeof args[0] === 'string' ? vscode.Uri.parse(args[0]) : (args[0] as vscode.Uri);
    const p = args[1] as { line: number; character: number };
    const position = new vscode.Position(p.line, p.character);
    const locations = await vscode.commands.executeCommand<vscode.Location[]>('vscode.executeReferenceProvider', uri, position);
    await vscode.commands.executeCommand('editor.action.showReferences', uri, position, locations ?? []);
  });

  // Commands the server announces that this extension does not know: forwarded as they are.
  const known = new Set(['tel.run', 'tel.debug', 'tel.storeAdd', 'tel.showHistory', 'tel.showReferences']);
  const forwardedRegistered = new Set<string>();
  const registerServerCommands = () => {
    for (const command of server.serverCommands()) {
      if (known.has(command) || forwardedRegistered.has(command)) continue;
      forwardedRegistered.add(command);
      register(command, (...args) => server.request('workspace/executeCommand', { command, arguments: args }));
    }
  };
  server.onStarted(registerServerCommands);
}
