// Bundles the extension into dist/extension.js (vscode-languageclient included, `vscode`
// external) and copies the shared TextMate grammar into the package.
// `--tests`: instead, compiles src/ and test/ file by file into out/ for mocha (the types
// are checked by `tsc --noEmit`; esbuild only strips them, in a fraction of the time).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'fs';
import { join } from 'path';

const production = process.argv.includes('--production');

if (process.argv.includes('--tests')) {
  const ts = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? ts(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  await esbuild.build({
    entryPoints: [...ts('src'), ...ts('test')],
    outdir: 'out',
    outbase: '.',
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
  process.exit(0);
}

mkdirSync('syntaxes', { recursive: true });
copyFileSync('../../syntaxes/tel.tmLanguage.json', 'syntaxes/tel.tmLanguage.json');

await esbuild.build({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outfile: 'dist/extension.js',
  external: ['vscode'],
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
});
