// The `tel` debugger: `tel dap` as a DebugAdapterExecutable, launch configurations, and the
// time-travel commands on the adapter's custom requests (`tel/timeline`,
// `tel/jumpToPosition`, `tel/jumpToEffect`, `tel/compareStates`, `tel/fork`).
import * as vscode from 'vscode';
import { diffSides, parseComparison } from './compare';
import * as config from './config';
import type { Server } from './server';
import { TimelineProvider } from './timelineView';
import { effectCounts, parseEffectSpec, type TimelineNode } from './timelineModel';

const COMPARE_SCHEME = 'tel-compare';

function telSession(): vscode.DebugSession | undefined {
  const s = vscode.debug.activeDebugSession;
  return s && s.type === 'tel' ? s : undefined;
}

function requireSession(): vscode.DebugSession {
  const s = telSession();
  if (!s) throw new Error('no TEL debug session is active');
  return s;
}

function positionOf(arg: unknown): number | undefined {
  if (typeof arg === 'number') return arg;
  if (typeof arg === 'object' && arg !== null && 'entry' in arg) return (arg as TimelineNode).entry.position;
  return undefined;
}

async function askPosition(prompt: string, value?: number): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    prompt,
    value: value === undefined ? '' : String(value),
    validateInput: (v) => (/^\d+$/.test(v.trim()) ? undefined : 'a position: the step index, a whole number'),
  });
  return text === undefined ? undefined : Number(text.trim());
}

export function registerDebugger(context: vscode.ExtensionContext, server: Server, output: vscode.OutputChannel): void {
  const timeline = new TimelineProvider();
  const view = vscode.window.createTreeView('tel.timeline', { treeDataProvider: timeline, showCollapseAll: true });
  timeline.view = view;
  const compareTexts = new Map<string, string>();
  const compareChanged = new vscode.EventEmitter<vscode.Uri>();

  const provider: vscode.DebugConfigurationProvider = {
    provideDebugConfigurations(folder) {
      return [
        {
          type: 'tel',
          request: 'launch',
          name: 'Debug main',
          program: folder ? '${workspaceFolder}' : '${file}',
          stopOnEntry: true,
        },
      ];
    },
    resolveDebugConfiguration(_folder, configuration) {
      // F5 without a launch.json: debug the current file's `main`.
      if (!configuration.type && !configuration.request && !configuration.name) {
        const editor = vscode.window.activeTextEditor;
        if (editor?.document.languageId === 'tel') {
          configuration = { type: 'tel', request: 'launch', name: 'Debug main', program: editor.document.uri.fsPath, stopOnEntry: true };
        }
      }
      if (!configuration.program) {
        return vscode.window.showErrorMessage('TEL: a launch configuration needs `program` (a .tel file, a project folder or a #hash).').then(() => undefined);
      }
      configuration.host ??= config.hostFile();
      configuration.codebase ??= config.codebase();
      return configuration;
    },
  };

  const factory: vscode.DebugAdapterDescriptorFactory = {
    createDebugAdapterDescriptor(session) {
      const binary = server.binary();
      if (!binary) return undefined;
      const cwd = session.workspaceFolder?.uri.fsPath;
      output.appendLine(`debug: ${binary} dap`);
      return new vscode.DebugAdapterExecutable(binary, ['dap'], { env: server.env() as Record<string, string>, cwd });
    },
  };

  const tracker: vscode.DebugAdapterTrackerFactory = {
    createDebugAdapterTracker(session) {
      return {
        onDidSendMessage(message: { type?: string; event?: string; body?: Record<string, unknown> }) {
          if (message.type !== 'event') return;
          if (message.event === 'stopped') {
            const position = message.body?.position;
            if (typeof position === 'number') timeline.current = position;
            void timeline.refresh(session);
          } else if (message.event === 'terminated' || message.event === 'exited') {
            void timeline.refresh(session);
          }
        },
        onError(error) {
          output.appendLine(`debug adapter: ${error.message}`);
        },
      };
    },
  };

  const register = (name: string, f: (...args: unknown[]) => unknown) =>
    vscode.commands.registerCommand(name, async (...args: unknown[]) => {
      try {
        return await f(...args);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        output.appendLine(`${name}: ${message}`);
        void vscode.window.showErrorMessage(`TEL: ${message}`);
        return undefined;
      }
    });

  const afterJump = async (session: vscode.DebugSession, answer: unknown) => {
    const position = (answer as { position?: unknown } | undefined)?.position;
    if (typeof position === 'number') timeline.current = position;
    await timeline.refresh(session);
  };

  context.subscriptions.push(
    view,
    compareChanged,
    vscode.debug.registerDebugConfigurationProvider('tel', provider),
    vscode.debug.registerDebugAdapterDescriptorFactory('tel', factory),
    vscode.debug.registerDebugAdapterTrackerFactory('tel', tracker),
    vscode.debug.onDidChangeActiveDebugSession((s) => void timeline.refresh(s?.type === 'tel' ? s : undefined)),
    vscode.debug.onDidTerminateDebugSession(() => void timeline.refresh(telSession())),
    vscode.workspace.registerTextDocumentContentProvider(COMPARE_SCHEME, {
      onDidChange: compareChanged.event,
      provideTextDocumentContent: (uri) => compareTexts.get(uri.path) ?? '',
    }),

    register('tel.timeline.refresh', () => timeline.refresh(telSession())),

    register('tel.timeline.jump', async (arg) => {
      const session = requireSession();
      const position = positionOf(arg) ?? (await askPosition('Jump to position', timeline.current));
      if (position === undefined) return;
      await afterJump(session, await session.customRequest('tel/jumpToPosition', { position }));
    }),

    register('tel.debug.jumpToEffect', async (arg) => {
      const session = requireSession();
      let spec: { effect: string; occurrence: number } | undefined;
      const node = arg as TimelineNode | undefined;
      if (node?.entry?.kind === 'effect') {
        spec = { effect: node.entry.name, occurrence: node.entry.occurrence ?? 1 };
      } else if (timeline.model && effectCounts(timeline.model).length > 0) {
        const pick = await vscode.window.showQuickPick(
          effectCounts(timeline.model).map((c) => ({ label: c.effect, description: `${c.count} in this run` })),
          { placeHolder: 'Jump to which effect?' },
        );
        if (!pick) return;
        const count = effectCounts(timeline.model).find((c) => c.effect === pick.label)?.count ?? 1;
        const occ = await vscode.window.showQuickPick(
          Array.from({ length: count }, (_, i) => ({ label: String(i + 1) })),
          { placeHolder: `Which ${pick.label}? (1 is the first)` },
        );
        if (!occ) return;
        spec = { effect: pick.label, occurrence: Number(occ.label) };
      } else {
        const text = await vscode.window.showInputBox({
          prompt: 'Jump to effect: NAME [OCCURRENCE]',
          placeHolder: 'Deposit 2',
          validateInput: (v) => (parseEffectSpec(v) ? undefined : 'an effect name, then which occurrence (from 1)'),
        });
        spec = text === undefined ? undefined : parseEffectSpec(text);
      }
      if (!spec) return;
      await afterJump(session, await session.customRequest('tel/jumpToEffect', spec));
    }),

    register('tel.debug.compareWith', async (arg) => {
      const session = requireSession();
      const from = timeline.current ?? (await askPosition('Compare from position'));
      if (from === undefined) return;
      const to = positionOf(arg) ?? (await askPosition(`Compare position ${from} with position`));
      if (to === undefined) return;
      const answer: unknown = await session.customRequest('tel/compareStates', { from, to });
      const sides = diffSides(parseComparison(answer, from, to));
      const stamp = Date.now();
      const left = vscode.Uri.from({ scheme: COMPARE_SCHEME, path: `/${stamp}/at-${from}.tel-state` });
      const right = vscode.Uri.from({ scheme: COMPARE_SCHEME, path: `/${stamp}/at-${to}.tel-state` });
      compareTexts.set(left.path, sides.left);
      compareTexts.set(right.path, sides.right);
      await vscode.commands.executeCommand('vscode.diff', left, right, `TEL state: position ${from} ↔ ${to}`);
    }),

    register('tel.debug.forkFromHere', async (arg) => {
      const session = requireSession();
      const position = positionOf(arg) ?? timeline.current ?? (await askPosition('Fork from position'));
      if (position === undefined) return;
      const text = await vscode.window.showInputBox({
        prompt: `Fork from position ${position}: what the host answers differently (JSON)`,
        placeHolder: '{"effect": "Observe", "occurrence": 1, "result": 3100}',
        validateInput: (v) => {
          try {
            JSON.parse(v);
            return undefined;
          } catch (e) {
            return `not JSON: ${String(e)}`;
          }
        },
      });
      if (text === undefined) return;
      const answer: unknown = await session.customRequest('tel/fork', { position, override: JSON.parse(text) as unknown });
      output.appendLine(`fork from ${position}: ${JSON.stringify(answer)}`);
      await afterJump(session, answer);
    }),
  );
}
