import * as assert from 'assert';
import {
  description,
  effectCounts,
  findEffect,
  label,
  nodeAt,
  parseEffectSpec,
  parseTimeline,
  TimelineFormatError,
  type TimelineNode,
} from '../../src/timelineModel';

// A run of `main` calling `pay` twice (each performing Withdraw then Deposit) and logging.
const answer = {
  current: 31,
  entries: [
    { position: 0, kind: 'call', name: 'treasury::main', hash: 'vgb2cq4fabcdefgh', source: { path: '/p/treasury.tel' }, line: 80 },
    { position: 3, kind: 'call', name: 'treasury::pay', hash: 'j209pabo' },
    { position: 5, kind: 'effect', name: 'Withdraw', args: ['ETH', 10], result: null, clockMs: 0 },
    { position: 7, kind: 'effect', name: 'Deposit', args: ['alice', 10], result: null, clockMs: 0 },
    { position: 9, kind: 'return', name: 'treasury::pay', result: 10 },
    { position: 12, kind: 'call', name: 'treasury::pay', hash: 'j209pabo' },
    { position: 14, kind: 'effect', name: 'Withdraw', args: ['ETH', 20] },
    { position: 16, kind: 'effect', name: 'Deposit', args: ['bob', 20], clockMs: 250 },
    { position: 18, kind: 'return', name: 'treasury::pay', result: 20 },
    { position: 31, kind: 'effect', name: 'Log', args: ['paid 30'] },
    { position: 40, kind: 'return', name: 'treasury::main', result: 30 },
  ],
};

function shape(nodes: TimelineNode[]): unknown[] {
  return nodes.map((n) => (n.children.length ? [label(n), shape(n.children)] : label(n)));
}

describe('the timeline model', function () {
  it('nests effects and calls under the call that made them, folding returns in', function () {
    const t = parseTimeline(answer);
    assert.deepStrictEqual(shape(t.roots), [
      [
        'treasury::main #vgb2cq4f → 30',
        [
          ['treasury::pay #j209pabo → 10', ['Withdraw("ETH", 10)', 'Deposit("alice", 10)']],
          ['treasury::pay #j209pabo → 20', ['Withdraw("ETH", 20)', 'Deposit("bob", 20)']],
          'Log("paid 30")',
        ],
      ],
    ]);
    assert.strictEqual(t.entries.length, 11);
    assert.strictEqual(t.nodes.length, 8);
    assert.strictEqual(t.current, 31);
  });

  it('numbers the occurrences of each effect and finds the Nth', function () {
    const t = parseTimeline(answer);
    assert.deepStrictEqual(effectCounts(t), [
      { effect: 'Withdraw', count: 2 },
      { effect: 'Deposit', count: 2 },
      { effect: 'Log', count: 1 },
    ]);
    assert.strictEqual(findEffect(t, 'Deposit', 2)?.entry.position, 16);
    assert.strictEqual(findEffect(t, 'Deposit', 3), undefined);
    assert.strictEqual(description(findEffect(t, 'Deposit', 2)!), '#2 · @16 · t=250ms');
  });

  it('keeps occurrences the adapter numbered itself', function () {
    const t = parseTimeline({ entries: [{ position: 4, kind: 'effect', name: 'Log', occurrence: 7 }] });
    assert.strictEqual(t.nodes[0].entry.occurrence, 7);
  });

  it('finds the node at a position: the last one at or before it', function () {
    const t = parseTimeline(answer);
    assert.strictEqual(nodeAt(t, 0)?.entry.name, 'treasury::main');
    assert.strictEqual(nodeAt(t, 15)?.entry.position, 14);
    assert.strictEqual(nodeAt(t, 16)?.entry.position, 16);
    assert.strictEqual(nodeAt(t, 1000)?.entry.name, 'Log');
    assert.strictEqual(nodeAt(parseTimeline({ entries: [] }), 5), undefined);
  });

  it('sorts entries by position and uses the depths the adapter gives', function () {
    const t = parseTimeline({
      items: [
        { step: 8, type: 'Effect', name: 'Log', depth: 0 },
        { step: 1, type: 'Call', name: 'main', depth: 0 },
        { step: 2, type: 'Call', name: 'f', depth: 1 },
        // No return for f: the depth of the next entry closes it.
      ],
    });
    assert.deepStrictEqual(shape(t.roots), [['main', ['f']], 'Log']);
  });

  it('refuses an answer that is not a timeline, naming the problem', function () {
    assert.throws(() => parseTimeline({ nope: 1 }), TimelineFormatError);
    assert.throws(() => parseTimeline({ entries: [{ kind: 'call', name: 'x' }] }), /entry 0 has no numeric position/);
    assert.throws(() => parseTimeline({ entries: [3] }), /entry 0 is not an object/);
  });

  it('reads "Deposit 2" as the second Deposit', function () {
    assert.deepStrictEqual(parseEffectSpec('Deposit 2'), { effect: 'Deposit', occurrence: 2 });
    assert.deepStrictEqual(parseEffectSpec('Deposit#3'), { effect: 'Deposit', occurrence: 3 });
    assert.deepStrictEqual(parseEffectSpec(' Log '), { effect: 'Log', occurrence: 1 });
    assert.deepStrictEqual(parseEffectSpec('config::Ask 1'), { effect: 'config::Ask', occurrence: 1 });
    assert.strictEqual(parseEffectSpec('Deposit 0'), undefined);
    assert.strictEqual(parseEffectSpec('2 Deposit'), undefined);
  });
});
