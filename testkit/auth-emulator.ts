/**
 * The official Firebase Auth Emulator (firebase-tools), run offline for the tests in
 * test/e2e/auth-emulator/. firebase-tools is about 250 MB, so it is not in the project's own
 * package.json: it has its own package.json and lock in test/e2e/auth-emulator/, which .ci/run
 * installs (`npm ci` there). Without it, those tests are skipped with a line saying how to install it.
 *
 * Each emulator runs as its own process group on free loopback ports, with a `demo-` project (which
 * needs no Google account and no network), CI=true (no prompts), and its own HOME, XDG_CONFIG_HOME and
 * TMPDIR in a temp folder (it reads no real configuration and writes its hub locator there).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeLoopbackPort } from './nginx';

export const AUTH_EMULATOR_DIR = path.resolve(__dirname, '../test/e2e/auth-emulator');
const FIREBASE_BIN = path.join(AUTH_EMULATOR_DIR, 'node_modules/firebase-tools/lib/bin/firebase.js');

/** How to install it, for the skip line. */
export const AUTH_EMULATOR_INSTALL = '(cd test/e2e/auth-emulator && npm ci); .ci/run does this';

/** firebase-tools' entry script, or undefined when it is not installed. */
export function firebaseToolsBinary(): string | undefined {
  return existsSync(FIREBASE_BIN) ? FIREBASE_BIN : undefined;
}

/** Its start takes a while on a loaded machine (it builds its OpenAPI validators). */
const START_TIMEOUT_MS = 150_000;

export interface RunningAuthEmulator {
  projectId: string;
  /** host:port, as FIREBASE_AUTH_EMULATOR_HOST takes it. */
  host: string;
  /** http://host:port */
  url: string;
  output(): string;
  /** Its REST API (`/identitytoolkit.googleapis.com/v1/...`, `/emulator/v1/...`), JSON in and out. */
  call(method: 'GET' | 'POST' | 'DELETE', pathAndQuery: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Signs in with a custom token as a client SDK does (any API key works); the emulator's answer. */
  signInWithCustomToken(customToken: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Ends the whole process group and removes its folder. */
  stop(): Promise<void>;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export async function startAuthEmulator(projectId: string): Promise<RunningAuthEmulator> {
  const binary = firebaseToolsBinary();
  if (binary === undefined) throw new Error(`firebase-tools is not installed: ${AUTH_EMULATOR_INSTALL}`);
  if (!projectId.startsWith('demo-')) throw new Error('the emulator runs offline only for a demo- project');
  const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-auth-emulator-'));
  const [authPort, hubPort, loggingPort] = [await freeLoopbackPort(), await freeLoopbackPort(), await freeLoopbackPort()];
  writeFileSync(
    path.join(dir, 'firebase.json'),
    JSON.stringify({
      emulators: {
        auth: { host: '127.0.0.1', port: authPort },
        hub: { host: '127.0.0.1', port: hubPort },
        logging: { host: '127.0.0.1', port: loggingPort },
        ui: { enabled: false },
      },
    }),
  );
  const child = spawn(process.execPath, [binary, 'emulators:start', '--only', 'auth', '--project', projectId], {
    cwd: dir,
    // Its own process group: stop() ends it and anything it started.
    detached: true,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      XDG_CONFIG_HOME: path.join(dir, '.config'),
      TMPDIR: dir,
      CI: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const host = `127.0.0.1:${authPort}`;
  const url = `http://${host}`;

  const call: RunningAuthEmulator['call'] = async (method, pathAndQuery, body, headers = {}) => {
    const response = await fetch(`${url}${pathAndQuery}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };

  const stop = async () => {
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    // Whatever else is left of the group.
    killGroup(child, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  // Ready when it answers (its root says {"authEmulator":{"ready":true,...}}); bounded, and never past its exit.
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`the Auth Emulator exited before it was ready:\n${out}`);
    }
    try {
      const { status, body } = await call('GET', '/');
      if (status === 200 && (body.authEmulator as { ready?: boolean } | undefined)?.ready === true) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the Auth Emulator was not ready after ${START_TIMEOUT_MS} ms:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  return {
    projectId,
    host,
    url,
    output: () => out,
    call,
    signInWithCustomToken: (customToken) =>
      call('POST', '/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken?key=any-api-key', { token: customToken, returnSecureToken: true }),
    stop,
  };
}
