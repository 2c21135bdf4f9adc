// Rendering the answer to `tel/compareStates {from, to}` as the two sides of a diff editor.
// Expected (docs/editors.md): { from, to, changes: [{ kind?, name | path, frame?, old?, new? }] }
// (`old` absent: it appeared; `new` absent: it went away). Also read: separate `locals` and
// `balances` lists of the same items. Pure, for the unit tests.

export interface Change {
  key: string;
  old?: unknown;
  new?: unknown;
}

export interface Comparison {
  from: number | string;
  to: number | string;
  changes: Change[];
}

function show(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? 'undefined';
}

function changeOf(raw: unknown, group: string | undefined): Change | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const name = typeof r.path === 'string' ? r.path : typeof r.name === 'string' ? r.name : undefined;
  if (name === undefined) return undefined;
  const kind = typeof r.kind === 'string' ? r.kind : group;
  const frame = typeof r.frame === 'string' ? `${r.frame}.` : '';
  return {
    key: `${kind ? `${kind} ` : ''}${frame}${name}`,
    old: 'old' in r ? r.old : r.before,
    new: 'new' in r ? r.new : r.after,
  };
}

export function parseComparison(raw: unknown, from: number | string, to: number | string): Comparison {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const changes: Change[] = [];
  const take = (list: unknown, group?: string) => {
    if (!Array.isArray(list)) return;
    for (const item of list) {
      const c = changeOf(item, group);
      if (c) changes.push(c);
    }
  };
  take(r.changes);
  take(r.locals, 'local');
  take(r.balances, 'balance');
  take(r.ledger, 'balance');
  changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { from: (r.from as number | undefined) ?? from, to: (r.to as number | undefined) ?? to, changes };
}

/** The left (at `from`) and right (at `to`) texts, one changed value per line, aligned. */
export function diffSides(c: Comparison): { left: string; right: string } {
  if (c.changes.length === 0) {
    const same = `nothing changed between positions ${c.from} and ${c.to}\n`;
    return { left: same, right: same };
  }
  const left = c.changes.map((ch) => `${ch.key} = ${show(ch.old)}`);
  const right = c.changes.map((ch) => `${ch.key} = ${show(ch.new)}`);
  return {
    left: `// state at position ${c.from}\n${left.join('\n')}\n`,
    right: `// state at position ${c.to}\n${right.join('\n')}\n`,
  };
}
