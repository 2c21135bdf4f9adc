// The Timeline view in the Run and Debug sidebar: the active `tel` session's calls and
// effects from `tel/timeline`; clicking an entry jumps there.
import * as vscode from 'vscode';
import { description, label, nodeAt, parseTimeline, type Timeline, type TimelineNode } from './timelineModel';

type Item = TimelineNode | { message: string };

export class TimelineProvider implements vscode.TreeDataProvider<Item> {
  model: Timeline | undefined;
  current: number | undefined;
  view: vscode.TreeView<Item> | undefined;
  private message: string | undefined = 'Start a TEL debug session to see its timeline.';
  private readonly changed = new vscode.EventEmitter<Item | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  async refresh(session: vscode.DebugSession | undefined): Promise<void> {
    if (!session) {
      this.model = undefined;
      this.current = undefined;
      this.message = 'Start a TEL debug session to see its timeline.';
    } else {
      try {
        this.model = parseTimeline(await session.customRequest('tel/timeline', {}));
        this.current = this.model.current ?? this.current;
        this.message = this.model.nodes.length === 0 ? 'No calls or effects yet.' : undefined;
      } catch (e) {
        this.model = undefined;
        this.message = `The adapter gave no timeline: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    this.changed.fire(undefined);
    const here = this.model && this.current !== undefined ? nodeAt(this.model, this.current) : undefined;
    if (here && this.view?.visible) await this.view.reveal(here, { select: true, focus: false });
  }

  getChildren(element?: Item): Item[] {
    if (!element) {
      if (!this.model || this.message) return [{ message: this.message ?? '' }];
      return this.model.roots;
    }
    return 'entry' in element ? element.children : [];
  }

  getParent(element: Item): Item | undefined {
    return 'entry' in element ? element.parent : undefined;
  }

  getTreeItem(element: Item): vscode.TreeItem {
    if (!('entry' in element)) return new vscode.TreeItem(element.message);
    const e = element.entry;
    const item = new vscode.TreeItem(
      label(element),
      element.children.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    item.description = description(element);
    item.contextValue = e.kind === 'effect' ? 'telTimelineEffect' : 'telTimelineCall';
    const here = this.model && this.current !== undefined ? nodeAt(this.model, this.current) : undefined;
    item.iconPath = new vscode.ThemeIcon(
      here === element ? 'debug-stackframe' : e.kind === 'effect' ? 'zap' : 'symbol-function',
    );
    item.tooltip = [
      `${e.kind} at position ${e.position}`,
      e.hash ? `#${e.hash}` : undefined,
      e.path ? `${e.path}${e.line ? `:${e.line}` : ''}` : undefined,
      e.clockMs !== undefined ? `virtual clock ${e.clockMs} ms` : undefined,
    ]
      .filter((l) => l !== undefined)
      .join('\n');
    item.command = { title: 'Jump Here', command: 'tel.timeline.jump', arguments: [e.position] };
    return item;
  }
}
