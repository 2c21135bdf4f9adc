// `tel dap` driven end to end by the DAP client of the VS Code team
// (@vscode/debugadapter-testsupport): launch, breakpoint, step, step back, variables,
// reverse continue, and the custom requests the Timeline view and commands use.
//
// Skipped, with the reason, while `tel dap` answers that it is not built yet; the lines it
// stops at are those of program.tel beside this file.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { findEffect, parseTimeline } from '../../src/timelineModel';

const repo = path.resolve(__dirname, '..', '..', '..', '..', '..');
const TEL = path.resolve(repo, process.env.TEL_BIN ?? 'target/debug/tel');
const PROGRAM = path.resolve(repo, 'editors', 'vscode', 'test', 'dap', 'program.tel');
const LINE_ADD_LET = 5; // let s = a + b;
const LINE_ADD_RET = 6; // s
const LINE_MAIN_LOG = 11; // perform Log(...)

/** Why `tel dap` cannot be tested, or undefined when it can. */
function unavailable(): string | undefined {
  const r = spawnSync(TEL, ['dap'], { input: '', encoding: 'utf8', timeout: 60_000 });
  if (r.error) return `cannot run ${TEL}: ${r.error.message}`;
  if (/not built yet/.test(r.stderr)) return `\`tel dap\` is not built yet (${r.stderr.trim()})`;
  return undefined;
}

async function locals(dc: DebugClient, frameId: number): Promise<Record<string, string>> {
  const scopes = await dc.scopesRequest({ frameId });
  const scope = scopes.body.scopes.find((s) => /local/i.test(s.name)) ?? scopes.body.scopes[0];
  const vars = await dc.variablesRequest({ variablesReference: scope.variablesReference });
  return Object.fromEntries(vars.body.variables.map((v) => [v.name, v.value]));
}

async function top(dc: DebugClient, threadId: number): Promise<DebugProtocol.StackFrame> {
  const st = await dc.stackTraceRequest({ threadId });
  return st.body.stackFrames[0];
}

async function stoppedAfter(dc: DebugClient, request: Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const [event] = await Promise.all([dc.waitForEvent('stopped'), request]);
  return event as DebugProtocol.StoppedEvent;
}

describe('tel dap, driven by DebugClient', function () {
  let dc: DebugClient;

  before(function () {
    const why = unavailable();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
  });

  beforeEach(async function () {
    dc = new DebugClient(TEL, 'dap', 'tel', { cwd: path.dirname(PROGRAM) }, true);
    // A bound for a hung adapter, not a pacing: every wait below is for an event.
    dc.defaultTimeout = 60_000;
    await dc.start();
  });

  afterEach(async function () {
    await dc?.stop();
  });

  it('declares step back and reverse continue', async function () {
    const r = await dc.initializeRequest({ adapterID: 'tel', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    assert.strictEqual(r.body?.supportsStepBack, true);
    assert.strictEqual(r.body?.supportsConfigurationDoneRequest, true);
  });

  it('hits a breakpoint, steps, steps back, reads variables, reverse-continues', async function () {
    const [, , stack] = (await dc.hitBreakpoint(
      { program: PROGRAM, entry: 'main', stopOnEntry: false },
      { path: PROGRAM, line: LINE_ADD_LET },
    )) as [unknown, unknown, DebugProtocol.StackTraceResponse];
    const frame = stack.body.stackFrames[0];
    assert.match(frame.name, /add/);
    const threadId = (await dc.threadsRequest()).body.threads[0].id;
    assert.deepStrictEqual(
      { a: (await locals(dc, frame.id)).a, b: (await locals(dc, frame.id)).b },
      { a: '1', b: '2' },
    );

    // Forward one line: `s` exists.
    await stoppedAfter(dc, dc.nextRequest({ threadId }));
    let f = await top(dc, threadId);
    assert.strictEqual(f.line, LINE_ADD_RET);
    assert.strictEqual((await locals(dc, f.id)).s, '3');

    // Back one line: the state before `let s`.
    const back = await stoppedAfter(dc, dc.stepBackRequest({ threadId }));
    assert.strictEqual(back.body.reason, 'step');
    f = await top(dc, threadId);
    assert.strictEqual(f.line, LINE_ADD_LET);
    assert.strictEqual((await locals(dc, f.id)).s, undefined);

    // On to the second call of add, then back to the first.
    const second = await stoppedAfter(dc, dc.continueRequest({ threadId }));
    assert.strictEqual(second.body.reason, 'breakpoint');
    f = await top(dc, threadId);
    assert.deepStrictEqual([(await locals(dc, f.id)).a, (await locals(dc, f.id)).b], ['3', '10']);
    await stoppedAfter(dc, dc.reverseContinueRequest({ threadId }));
    f = await top(dc, threadId);
    assert.deepStrictEqual([(await locals(dc, f.id)).a, (await locals(dc, f.id)).b], ['1', '2']);
  });

  it('answers the Timeline requests: timeline, jump to effect, jump to position, compare', async function () {
    await Promise.all([
      dc.configurationSequence(),
      dc.launch({ program: PROGRAM, entry: 'main', stopOnEntry: true }),
      dc.waitForEvent('stopped'),
    ]);
    const threadId = (await dc.threadsRequest()).body.threads[0].id;
    const timeline = parseTimeline((await dc.customRequest('tel/timeline', {})).body);
    const log = findEffect(timeline, 'Log', 1);
    assert.ok(log, 'the timeline lists the Log effect');

    await stoppedAfter(dc, dc.customRequest('tel/jumpToEffect', { effect: 'Log', occurrence: 1 }));
    assert.strictEqual((await top(dc, threadId)).line, LINE_MAIN_LOG);

    await stoppedAfter(dc, dc.customRequest('tel/jumpToPosition', { position: 0 }));
    const start = await top(dc, threadId);
    assert.match(start.name, /main/);

    const compare = await dc.customRequest('tel/compareStates', { from: 0, to: log.entry.position });
    assert.ok(JSON.stringify(compare.body).includes('x'), 'x changed between the start and the Log');
  });
});
