// Bundles the extension into dist/extension.js (vscode-languageclient included, `vscode`
// external) and copies the shared TextMate grammar into the package.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'fs';

const production = process.argv.includes('--production');

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
