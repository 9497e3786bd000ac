import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The layers of src/, bottom to top (README.md, "Layout"): each imports only layers below it, and
 * never a sibling. A regression (say auth/ importing http/ for an interface) fails here.
 */
const LAYERS: ReadonlyArray<readonly string[]> = [
  ['errors', 'clock', 'logger'],
  // outcomes: the counts of outcomes by error code that components keep for the metrics.
  ['outcomes'],
  // audit: the tamper-evident audit trail's chain writer and verifier (node fs, the clock, the logger only).
  ['config', 'outbound', 'store', 'audit'],
  ['jwt'],
  ['auth'],
  // vault: the refresh-token vault's rules and its SQLite/PostgreSQL storage (Google's OAuth calls come through auth/'s port).
  ['google', 'keys', 'vault'],
  // metrics: prom-client's registry, reading the components' counts at scrape time (compose wires it to http/).
  ['http', 'metrics'],
  // Local mode's emulated Google serves its own routes with http/'s routing helpers; http/ never imports it.
  ['local'],
  ['compose'],
  // `npm run doctor`'s checks: they build the server's own clients through compose/, and only cli/ runs them.
  ['doctor'],
  ['main', 'index', 'cli'],
];

const SRC = path.resolve(__dirname, '../src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** The room of a file: its top folder under src/, or its own name for a file at the top. */
function roomOf(file: string): string {
  const [first] = path.relative(SRC, file).split(path.sep);
  return (first as string).replace(/\.ts$/, '');
}

function layerOf(room: string): number {
  const index = LAYERS.findIndex((rooms) => rooms.includes(room));
  if (index < 0) throw new Error(`src/${room} is in no layer: add it to LAYERS and to README.md's layout`);
  return index;
}

/** Every relative import of a file (static imports, re-exports, `import type`), resolved to a file under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/g)].map((m) => m[1] as string);
  return specs.map((spec) => path.resolve(path.dirname(file), spec));
}

describe('architecture: imports run only downward', () => {
  const files = filesUnder(SRC);

  it('finds the source files and every room has a layer', () => {
    expect(files.length).toBeGreaterThan(50);
    for (const file of files) layerOf(roomOf(file));
  });

  it('no file imports a layer above its own, or a sibling room of its layer', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = roomOf(file);
      for (const target of importsOf(file)) {
        const to = roomOf(target);
        if (to === from) continue;
        if (layerOf(to) >= layerOf(from)) wrong.push(`${path.relative(SRC, file)} → ${path.relative(SRC, target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('production code reaches local mode only through the composition root', () => {
    const importers = files.filter((file) => roomOf(file) !== 'local' && importsOf(file).some((t) => roomOf(t) === 'local'));
    expect(importers.map((f) => path.relative(SRC, f)).every((f) => f.startsWith(`compose${path.sep}`))).toBe(true);
  });

  it('the test tree mirrors src/: every test folder names a room of src/ (or e2e, fuzz)', () => {
    const testRoot = path.resolve(__dirname);
    const folders = readdirSync(testRoot).filter((name) => statSync(path.join(testRoot, name)).isDirectory());
    const rooms = new Set(LAYERS.flat());
    expect(folders.filter((name) => !rooms.has(name) && !['e2e', 'fuzz'].includes(name))).toEqual([]);
  });
});
