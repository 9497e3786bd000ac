/**
 * Dockerfile, .dockerignore and compose.yaml. No Docker engine runs on this machine, so nothing here builds an
 * image: the files are checked for what the README promises (pinned bases, a non-root user, a health check that
 * works, keys mounted read-only and never copied), and the health check's own command is run against a real server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type SpawnedServer, spawnServer } from '../../testkit/spawn-server';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { safeLoad(text: string): unknown };

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: (op as string).toUpperCase(), args: rest.join(' ') };
    });
}

function knownSettings(): Set<string> {
  return new Set(
    read('.env.example')
      .split('\n')
      .map((line) => /^(?:#\s*)?([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined),
  );
}

const dockerfile = instructions(read('Dockerfile'));
const stages = dockerfile.filter((i) => i.op === 'FROM');
const lastStage = dockerfile.slice(dockerfile.lastIndexOf(stages[stages.length - 1]!));

describe('Dockerfile', () => {
  it('is multi-stage on a base pinned to an exact Node release that satisfies engines', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const arg = dockerfile.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    const image = arg?.args.slice('NODE_IMAGE='.length) ?? '';
    expect(image).toMatch(/^node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/);
    for (const stage of stages) expect(stage.args).toMatch(/^\$\{NODE_IMAGE\}( AS \w+)?$/);
    const [major, minor] = /^node:(\d+)\.(\d+)/.exec(image)!.slice(1).map(Number) as [number, number];
    const engines = JSON.parse(read('package.json')).engines.node as string;
    const [wantMajor, wantMinor] = />=(\d+)\.(\d+)/.exec(engines)!.slice(1).map(Number) as [number, number];
    expect(major === wantMajor ? minor >= wantMinor : major > wantMajor).toBe(true);
  });

  it('installs exactly the lock and ships no dev dependencies', () => {
    const runs = dockerfile.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).not.toMatch(/npm (install|i)\b/);
    expect(runs).toMatch(/npm prune --omit=dev/);
  });

  it('runs as an unprivileged numeric user, the one the Kubernetes manifest names', () => {
    const user = lastStage.filter((i) => i.op === 'USER').pop();
    expect(user?.args).toMatch(/^\d+(:\d+)?$/);
    const uid = Number(user!.args.split(':')[0]);
    expect(uid).toBeGreaterThan(0);
    expect(read('deploy/kubernetes/deployment.yaml')).toContain(`runAsUser: ${uid}`);
    // USER comes before the command, so nothing after it runs as root.
    expect(lastStage.findIndex((i) => i.op === 'USER')).toBeLessThan(lastStage.findIndex((i) => i.op === 'CMD'));
  });

  it('copies no secrets: only the build inputs, and the runtime stage only build output', () => {
    const copies = dockerfile.filter((i) => i.op === 'COPY' || i.op === 'ADD');
    expect(dockerfile.some((i) => i.op === 'ADD')).toBe(false);
    for (const copy of copies) {
      expect(copy.args).not.toMatch(/(^|\s|\/)(keys|\.env|\.local|data)(\/|\s|$)|\.pem|\.json\s+keys/);
      expect(copy.args).not.toMatch(/^\.\s/); // never the whole context
    }
    for (const copy of lastStage.filter((i) => i.op === 'COPY')) expect(copy.args).toMatch(/^--from=build /);
    const ignore = read('.dockerignore').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
    expect(ignore[0]).toBe('**'); // deny everything, then allow the build inputs
    for (const allowed of ignore.filter((line) => line.startsWith('!'))) {
      expect(allowed).toMatch(/^!(package(-lock)?\.json|tsconfig(\.build)?\.json|src\/\*\*|scripts\/\*\*)$/);
    }
    expect(ignore).toEqual(expect.arrayContaining(['**/.env', '**/*.pem']));
  });

  it('sets only settings the server knows, production, and keys at a mount point', () => {
    const env = lastStage.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
    const names = [...env.matchAll(/([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1] as string);
    expect(names.length).toBeGreaterThan(0);
    const known = knownSettings();
    expect(names.filter((name) => !known.has(name))).toEqual([]);
    expect(env).toMatch(/NODE_ENV=production/);
    expect(env).toMatch(/KEYS_DIR=\/etc\/firebridge\/keys/);
  });

  it('starts node directly (exec form, so SIGTERM reaches it) and checks /healthz', () => {
    expect(lastStage.find((i) => i.op === 'CMD')?.args).toBe('["node", "dist/main.js"]');
    expect(lastStage.find((i) => i.op === 'HEALTHCHECK')?.args).toMatch(/--interval=\S+ .*CMD \[.*\/healthz/);
  });
});

describe('the HEALTHCHECK command itself', () => {
  let server: SpawnedServer;
  const command = (): string[] => {
    const check = lastStage.find((i) => i.op === 'HEALTHCHECK')!.args;
    return JSON.parse(check.slice(check.indexOf('CMD ') + 4)) as string[];
  };
  const run = (port: string) =>
    new Promise<number | null>((resolve) => {
      const [bin, ...args] = command();
      expect(bin).toBe('node');
      const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', PORT: port }, stdio: 'ignore' });
      child.once('exit', (code) => resolve(code));
    });

  beforeAll(async () => {
    // Local mode: a real server that answers /healthz, in a folder of its own.
    const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-healthcheck-'));
    server = await spawnServer({ LOCAL_STATE_DIR: path.join(dir, '.local'), KEYS_DIR: path.join(dir, 'keys') });
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('exits 0 against a serving bridge and 1 when nothing answers', async () => {
    const port = new URL(server.url).port;
    expect(await run(port)).toBe(0);
    expect(await run('1')).toBe(1);
  }, 30_000);
});

describe('compose.yaml', () => {
  const compose = yaml.safeLoad(read('compose.yaml')) as Obj;
  const bridge = compose.services.firebridge as Obj;

  it('builds this Dockerfile and runs Redis beside it, each image pinned', () => {
    expect(bridge.build).toBe('.');
    expect(compose.services.redis.image).toMatch(/^redis:\d+\.\d+\.\d+(-[a-z]+)?$/);
    expect(bridge.depends_on.redis.condition).toBe('service_healthy');
    expect(bridge.environment.REDIS_URL).toMatch(/^redis:\/\/redis:6379/);
  });

  it('mounts the keyring read-only at KEYS_DIR and copies no secret into the service', () => {
    const keys = (bridge.volumes as string[]).find((volume) => volume.includes(bridge.environment.KEYS_DIR));
    expect(keys).toMatch(/^\.\/keys:\/etc\/firebridge\/keys:ro$/);
    expect(JSON.stringify(bridge.environment)).not.toMatch(/PRIVATE|BEGIN|TOKEN=/);
    expect(bridge.read_only).toBe(true);
    expect(bridge.cap_drop).toEqual(['ALL']);
  });

  it('publishes the port on loopback only and names only known settings', () => {
    for (const port of bridge.ports as string[]) expect(port).toMatch(/^127\.0\.0\.1:/);
    const known = knownSettings();
    expect(Object.keys(bridge.environment).filter((name) => !known.has(name))).toEqual([]);
  });
});
