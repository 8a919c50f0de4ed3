// Bundles the GraphiQL page (src/http/graphiql-page/) into dist/public/graphiql/
// as graphiql.js + graphiql.css. Runs as the second half of `npm run build`.
//
// Everything the page needs is bundled here because the machines that serve it
// are offline: no CDN, no web fonts from elsewhere.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'public', 'graphiql');

rmSync(outdir, { recursive: true, force: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { graphiql: 'src/http/graphiql-page/main.jsx' },
  outdir,
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  // React and friends pick their production build from this.
  define: { 'process.env.NODE_ENV': '"production"' },
  // Licence headers of the bundled packages go to graphiql.js.LEGAL.txt.
  legalComments: 'linked',
  sourcemap: false,
  metafile: true,
  logLevel: 'warning',
});

// The page must load nothing from elsewhere. Plain links in the code (docs,
// error decoders) are harmless; a url() in the CSS or an @import would be a fetch.
const css = readFileSync(join(outdir, 'graphiql.css'), 'utf8');
const remote = css.match(/(?:url\(\s*['"]?|@import\s+['"])(?:https?:)?\/\/[^'")\s]+/i);
if (remote) {
  throw new Error(`graphiql.css references a remote resource: ${remote[0]}`);
}

for (const [file, { bytes }] of Object.entries(result.metafile.outputs)) {
  console.log(`${relative(root, join(root, file))}  ${(bytes / 1024).toFixed(0)} KiB`);
}
