// The language client: finds `tel`, starts `tel lsp`, restarts it when its settings change.
import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  type StaticFeature,
  type DynamicFeature,
} from 'vscode-languageclient/node';
import * as config from './config';
import { type Discovery, findTel } from './discovery';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The client never registers the server's `workspace/executeCommand` commands itself: the
 * commands the lenses name (`tel.run`, `tel.debug`, …) are this extension's, and forward to
 * the server when it announces them (see `Server.serverCommands`). Registering both would
 * make VS Code refuse the second registration.
 */
class TelLanguageClient extends LanguageClient {
  override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    const method = (feature as Partial<DynamicFeature<unknown>>).registrationType?.method;
    if (method === 'workspace/executeCommand') return;
    super.registerFeature(feature);
  }
}

export interface HashOf {
  name: string;
  kind: string;
  hash: string;
  short: string;
  status: string;
  storedHash?: string | null;
}

export class Server implements vscode.Disposable {
  client: LanguageClient | undefined;
  discovery: Discovery | undefined;
  private readonly status: vscode.StatusBarItem;
  /** The client's own log (LSP traffic with `tel.trace.server`, the server's stderr). */
  private readonly serverLog = vscode.window.createOutputChannel('TEL Language Server', { log: true });
  private readonly disposables: vscode.Disposable[] = [];
  private readonly started = new vscode.EventEmitter<void>();
  /** Fired each time the server has started (its capabilities are known). */
  readonly onStarted = this.started.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.OutputChannel,
  ) {
    this.status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
    this.status.name = 'TEL';
    this.status.command = 'tel.showOutput';
    this.disposables.push(
      this.status,
      this.started,
      this.serverLog,
      vscode.workspace.onDidChangeConfiguration(async (e) => {
        if (e.affectsConfiguration('tel.server.path') || e.affectsConfiguration('tel.codebase')) {
          await this.restart();
        }
      }),
    );
  }

  /** The binary, or undefined after telling the user how to fix its absence. */
  binary(): string | undefined {
    this.discovery = findTel({
      configured: config.serverPathSetting(),
      pathEnv: process.env.PATH ?? '',
      pathExt: process.env.PATHEXT,
      platform: process.platform,
      arch: process.arch,
      extensionPath: this.context.extensionPath,
      workspaceFolders: config.folders(),
      homeDir: os.homedir(),
      isExecutable,
    });
    if (this.discovery.ok) return this.discovery.path;
    this.output.appendLine(`${this.discovery.message}\nTried:\n  ${this.discovery.tried.join('\n  ')}`);
    void vscode.window.showErrorMessage(this.discovery.message, 'Open Settings', 'Show Log').then((choice) => {
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'tel.server.path');
      if (choice === 'Show Log') this.output.show();
    });
    return undefined;
  }

  /** Environment for every `tel` process: the `tel.codebase` setting as TEL_CODEBASE. */
  env(): NodeJS.ProcessEnv {
    const codebase = config.codebase();
    return codebase ? { ...process.env, TEL_CODEBASE: codebase } : { ...process.env };
  }

  async start(): Promise<void> {
    const command = this.binary();
    if (!command) {
      this.status.text = '$(error) TEL: no binary';
      this.status.show();
      return;
    }
    this.output.appendLine(`tel: ${command} (${this.discovery?.ok ? this.discovery.source : ''})`);
    const serverOptions: ServerOptions = {
      run: { command, args: ['lsp'], options: { env: this.env() } },
      debug: { command, args: ['lsp'], options: { env: this.env() } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'tel' },
        { scheme: 'untitled', language: 'tel' },
      ],
      initializationOptions: { tel: config.serverSettings() },
      synchronize: { configurationSection: 'tel' },
      outputChannel: this.serverLog,
      markdown: { isTrusted: false, supportHtml: false },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => ({ action: CloseAction.Restart }),
      },
    };
    const client = new TelLanguageClient('tel', 'TEL Language Server', serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) this.setStatus('$(check) TEL', 'tel lsp is running');
      if (e.newState === State.Stopped) this.setStatus('$(debug-stop) TEL', 'tel lsp stopped');
    });
    this.setStatus('$(sync~spin) TEL', 'starting tel lsp');
    try {
      await client.start();
    } catch (e) {
      this.output.appendLine(`tel lsp did not start: ${String(e)}`);
      void vscode.window.showErrorMessage(`TEL: \`${command} lsp\` did not start: ${String(e)}`);
      return;
    }
    // `tel/status`: every change up to `generation` has been checked (docs/lsp.md).
    this.disposables.push(
      client.onNotification('tel/status', (p: { quiescent?: boolean; generation?: number }) => {
        if (p.quiescent) this.setStatus('$(check) TEL', `checked (generation ${p.generation ?? 0})`);
        else this.setStatus('$(sync~spin) TEL', 'checking');
      }),
    );
    this.started.fire();
  }

  private setStatus(text: string, tooltip: string) {
    this.status.text = text;
    this.status.tooltip = tooltip;
    this.status.show();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client && client.state !== State.Stopped) await client.stop();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The commands the server executes itself (`executeCommandProvider`). */
  serverCommands(): string[] {
    return this.client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  }

  async request<R>(method: string, params: unknown): Promise<R> {
    const client = this.client;
    if (!client || client.state !== State.Running) {
      throw new Error('the TEL language server is not running (see the TEL output)');
    }
    return client.sendRequest<R>(method, params);
  }

  /** `tel/hashOf` at a position of a document. */
  async hashOf(document: vscode.TextDocument, position: vscode.Position): Promise<HashOf | null> {
    return this.request<HashOf | null>('tel/hashOf', {
      textDocument: { uri: document.uri.toString() },
      position: { line: position.line, character: position.character },
    });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    void this.stop();
  }
}
