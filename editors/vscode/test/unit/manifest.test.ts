// The extension cannot be loaded into VS Code here (no editor may be downloaded at test
// time), so its manifest is checked against its code: every command it declares is
// registered, every command a menu names is declared, every setting the code reads exists,
// and the debugger's launch attributes are the ones the adapter is given.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  engines: { vscode: string };
  dependencies: Record<string, string>;
  contributes: {
    commands: { command: string }[];
    menus: Record<string, { command: string }[]>;
    configuration: { properties: Record<string, unknown> };
    grammars: { path: string; scopeName: string }[];
    languages: { configuration: string }[];
    debuggers: { type: string; configurationAttributes: { launch: { properties: Record<string, unknown> } } }[];
    views: Record<string, { id: string }[]>;
  };
};
const sources = fs
  .readdirSync(path.join(root, 'src'))
  .map((f) => fs.readFileSync(path.join(root, 'src', f), 'utf8'))
  .join('\n');

describe('the extension manifest', function () {
  it('registers every declared command, and declares every registered one', function () {
    const declared = manifest.contributes.commands.map((c) => c.command).sort();
    const registered = [...sources.matchAll(/register\('([a-zA-Z.]+)'/g)].map((m) => m[1]).sort();
    assert.deepStrictEqual(registered, declared);
  });

  it('names only declared commands in menus', function () {
    const declared = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
      for (const item of items) assert.ok(declared.has(item.command), `${menu}: ${item.command}`);
    }
  });

  it('declares every setting the code reads', function () {
    const props = new Set(Object.keys(manifest.contributes.configuration.properties));
    const read = [...sources.matchAll(/(?:get(?:<[^>]*>)?|settingPath)\('([a-zA-Z.]+)'/g)].map((m) => `tel.${m[1]}`);
    assert.ok(read.length >= 8, `found only ${read.length} reads`);
    for (const key of read) assert.ok(props.has(key), key);
    for (const key of ['tel.server.path', 'tel.codebase', 'tel.inlayHints.hashes', 'tel.inlayHints.letTypes']) assert.ok(props.has(key), key);
  });

  it('requires the VS Code version vscode-languageclient requires', function () {
    const lc = JSON.parse(
      fs.readFileSync(path.join(root, 'node_modules', 'vscode-languageclient', 'package.json'), 'utf8'),
    ) as { engines: { vscode: string }; version: string };
    assert.strictEqual(manifest.engines.vscode, lc.engines.vscode);
    assert.strictEqual(manifest.dependencies['vscode-languageclient'], lc.version);
  });

  it('points at the shared grammar and a language configuration that parse', function () {
    const g = manifest.contributes.grammars[0];
    assert.strictEqual(g.path, './syntaxes/tel.tmLanguage.json');
    const grammar = JSON.parse(fs.readFileSync(path.join(root, '..', '..', 'syntaxes', 'tel.tmLanguage.json'), 'utf8')) as { scopeName: string };
    assert.strictEqual(grammar.scopeName, g.scopeName);
    const lc = JSON.parse(fs.readFileSync(path.join(root, manifest.contributes.languages[0].configuration), 'utf8')) as {
      comments: { lineComment: string; blockComment: string[] };
      wordPattern: string;
    };
    assert.deepStrictEqual(lc.comments, { lineComment: '//', blockComment: ['/*', '*/'] });
    // A hash literal is one word (double-click selects it whole).
    assert.deepStrictEqual('x = #a7f3b2c1.1;'.match(new RegExp(lc.wordPattern, 'g')), ['x', '#a7f3b2c1.1']);
  });

  it('contributes the tel debugger with the launch attributes of tel dap, and the Timeline view', function () {
    const d = manifest.contributes.debuggers[0];
    assert.strictEqual(d.type, 'tel');
    assert.deepStrictEqual(Object.keys(d.configurationAttributes.launch.properties).sort(), [
      'args', 'codebase', 'entry', 'host', 'limits', 'program', 'stopOnEntry',
    ]);
    assert.deepStrictEqual(manifest.contributes.views.debug.map((v) => v.id), ['tel.timeline']);
    for (const request of ['tel/timeline', 'tel/jumpToPosition', 'tel/jumpToEffect', 'tel/compareStates', 'tel/fork']) {
      assert.ok(sources.includes(`'${request}'`), request);
    }
  });
});
