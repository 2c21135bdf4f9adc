// A name's history (`tel/history`, the shape of `tel store history --json`) as text, in
// `tel store history`'s form. Pure, for the unit tests.

export interface HistoryEvent {
  seq: number;
  at: number;
  action: string;
  name: string;
  old_name?: string | null;
  hash?: string | null;
  old_hash?: string | null;
  reason?: string | null;
}

function short(hash?: string | null): string {
  return hash ? `#${hash.slice(0, 8)}` : '';
}

/** `tel store history`'s text form, from `tel/history`'s JSON. */
export function renderHistory(h: { name: string; events: HistoryEvent[] }): string {
  const lines = [`// history of ${h.name}, newest first`];
  for (const e of h.events) {
    const at = new Date(e.at * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    let what: string;
    if (e.action === 'rename') what = `${e.old_name ?? '?'} -> ${e.name} (${short(e.hash)})`;
    else if (e.action === 'update') what = `${e.name} ${short(e.old_hash)} -> ${short(e.hash)}`;
    else what = `${e.name} ${short(e.hash)}`;
    lines.push(`${at}  ${e.action.padEnd(6)}  ${what}${e.reason ? `  [${e.reason}]` : ''}`);
  }
  return lines.join('\n') + '\n';
}
