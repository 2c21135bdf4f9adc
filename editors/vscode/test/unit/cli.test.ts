import * as assert from 'assert';
import { parseRunJson, runArgs, storeAddArgs } from '../../src/cli';
import { diffSides, parseComparison } from '../../src/compare';
import { renderHistory } from '../../src/history';

describe('command lines', function () {
  it('builds tel run with every option', function () {
    assert.deepStrictEqual(runArgs({ program: 'a.tel', entry: 'fees::taker_fee', args: [1000], host: 'h.json', codebase: 'c.sqlite' }), [
      'run', 'a.tel', '--entry', 'fees::taker_fee', '--args', '[1000]', '--host', 'h.json', '--codebase', 'c.sqlite', '--json',
    ]);
    // A stored definition has no entry to choose.
    assert.deepStrictEqual(runArgs({ program: '#a7f3b2c1', entry: 'main' }), ['run', '#a7f3b2c1', '--json']);
    assert.deepStrictEqual(storeAddArgs(['x.tel']), ['store', 'add', 'x.tel']);
  });

  it('reads a value, with the Log lines before it', function () {
    const out = parseRunJson(
      JSON.stringify({
        value: 3, shown: '3', run_id: 'h13lhe8a1tq50f7c', steps: 4,
        effects: [{ effect: 'Log', args: ['paid'], at_ms: 250, result: null }, { effect: 'Deposit', args: ['alice', 25], at_ms: 250 }],
      }),
      'run h13lhe8a1tq50f7c kept in /p/.tel/codebase.sqlite\n',
      0,
    );
    assert.deepStrictEqual(out, {
      ok: true,
      summary: '3',
      log: ['[log @250ms] paid', '[Deposit @250ms] ["alice",25]', '= 3 (run h13lhe8a1tq50f7c)'],
    });
  });

  it('reads a runtime error with its stack', function () {
    const out = parseRunJson(
      JSON.stringify({
        run_id: 'x', effects: [],
        error: { kind: 'trap', message: 'division by zero', stack: [{ name: 'div::ratio', hash: 'aq9e7fggabc', file: 'div.tel', line: 1, column: 35 }] },
      }),
      '',
      3,
    );
    assert.deepStrictEqual(out, { ok: false, summary: 'division by zero', log: ['error: division by zero (run x)', '  at div::ratio #aq9e7fgg div.tel:1:35'] });
  });

  it('reads a refusal from stderr', function () {
    const out = parseRunJson('', 'error: cannot run a.tel: 2 error(s) in 1 file(s) (see `tel check`)\n', 1);
    assert.strictEqual(out.ok, false);
    assert.strictEqual(out.summary, 'cannot run a.tel: 2 error(s) in 1 file(s) (see `tel check`)');
  });
});

describe('comparing two positions', function () {
  it('lines up old and new values by name, sorted', function () {
    const c = parseComparison(
      { changes: [{ kind: 'local', frame: 'main', name: 'total', old: 1, new: 3 }, { kind: 'balance', name: 'alice', old: 0, new: 25 }] },
      10,
      200,
    );
    assert.deepStrictEqual(diffSides(c), {
      left: '// state at position 10\nbalance alice = 0\nlocal main.total = 1\n',
      right: '// state at position 200\nbalance alice = 25\nlocal main.total = 3\n',
    });
  });

  it('reads separate lists and absent values', function () {
    const c = parseComparison({ from: 1, to: 2, locals: [{ name: 'x', new: 'a' }], balances: [{ name: 'bob', old: 5 }] }, 0, 0);
    assert.deepStrictEqual(diffSides(c), {
      left: '// state at position 1\nbalance bob = 5\nlocal x = (absent)\n',
      right: '// state at position 2\nbalance bob = (absent)\nlocal x = a\n',
    });
    assert.match(diffSides(parseComparison({ changes: [] }, 3, 4)).left, /nothing changed between positions 3 and 4/);
  });
});

describe('history', function () {
  it('renders tel/history as tel store history does', function () {
    const text = renderHistory({
      name: 'pricing::gross',
      events: [
        { seq: 3, at: 1795325462, action: 'rename', name: 'pricing::gross', old_name: 'shop::with_tax', hash: '7ajt4gqm3973', reason: 'tel store rename shop::with_tax pricing::gross' },
        { seq: 2, at: 1795325380, action: 'update', name: 'shop::with_tax', old_hash: '3vmgi0maxx', hash: '7ajt4gqmyy', reason: 'tel store add shop.tel' },
        { seq: 1, at: 1795325291, action: 'bind', name: 'shop::with_tax', hash: '3vmgi0maxx', reason: null },
      ],
    });
    assert.strictEqual(
      text,
      [
        '// history of pricing::gross, newest first',
        '2026-11-22 05:31:02Z  rename  shop::with_tax -> pricing::gross (#7ajt4gqm)  [tel store rename shop::with_tax pricing::gross]',
        '2026-11-22 05:29:40Z  update  shop::with_tax #3vmgi0ma -> #7ajt4gqm  [tel store add shop.tel]',
        '2026-11-22 05:28:11Z  bind    shop::with_tax #3vmgi0ma',
        '',
      ].join('\n'),
    );
  });
});
