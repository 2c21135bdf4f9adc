// Tokenizes TEL files with the grammar through vscode-textmate (the engine VS Code uses),
// for the fixture sweep (fixtures.test.cjs) and for looking at scopes by hand:
//   node syntaxes/tests/tokenize.cjs FILE...   prints each token with its scopes.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const repo = path.resolve(__dirname, '..', '..');
// The npm dependencies live with the VS Code extension (one lockfile for every editor test).
const requireDep = createRequire(path.join(repo, 'editors', 'vscode', 'package.json'));
const vsctm = requireDep('vscode-textmate');
const oniguruma = requireDep('vscode-oniguruma');

let registryPromise;
function registry() {
  if (!registryPromise) {
    const wasm = fs.readFileSync(requireDep.resolve('vscode-oniguruma/release/onig.wasm')).buffer;
    registryPromise = oniguruma.loadWASM(wasm).then(() => {
      const onigLib = Promise.resolve({
        createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
        createOnigString: (s) => new oniguruma.OnigString(s),
      });
      return new vsctm.Registry({
        onigLib,
        loadGrammar: async (scopeName) => {
          if (scopeName !== 'source.tel') return null;
          const file = path.join(repo, 'syntaxes', 'tel.tmLanguage.json');
          return vsctm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
        },
      });
    });
  }
  return registryPromise;
}

/**
 * Every token of `text`, `{line, start, end, text, scopes}` (lines and columns from 0), and
 * the depth of the rule stack after the last line (1: nothing left open).
 */
async function tokenize(text) {
  const grammar = await (await registry()).loadGrammar('source.tel');
  const out = [];
  let state = vsctm.INITIAL;
  text.split(/\r?\n/).forEach((line, lineNo) => {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) {
      out.push({ line: lineNo, start: t.startIndex, end: t.endIndex, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    }
    state = r.ruleStack;
  });
  return { tokens: out, depth: state.depth };
}

module.exports = { tokenize, repo };

if (require.main === module) {
  (async () => {
    for (const file of process.argv.slice(2)) {
      for (const t of (await tokenize(fs.readFileSync(file, 'utf8'))).tokens) {
        if (t.text.trim() === '') continue;
        console.log(`${t.line + 1}:${t.start + 1}\t${JSON.stringify(t.text)}\t${t.scopes.slice(1).join(' ')}`);
      }
    }
  })().catch((e) => { console.error(e); process.exit(1); });
}
