// The command lines the extension runs for what the language server does not do itself yet
// (docs/lsp.md, "Not yet": the server announces no `tel.run` or `tel.storeAdd`), and reading
// their answers. Pure, for the unit tests.

export interface RunRequest {
  /** A .tel file, a project folder, or `#prefix` of a stored definition. */
  program: string;
  entry?: string;
  args?: unknown[];
  host?: string;
  codebase?: string;
}

export function runArgs(r: RunRequest): string[] {
  const out = ['run', r.program];
  if (r.entry && !r.program.startsWith('#')) out.push('--entry', r.entry);
  if (r.args && r.args.length > 0) out.push('--args', JSON.stringify(r.args));
  if (r.host) out.push('--host', r.host);
  if (r.codebase) out.push('--codebase', r.codebase);
  out.push('--json');
  return out;
}

export function storeAddArgs(paths: string[], codebase?: string): string[] {
  const out = ['store', 'add', ...paths];
  if (codebase) out.push('--codebase', codebase);
  return out;
}

export interface RunOutcome {
  ok: boolean;
  /** The value as TEL shows it, or the error's message. */
  summary: string;
  /** Lines for the output channel: Log effects, then the value or the error and its stack. */
  log: string[];
}

interface StackFrame {
  name?: string;
  hash?: string;
  file?: string;
  line?: number;
  column?: number;
  times?: number;
}

/** Reads `tel run --json` (docs/cli.md): one JSON document on stdout, whatever the outcome. */
export function parseRunJson(stdout: string, stderr: string, exitCode: number | null): RunOutcome {
  let doc: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(stdout);
    if (typeof parsed === 'object' && parsed !== null) doc = parsed as Record<string, unknown>;
  } catch {
    doc = undefined;
  }
  if (!doc) {
    // Refused before running (errors in the sources, a wrong entry): stderr says why.
    const message = stderr.trim() || `tel run exited with status ${exitCode}`;
    const first = message.split('\n').find((l) => l.trim() !== '') ?? message;
    return { ok: false, summary: first.replace(/^error:\s*/, ''), log: message.split('\n') };
  }
  const log: string[] = [];
  const effects = Array.isArray(doc.effects) ? doc.effects : [];
  for (const e of effects as Record<string, unknown>[]) {
    const at = typeof e.at_ms === 'number' ? e.at_ms : 0;
    if (e.effect === 'Log' && Array.isArray(e.args)) log.push(`[log @${at}ms] ${String(e.args[0])}`);
    else if (typeof e.effect === 'string') log.push(`[${e.effect} @${at}ms] ${JSON.stringify(e.args ?? [])}`);
  }
  const runId = typeof doc.run_id === 'string' ? ` (run ${doc.run_id})` : '';
  const err = doc.error as Record<string, unknown> | undefined;
  if (err) {
    const message = typeof err.message === 'string' ? err.message : 'runtime error';
    log.push(`error: ${message}${runId}`);
    const stack = Array.isArray(err.stack) ? (err.stack as StackFrame[]) : [];
    for (const f of stack) {
      const where = f.file ? ` ${f.file}:${f.line ?? '?'}:${f.column ?? '?'}` : '';
      const hash = f.hash ? ` #${String(f.hash).slice(0, 8)}` : '';
      log.push(`  at ${f.name ?? '?'}${hash}${where}${f.times ? ` (×${f.times + 1})` : ''}`);
    }
    return { ok: false, summary: message, log };
  }
  const shown = typeof doc.shown === 'string' ? doc.shown : JSON.stringify(doc.value);
  log.push(`= ${shown}${runId}`);
  return { ok: true, summary: shown, log };
}
