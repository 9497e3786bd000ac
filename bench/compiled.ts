/**
 * The bench's servers as production runs firebridge: compiled by tsc (as `npm run build` compiles dist/, which
 * `npm start` and the Dockerfile run with plain node), not transpiled on the fly by tsx (whose esbuild output wraps
 * named functions in a `__name` helper and runs behind its loader hooks; a few per cent of a hot path's CPU).
 * compileForBench() compiles the given entry points and everything they import (src/, testkit/, bench/) into
 * node_modules/.cache/firebridge-bench/ (so their requires find the project's node_modules) and returns where each
 * entry point's JavaScript is.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
export const BENCH_BUILD_DIR = path.join(ROOT, 'node_modules', '.cache', 'firebridge-bench');

export function compileForBench(entryPoints: readonly string[]): (entryPoint: string) => string {
  rmSync(BENCH_BUILD_DIR, { recursive: true, force: true });
  mkdirSync(BENCH_BUILD_DIR, { recursive: true });
  const tsconfig = path.join(BENCH_BUILD_DIR, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.json'),
      compilerOptions: { outDir: path.join(BENCH_BUILD_DIR, 'out'), rootDir: ROOT, declaration: false, sourceMap: false, noEmit: false, types: ['node'] },
      files: entryPoints.map((entry) => path.join(ROOT, entry)),
      include: [],
    }),
  );
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', tsconfig], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  if (tsc.status !== 0) throw new Error(`tsc could not compile the bench servers:\n${tsc.stdout}${tsc.stderr}`);
  return (entryPoint) => path.join(BENCH_BUILD_DIR, 'out', entryPoint.replace(/\.ts$/, '.js'));
}
