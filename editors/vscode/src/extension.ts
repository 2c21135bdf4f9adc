// The TEL extension: starts `tel lsp`, wires the server's custom requests and the commands
// its lenses name, contributes the `tel` debugger (`tel dap`) with its Timeline view.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { registerDebugger } from './debug';
import { Server } from './server';
import { registerStoreDocuments } from './store';

let server: Server | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('TEL');
  context.subscriptions.push(output);
  server = new Server(context, output);
  context.subscriptions.push(server);
  registerStoreDocuments(context, server);
  registerCommands(context, server, output);
  registerDebugger(context, server, output);
  await server.start();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
