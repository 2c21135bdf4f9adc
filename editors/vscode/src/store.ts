// Read-only documents: stored definitions (`tel-store:///<hash>.tel`, served by the server's
// `tel/viewDefinition`) and a name's history (`tel-history:`, from `tel/history`).
import * as vscode from 'vscode';
import { type HistoryEvent, renderHistory } from './history';
import type { Server } from './server';

export const STORE_SCHEME = 'tel-store';
export const HISTORY_SCHEME = 'tel-history';

/** The URI text the server uses, `tel-store:///<hash>.tel` (VS Code prints `tel-store:/…`). */
export function serverStoreUri(uri: vscode.Uri): string {
  return `${STORE_SCHEME}://${uri.authority}${uri.path.startsWith('/') ? '' : '/'}${uri.path}`;
}

export function registerStoreDocuments(context: vscode.ExtensionContext, server: Server): void {
  const stored: vscode.TextDocumentContentProvider = {
    async provideTextDocumentContent(uri) {
      const view = await server.request<{ text: string }>('tel/viewDefinition', { uri: serverStoreUri(uri) });
      return view.text;
    },
  };
  const history: vscode.TextDocumentContentProvider = {
    async provideTextDocumentContent(uri) {
      const name = decodeURIComponent(uri.path.replace(/^\//, '').replace(/\.telhistory$/, ''));
      const h = await server.request<{ name: string; events: HistoryEvent[] }>('tel/history', { name });
      return renderHistory(h);
    },
  };
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(STORE_SCHEME, stored),
    vscode.workspace.registerTextDocumentContentProvider(HISTORY_SCHEME, history),
  );
}

export function historyUri(name: string): vscode.Uri {
  return vscode.Uri.from({ scheme: HISTORY_SCHEME, path: `/${encodeURIComponent(name)}.telhistory` });
}
