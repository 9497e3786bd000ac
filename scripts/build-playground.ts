/**
 * Bundles the playground (src/local/playground/, browser code) into dist/playground/: playground.js (the page's
 * code with the Firebase JS SDK, from node_modules: no CDN), playground.css and index.html. Run by `npm run build`;
 * the tests call buildPlayground() first. Each file is written to a temporary name and renamed, so a server (or a
 * test running next to another build) never reads half a file.
 */
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');
export const PLAYGROUND_SOURCE = path.join(ROOT, 'src/local/playground');
export const PLAYGROUND_OUT = path.join(ROOT, 'dist/playground');

function replaceAtomically(file: string, write: (tmp: string) => void): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  write(tmp);
  renameSync(tmp, file);
}

/** Builds into outDir (default dist/playground) and returns the files written. */
export async function buildPlayground(outDir = PLAYGROUND_OUT): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [path.join(PLAYGROUND_SOURCE, 'main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['es2022'],
    minify: true,
    legalComments: 'eof',
    tsconfig: path.join(PLAYGROUND_SOURCE, 'tsconfig.json'),
    outfile: path.join(outDir, 'playground.js'),
    write: false,
    logLevel: 'warning',
  });
  const written: string[] = [];
  for (const file of result.outputFiles) {
    replaceAtomically(file.path, (tmp) => writeFileSync(tmp, file.contents, { mode: 0o644 }));
    written.push(file.path);
  }
  for (const name of ['index.html', 'playground.css']) {
    const target = path.join(outDir, name);
    replaceAtomically(target, (tmp) => copyFileSync(path.join(PLAYGROUND_SOURCE, name), tmp));
    written.push(target);
  }
  return written;
}

if (require.main === module) {
  buildPlayground().then(
    (files) => {
      // stderr: `npm pack --json` runs this (prepare) and its stdout must stay the JSON alone.
      for (const file of files) console.error(`built ${path.relative(ROOT, file)}`);
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
