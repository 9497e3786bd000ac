/**
 * Memory of the verified-token cache: 1,000,000 distinct Firebase ID tokens (realistic size and
 * claims, ~1.1 KB each) through VerifiedTokenCache with the default cap. The inner verifier is a
 * stand-in that parses the payload as the real one does (the real verifier keeps no per-token
 * state; its RSA cost is measured by bench/micro.ts), so this isolates what the cache holds.
 * Prints heap and RSS growth, and the measured bytes per entry behind the documented estimate.
 * --uses 1: each token verified once (distinct users' one-off calls: second-use admission keeps
 * them out of the cache); --uses 2: each verified twice in a row, so every token is admitted and
 * the cache churns through all of them (the worst case for memory).
 * --real: the real FirebaseIdTokenVerifier (RS256 against the fake Google's keys) over really signed tokens
 * (signed before the measurement and kept off the heap in one Buffer; each use gets a fresh string of its token,
 * as each request brings), so what the verifier and the cache hold together is measured.
 *   node --expose-gc --import tsx bench/cache-memory.ts [--tokens 1000000] [--cap 10000] [--uses 1] [--real]
 */
import { randomBytes } from 'node:crypto';
import { FirebaseIdTokenVerifier, type FirebaseUser } from '../src/auth/firebase-id-token-verifier';
import pino from 'pino';
import { KeySetCache } from '../src/jwt/key-set-cache';
import { HttpKeySetSource } from '../src/jwt/key-set-source';
import { FakeGoogle } from '../testkit/fake-google';
import { APPROX_BYTES_PER_ENTRY, VerifiedTokenCache } from '../src/auth/verified-token-cache';
import { b64u, firebaseClaims, firebaseIdTokens } from './common';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const TOKENS = arg('tokens', 1_000_000);
const CAP = arg('cap', 10_000);
const USES = arg('uses', 1);
const REAL = process.argv.includes('--real');
const gc = (globalThis as { gc?: () => void }).gc;
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

function settle(): NodeJS.MemoryUsage {
  gc?.();
  gc?.();
  return process.memoryUsage();
}

async function main(): Promise<void> {
  if (!gc) throw new Error('run with node --expose-gc');
  const projectId = 'bench-project-1';
  const header = b64u({ alg: 'RS256', kid: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', typ: 'JWT' });
  const now = Math.floor(Date.now() / 1000);
  let token = (i: number): string => {
    const claims = firebaseClaims(i, projectId, now);
    // A Google-linked account's identities, as in the ID token after a Google sign-in: the larger, realistic case.
    claims.firebase = { identities: { 'google.com': [claims.google_sub], email: [claims.email] }, sign_in_provider: 'custom' };
    return `${header}.${b64u(claims)}.${randomBytes(256).toString('base64url')}`;
  };
  let inner: { verify(t: string): Promise<FirebaseUser> } = {
    async verify(t: string): Promise<FirebaseUser> {
      const claims = JSON.parse(Buffer.from(t.slice(t.indexOf('.') + 1, t.lastIndexOf('.')), 'base64url').toString('utf8')) as Record<string, unknown>;
      return { uid: claims.sub as string, claims, exp: claims.exp as number };
    },
  };
  let keys: ConstructorParameters<typeof VerifiedTokenCache>[0]['keys'] = { hasKid: () => true, isFresh: () => true, warm: async () => undefined };
  let fake: FakeGoogle | undefined;
  if (REAL) {
    fake = await FakeGoogle.start(projectId);
    const keySet = new KeySetCache({
      source: new HttpKeySetSource(fake.firebaseCertsUrl, { fetch: globalThis.fetch, timeoutMs: 5000 }),
      logger: pino({ level: 'silent' }),
      clock: Date.now,
      cooldownMs: 10_000,
      maxStaleMs: 3_600_000,
    });
    await keySet.warm();
    keys = keySet;
    inner = new FirebaseIdTokenVerifier({ keys: keySet, projectId, skewSeconds: 60, clock: Date.now });
    const signed = await firebaseIdTokens(fake.securetoken.keys[0]!, projectId, TOKENS);
    const offsets = new Uint32Array(TOKENS + 1);
    for (let i = 0; i < TOKENS; i += 1) offsets[i + 1] = (offsets[i] as number) + (signed[i] as string).length;
    const all = Buffer.from(signed.join(''), 'latin1');
    signed.length = 0;
    token = (i: number) => all.toString('latin1', offsets[i], offsets[i + 1]);
  }
  const cache = new VerifiedTokenCache({ inner, keys, clock: Date.now, skewSeconds: 60, maxEntries: CAP });

  const base = settle();
  let atCap: NodeJS.MemoryUsage | undefined;
  let peakRss = base.rss;
  const started = Date.now();
  for (let i = 0; i < TOKENS; i += 1) {
    const t = token(i);
    for (let use = 0; use < USES; use += 1) await cache.verify(REAL && use > 0 ? token(i) : t);
    if (i + 1 === CAP) atCap = settle();
    if ((i + 1) % 100_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const endRaw = process.memoryUsage();
  const end = settle();
  const capUse = atCap ?? end;
  const cached = atCap !== undefined && cache.stats().entries > 0;
  const perEntry = cached ? (capUse.heapUsed - base.heapUsed) / Math.min(CAP, TOKENS) : Number.NaN;
  const tokenLength = token(0).length;
  process.stdout.write(
    [
      `# verified-token cache memory (${new Date().toISOString()}, node ${process.version}; ${REAL ? 'the real verifier, RS256, really signed tokens' : 'a stand-in verifier that parses the payload'})`,
      `${TOKENS.toLocaleString('en-US')} distinct tokens of ${tokenLength} characters, each verified ${USES}×, cap ${CAP.toLocaleString('en-US')} entries, ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `entries held at the end: ${cache.stats().entries.toLocaleString('en-US')}`,
      `heap used: ${mb(base.heapUsed)} before, ${mb(capUse.heapUsed)} at the cap, ${mb(end.heapUsed)} after all tokens`,
      `RSS: ${mb(base.rss)} before; after all tokens ${mb(endRaw.rss)} (growth ${mb(endRaw.rss - base.rss)}), ${mb(end.rss)} after a forced GC (growth ${mb(end.rss - base.rss)})`,
      `RSS peak sampled every 100,000 tokens: ${mb(peakRss)} (growth ${mb(peakRss - base.rss)}; includes garbage not yet collected: evicted entries and this loop's own token strings)`,
      cached
        ? `measured heap per entry: ${Math.round(perEntry).toLocaleString('en-US')} bytes (documented estimate APPROX_BYTES_PER_ENTRY = ${APPROX_BYTES_PER_ENTRY})`
        : 'no token was cached (each was used once: second-use admission)',
      `RSS growth after the tokens, no forced GC (target <100 MB): ${endRaw.rss - base.rss < 100 * 1048576 ? 'MET' : 'MISSED'}; peak: ${peakRss - base.rss < 100 * 1048576 ? 'MET' : 'MISSED'}`,
    ].join('\n') + '\n',
  );
  await fake?.close();
}

void main();
