/** Helpers shared by the benchmarks: token pools, a time-bounded loop, firebase-admin as the peer, output. */
import { type KeyObject, randomBytes, sign as cryptoSign } from 'node:crypto';
import type { Agent } from 'node:https';
import { type App, cert, deleteApp, initializeApp } from 'firebase-admin/app';
import type { TestKey } from '../testkit/keys';

export function b64u(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function signAsync(input: string, key: KeyObject): Promise<string> {
  return new Promise((resolve, reject) => {
    cryptoSign('sha256', Buffer.from(input), key, (err, sig) => (err ? reject(err) : resolve(sig.toString('base64url'))));
  });
}

/** `count` RS256 tokens with payloads from `payloadFor`, signed on the libuv pool (8 in flight). */
export async function signedTokens(
  key: TestKey,
  count: number,
  payloadFor: (i: number) => Record<string, unknown>,
): Promise<string[]> {
  const header = b64u({ alg: 'RS256', kid: key.kid, typ: 'JWT' });
  const out: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const payload = b64u(payloadFor(i));
      out[i] = `${header}.${payload}.${await signAsync(`${header}.${payload}`, key.privateKey)}`;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

/** The claims of user `i`'s Firebase ID token, as securetoken issues them after a custom-token sign-in. */
export function firebaseClaims(i: number, projectId: string, now: number, sameUser = false): Record<string, unknown> {
  const uid = sameUser ? 'google:110169484474386276334' : `google:${(110169484474386276334n + BigInt(i)).toString()}`;
  return {
    name: 'Ada Lovelace',
    picture: 'https://lh3.googleusercontent.com/a/ACg8ocJ4zX3y8YfQmVq0bM2n4Qe1S7kqZpRkX8u5Vf0=s96-c',
    google_sub: uid.slice(7),
    email: `user${i}@example.com`,
    email_verified: true,
    iss: `https://securetoken.google.com/${projectId}`,
    aud: projectId,
    auth_time: now - 60 - (i % 600),
    user_id: uid,
    sub: uid,
    iat: now - (i % 600),
    exp: now - (i % 600) + 3600,
    firebase: { identities: {}, sign_in_provider: 'custom' },
  };
}

/** Firebase ID tokens as securetoken issues them (~1 KB), one per user unless `sameUser`. */
export function firebaseIdTokens(
  key: TestKey,
  projectId: string,
  count: number,
  options: { sameUser?: boolean } = {},
): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  return signedTokens(key, count, (i) => ({
    ...firebaseClaims(i, projectId, now, options.sameUser),
    // Makes every token distinct even for one user (a new ID token per session/refresh).
    session: randomBytes(6).toString('base64url'),
  }));
}

/** Google ID tokens as Google issues them after a sign-in, each for a different account. */
export function googleIdTokens(key: TestKey, clientId: string, count: number): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  return signedTokens(key, count, (i) => ({
    iss: 'https://accounts.google.com',
    azp: 'android-client.apps.googleusercontent.com',
    aud: clientId,
    sub: (110169484474386276334n + BigInt(i)).toString(),
    email: `user${i}@example.com`,
    email_verified: true,
    name: 'Ada Lovelace',
    picture: 'https://lh3.googleusercontent.com/a/photo',
    iat: now,
    exp: now + 3600,
  }));
}

export interface Rate {
  ops: number;
  seconds: number;
  perSecond: number;
}

/** Calls `fn` sequentially (awaiting each) for about `ms`, after a short warm-up. */
export async function rate(fn: (i: number) => unknown, ms: number, warmupMs = Math.min(300, ms / 3)): Promise<Rate> {
  const run = async (budget: number): Promise<Rate> => {
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(budget * 1e6));
    let ops = 0;
    for (;;) {
      for (let j = 0; j < 32; j += 1) {
        const r = fn(ops);
        if (r instanceof Promise) await r;
        ops += 1;
      }
      if (process.hrtime.bigint() >= deadline) break;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { ops, seconds, perSecond: ops / seconds };
  };
  await run(warmupMs);
  return run(ms);
}

/** Runs `concurrency` loops of `fn` at once for about `ms` (for work that leaves the event loop). */
export async function concurrentRate(fn: (i: number) => Promise<unknown>, ms: number, concurrency: number): Promise<Rate> {
  const run = async (budget: number): Promise<Rate> => {
    const start = Date.now();
    let ops = 0;
    const loop = async () => {
      while (Date.now() - start < budget) {
        await fn(ops);
        ops += 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    const seconds = (Date.now() - start) / 1000;
    return { ops, seconds, perSecond: ops / seconds };
  };
  await run(Math.min(300, ms / 3));
  return run(ms);
}

/** firebase-admin, the peer: its cert fetch goes through `httpAgent` to the loopback fake. */
export function adminApp(serviceAccountJson: Record<string, string>, projectId: string, httpAgent: Agent, name: string): App {
  return initializeApp(
    {
      credential: cert({
        projectId: serviceAccountJson.project_id,
        clientEmail: serviceAccountJson.client_email,
        privateKey: serviceAccountJson.private_key,
      }),
      projectId,
      httpAgent,
    },
    name,
  );
}

export { deleteApp };

export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

export interface Row {
  case: string;
  figure: string;
  peer: string;
  ratio: number;
  target?: string;
  pass?: boolean;
}

export function printRows(title: string, rows: Row[]): void {
  process.stdout.write(`\n## ${title}\n\n| case | figure | peer (same run) | ratio | target |\n| --- | --- | --- | --- | --- |\n`);
  for (const r of rows) {
    const verdict = r.target ? `${r.target} ${r.pass ? 'MET' : 'MISSED'}` : '(informative)';
    process.stdout.write(`| ${r.case} | ${r.figure} | ${r.peer} | ${r.ratio.toFixed(2)}× | ${verdict} |\n`);
  }
}

/**
 * Several cases measured in interleaved samples (case A, B, C, A, B, C, ...), each sample `ms / samples` long;
 * the figure of a case is the median of its samples, so a burst of load from elsewhere on the machine moves one
 * sample of each case, not one case.
 */
export async function interleaved(
  cases: Record<string, (i: number) => unknown>,
  ms: number,
  samples = 5,
): Promise<Record<string, Rate & { samples: number[] }>> {
  const names = Object.keys(cases);
  const got: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const offsets: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const name of names) await rate(cases[name] as (i: number) => unknown, Math.min(200, ms / samples), 0); // warm-up
  // With --expose-gc (npm run bench runs the micro part so), a full collection before every sample: each case then
  // pays for the garbage it makes itself, not for the collection the case before it left due.
  const collect = (globalThis as { gc?: () => void }).gc;
  for (let s = 0; s < samples; s += 1) {
    for (const name of names) {
      const fn = cases[name] as (i: number) => unknown;
      const base = offsets[name] as number;
      collect?.();
      const r = await rate((i) => fn(base + i), ms / samples, 0);
      offsets[name] = base + r.ops;
      (got[name] as number[]).push(r.perSecond);
    }
  }
  const out: Record<string, Rate & { samples: number[] }> = {};
  for (const name of names) {
    const xs = [...(got[name] as number[])].sort((a, b) => a - b);
    const perSecond = xs[xs.length >> 1] as number;
    out[name] = { ops: offsets[name] as number, seconds: Number.NaN, perSecond, samples: got[name] as number[] };
  }
  return out;
}
