import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The library as a user gets it: `npm pack` of a clean copy of the repository (what `npm install <git url>` does:
 * clone, run `prepare`, pack), the tarball unpacked into a temporary app's node_modules as npm lays it out, and the
 * README's snippet run there with `require`, `import` and the TypeScript types. The app's other dependencies are
 * links into this checkout's node_modules, so the test never reaches a registry; only firebridge's declared runtime
 * dependencies are linked, so an import of a dev dependency from the built library would fail here.
 */
const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
};

let work: string;
let app: string;
let files: string[];

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '');
}

function link(name: string): void {
  const target = path.join(app, 'node_modules', name);
  mkdirSync(path.dirname(target), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules', name), target, 'dir');
}

function readmeBlock(heading: string, lang: string): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  if (!match) throw new Error(`README: no ${lang} block under ${heading}`);
  return match[1] as string;
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'firebridge-pack-'));
  // A clean copy of what git holds (plus new, not ignored files): no dist/, no keys, no .env.
  const clone = path.join(work, 'clone');
  for (const file of trackedFiles()) {
    const from = path.join(ROOT, file);
    const to = path.join(clone, file);
    mkdirSync(path.dirname(to), { recursive: true });
    try {
      cpSync(from, to);
    } catch {
      // a file deleted in the work tree but still in the index
    }
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: clone, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // `prepare`'s own output (the build's lines) comes first on stdout; npm's JSON report is the array after it.
  const report = /^\[\s*\{/m.exec(output);
  if (!report) throw new Error(`npm pack printed no JSON report:\n${output}`);
  const packed = JSON.parse(output.slice(report.index)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = packed[0]!.files.map((file) => file.path);
  app = path.join(work, 'app');
  mkdirSync(path.join(app, 'node_modules', pkg.name), { recursive: true });
  execFileSync('tar', ['xzf', path.join(work, packed[0]!.filename), '-C', path.join(app, 'node_modules', pkg.name), '--strip-components=1']);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { [pkg.name]: pkg.version } }));
  for (const dependency of Object.keys(pkg.dependencies)) link(dependency);
  // What the snippet's own author installs to type-check it.
  for (const types of ['@types/express', '@types/node', '@types/express-serve-static-core', '@types/serve-static', '@types/qs', '@types/range-parser', '@types/send', '@types/mime', '@types/http-errors', '@types/body-parser', '@types/connect']) {
    try {
      link(types);
    } catch {
      // not every @types package exists in every version of the tree
    }
  }
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed library', () => {
  it('ships the built library, its types and the licence, and nothing private', () => {
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/playground/playground.js']));
    expect(files.filter((file) => /^(src|test|testkit|keys|bench|scripts)\//.test(file))).toEqual([]);
    expect(files.filter((file) => /(^|\/)\.env$|\.pem$|private/i.test(file))).toEqual([]);
    expect(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
  });

  it('require() gives the README\'s exports', () => {
    const out = execFileSync(
      process.execPath,
      ['-e', "const f = require('firebridge'); console.log(JSON.stringify([typeof f.firebaseVerifier, typeof f.requireFirebaseAuth, typeof f.FirebaseBearerStrategy, Array.isArray(f.ERROR_CODES)]))"],
      { cwd: app, encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function', true]);
  });

  it('import gives the same named exports', () => {
    writeFileSync(
      path.join(app, 'esm.mjs'),
      "import { firebaseVerifier, requireFirebaseAuth, InvalidTokenError } from 'firebridge';\n" +
        'console.log(JSON.stringify([typeof firebaseVerifier, typeof requireFirebaseAuth, typeof InvalidTokenError]));\n',
    );
    expect(JSON.parse(execFileSync(process.execPath, ['esm.mjs'], { cwd: app, encoding: 'utf8' }))).toEqual(['function', 'function', 'function']);
  });

  it('the README snippet type-checks against the packed types and answers a request without a token with 401', async () => {
    const snippet = readmeBlock('## Protect your own express routes', 'ts');
    writeFileSync(
      path.join(app, 'app.ts'),
      `${snippet}\nconst server = app.listen(0, '127.0.0.1', () => console.log('PORT', (server.address() as { port: number }).port));\n`,
    );
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, esModuleInterop: true, types: ['node'], outDir: 'out' },
        files: ['app.ts'],
      }),
    );
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
    } catch (err) {
      throw new Error(`the README snippet does not type-check:\n${(err as { stdout?: string }).stdout ?? ''}`);
    }
    const child = spawn(process.execPath, ['out/app.js'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`snippet did not listen: ${out}`)), 15_000);
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /PORT (\d+)/.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        });
        child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.once('exit', (code) => reject(new Error(`snippet exited with ${code}: ${out}`)));
      });
      const missing = await fetch(`http://127.0.0.1:${port}/orders`);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
      const garbage = await fetch(`http://127.0.0.1:${port}/orders`, { headers: { authorization: 'Bearer not-a-jwt' } });
      expect(garbage.status).toBe(401);
      expect(await garbage.json()).toMatchObject({ error: 'invalid_token' });
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});
