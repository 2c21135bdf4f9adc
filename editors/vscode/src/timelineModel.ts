// The Timeline view's model: what `tel dap` answers to the custom request `tel/timeline`
// (calls, returns and effects, each at a position = the global VM step index), as a tree of
// calls with their effects and inner calls. Pure, so that it is unit-tested without VS Code.
//
// The expected answer (docs/editors.md, "Timeline"):
//   { entries: [{ position, kind: "call" | "return" | "effect", name, hash?, depth?,
//                 effect?, occurrence?, args?, result?, clockMs?, source?: {path}, line?, column? }],
//     current?: position }
// Field names are read tolerantly (`items`/`events` for `entries`, `step` for `position`),
// because the adapter and this view are built side by side.

export type EntryKind = 'call' | 'return' | 'effect' | 'other';

export interface TimelineEntry {
  position: number;
  kind: EntryKind;
  name: string;
  hash?: string;
  depth?: number;
  /** For effects: the effect's name (`Deposit`) and which occurrence of it this is, from 1. */
  effect?: string;
  occurrence?: number;
  args?: unknown[];
  result?: unknown;
  clockMs?: number;
  path?: string;
  /** 1-based, as DAP sends them by default. */
  line?: number;
  column?: number;
}

export interface TimelineNode {
  entry: TimelineEntry;
  children: TimelineNode[];
  parent?: TimelineNode;
  /** For a call: the position and value of its return, once it returned. */
  returned?: { position: number; result?: unknown };
}

export interface Timeline {
  roots: TimelineNode[];
  /** Every entry in position order (returns included). */
  entries: TimelineEntry[];
  /** Every node in position order (calls and effects; returns are folded into their call). */
  nodes: TimelineNode[];
  current?: number;
}

export class TimelineFormatError extends Error {}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function kindOf(raw: string | undefined): EntryKind {
  const k = (raw ?? '').toLowerCase();
  if (k.includes('return')) return 'return';
  if (k.includes('call') || k === 'enter') return 'call';
  if (k.includes('effect') || k === 'perform') return 'effect';
  return 'other';
}

function entryOf(raw: unknown, index: number): TimelineEntry {
  if (typeof raw !== 'object' || raw === null) {
    throw new TimelineFormatError(`timeline entry ${index} is not an object`);
  }
  const r = raw as Record<string, unknown>;
  const position = num(r.position) ?? num(r.step) ?? num(r.pos);
  if (position === undefined) {
    throw new TimelineFormatError(`timeline entry ${index} has no numeric position`);
  }
  const kind = kindOf(str(r.kind) ?? str(r.type));
  const source = (typeof r.source === 'object' && r.source !== null ? r.source : {}) as Record<string, unknown>;
  const effect = str(r.effect) ?? (kind === 'effect' ? str(r.name) : undefined);
  const name = str(r.name) ?? effect ?? str(r.label) ?? kind;
  return {
    position,
    kind,
    name,
    hash: str(r.hash),
    depth: num(r.depth),
    effect,
    occurrence: num(r.occurrence),
    args: Array.isArray(r.args) ? r.args : undefined,
    result: r.result,
    clockMs: num(r.clockMs) ?? num(r.clock_ms) ?? num(r.atMs) ?? num(r.at_ms),
    path: str(source.path) ?? str(r.path),
    line: num(r.line),
    column: num(r.column),
  };
}

/** The tree of a `tel/timeline` answer. */
export function parseTimeline(raw: unknown): Timeline {
  let list: unknown;
  let current: number | undefined;
  if (Array.isArray(raw)) {
    list = raw;
  } else if (typeof raw === 'object' && raw !== null) {
    const r = raw as Record<string, unknown>;
    list = r.entries ?? r.items ?? r.events;
    current = num(r.current) ?? num(r.position);
  }
  if (!Array.isArray(list)) {
    throw new TimelineFormatError('the tel/timeline answer has no list of entries');
  }
  const entries = list.map(entryOf).sort((a, b) => a.position - b.position);

  // Number each effect's occurrences in order, where the adapter did not.
  const seen = new Map<string, number>();
  for (const e of entries) {
    if (e.kind !== 'effect') continue;
    const n = (seen.get(e.name) ?? 0) + 1;
    seen.set(e.name, n);
    e.occurrence ??= n;
  }

  const roots: TimelineNode[] = [];
  const nodes: TimelineNode[] = [];
  const stack: TimelineNode[] = [];
  const attach = (node: TimelineNode) => {
    const parent = stack[stack.length - 1];
    node.parent = parent;
    (parent ? parent.children : roots).push(node);
    nodes.push(node);
  };
  for (const entry of entries) {
    // With depths the nesting is the adapter's word; without, calls and returns pair up.
    if (entry.depth !== undefined) {
      const depth = entry.kind === 'return' ? entry.depth + 1 : entry.depth;
      while (stack.length > depth) stack.pop();
    }
    if (entry.kind === 'return') {
      const call = stack.pop();
      if (call) call.returned = { position: entry.position, result: entry.result };
      continue;
    }
    const node: TimelineNode = { entry, children: [] };
    attach(node);
    if (entry.kind === 'call') stack.push(node);
  }
  return { roots, entries, nodes, current };
}

function showValue(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return JSON.stringify(v);
  return JSON.stringify(v) ?? 'undefined';
}

/** The label of a node in the tree. */
export function label(node: TimelineNode): string {
  const e = node.entry;
  if (e.kind === 'effect') {
    const args = e.args ? `(${e.args.map(showValue).join(', ')})` : '';
    const result = e.result !== undefined && e.result !== null ? ` → ${showValue(e.result)}` : '';
    return `${e.name}${args}${result}`;
  }
  if (e.kind === 'call') {
    const short = e.hash ? ` #${e.hash.replace(/^#/, '').slice(0, 8)}` : '';
    const ret = node.returned && node.returned.result !== undefined ? ` → ${showValue(node.returned.result)}` : '';
    return `${e.name}${short}${ret}`;
  }
  return e.name;
}

/** The description beside a label: which occurrence, the position, the virtual clock. */
export function description(node: TimelineNode): string {
  const e = node.entry;
  const parts: string[] = [];
  if (e.kind === 'effect' && e.occurrence !== undefined) parts.push(`#${e.occurrence}`);
  parts.push(`@${e.position}`);
  if (e.clockMs !== undefined) parts.push(`t=${e.clockMs}ms`);
  return parts.join(' · ');
}

/** Effects of the run with their number of occurrences, by first appearance. */
export function effectCounts(t: Timeline): { effect: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const e of t.entries) {
    if (e.kind === 'effect') counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
  }
  return [...counts].map(([effect, count]) => ({ effect, count }));
}

/** The `occurrence`th (from 1) effect named `effect`, if the run has it. */
export function findEffect(t: Timeline, effect: string, occurrence: number): TimelineNode | undefined {
  return t.nodes.find((n) => n.entry.kind === 'effect' && n.entry.name === effect && n.entry.occurrence === occurrence);
}

/** The node the run is at: the last call or effect at or before `position`. */
export function nodeAt(t: Timeline, position: number): TimelineNode | undefined {
  let found: TimelineNode | undefined;
  for (const n of t.nodes) {
    if (n.entry.position > position) break;
    found = n;
  }
  return found;
}

/** Parses `:TelJumpEffect`-style input, `Deposit 2` or `Deposit#2` (occurrence 1 if omitted). */
export function parseEffectSpec(text: string): { effect: string; occurrence: number } | undefined {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_:]*)\s*(?:[#\s]\s*(\d+))?\s*$/.exec(text);
  if (!m) return undefined;
  const occurrence = m[2] === undefined ? 1 : Number(m[2]);
  if (occurrence < 1) return undefined;
  return { effect: m[1], occurrence };
}
