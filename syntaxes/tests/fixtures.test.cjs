// The grammar over every fixture of the repository: valid TEL never shows an `invalid.*`
// scope and leaves nothing open at the end of the file; the lexer errors of fixtures/broken
// are marked where the lexer reports them. Run by editors/test.sh (mocha).
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { tokenize, repo } = require('./tokenize.cjs');

function telFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return telFiles(p);
    return e.name.endsWith('.tel') ? [p] : [];
  });
}

async function tokensOf(rel) {
  return tokenize(fs.readFileSync(path.join(repo, rel), 'utf8'));
}

/** 1-based line numbers of the tokens carrying `scope`. */
function linesWith(tokens, scope) {
  return [...new Set(tokens.filter((t) => t.scopes.includes(scope)).map((t) => t.line + 1))];
}

describe('TextMate grammar over fixtures/', function () {
  const valid = [
    ...telFiles(path.join(repo, 'fixtures', 'valid')),
    ...telFiles(path.join(repo, 'fixtures', 'projects')),
  ];

  it('finds the valid fixtures', function () {
    assert.ok(valid.length >= 20, `only ${valid.length} fixture files`);
  });

  for (const file of valid) {
    const rel = path.relative(repo, file);
    it(`${rel}: no invalid scope, nothing left open`, async function () {
      const { tokens, depth } = await tokensOf(rel);
      const bad = tokens.filter((t) => t.scopes.some((s) => s.startsWith('invalid')));
      assert.deepStrictEqual(
        bad.map((t) => `${t.line + 1}:${t.start + 1} ${JSON.stringify(t.text)} ${t.scopes.join(' ')}`),
        [],
      );
      assert.strictEqual(depth, 1, 'a begin/end rule is still open at the end of the file');
      // Every definition keyword the file uses is coloured as one (not swallowed by a
      // comment, string or effect row left open earlier).
      const fnKeywords = tokens.filter((t) => t.text === 'fn' && !t.scopes.some((s) => s.startsWith('comment')));
      for (const t of fnKeywords) assert.ok(t.scopes.includes('storage.type.function.tel'), `${rel}:${t.line + 1}`);
    });
  }

  it('marks the three bad hash literals, and only them', async function () {
    const { tokens } = await tokensOf('fixtures/broken/bad_hash_literals.tel');
    const bad = tokens.filter((t) => t.scopes.includes('invalid.illegal.hash.tel'));
    assert.deepStrictEqual(bad.map((t) => [t.line + 1, t.text]), [[4, '#xyz'], [5, '#ab'], [6, '#A7F3B2C1']]);
  });

  it('marks unknown duration suffixes, not 15min', async function () {
    const { tokens } = await tokensOf('fixtures/broken/unknown_duration_suffix.tel');
    const bad = tokens.filter((t) => t.scopes.includes('invalid.illegal.numeric.tel'));
    assert.deepStrictEqual(bad.map((t) => [t.line + 1, t.text]), [[4, '10sec'], [5, '5m']]);
    assert.deepStrictEqual(linesWith(tokens, 'constant.numeric.duration.tel'), [6]);
  });

  it('keeps an unclosed nested block comment open to the end of the file', async function () {
    const { tokens, depth } = await tokensOf('fixtures/broken/unclosed_block_comment.tel');
    const last = tokens.filter((t) => t.line === 15);
    assert.ok(last.length > 0 && last.every((t) => t.scopes.includes('comment.block.tel')));
    assert.ok(depth > 1);
    assert.deepStrictEqual(linesWith(tokens, 'entity.name.function.tel'), [3]);
  });

  it('ends an unterminated string with its line', async function () {
    const { tokens, depth } = await tokensOf('fixtures/broken/unterminated_string.tel');
    assert.deepStrictEqual(linesWith(tokens, 'string.quoted.double.tel'), [4, 8]);
    assert.deepStrictEqual(linesWith(tokens, 'entity.name.function.tel'), [3, 7]);
    assert.strictEqual(depth, 1);
  });
});
