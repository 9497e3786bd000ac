/**
 * In-process micro benchmarks: verification and signing, firebridge next to its peers (raw
 * node:crypto, jose, firebase-admin 13) on the same tokens in the same run. Prints ratios. Each
 * figure is the median of --samples interleaved samples (the cases of a table take turns).
 *   node --expose-gc --import tsx bench/micro.ts [--ms 1000] [--samples 5] [--size-samples 9] [--users 30000]
 * (--expose-gc: a full GC before every interleaved sample, as npm run bench runs it; without it, none)
 */
import { createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { getAuth } from 'firebase-admin/auth';
import { SignJWT, jwtVerify } from 'jose';
import pino from 'pino';
import { FirebaseIdTokenVerifier } from '../src/auth/firebase-id-token-verifier';
import { parseServiceAccountKey } from '../src/keys/service-account-key';
import { CustomTokenGenerator } from '../src/auth/custom-token-generator';
import { KeyFileSigner } from '../src/keys/key-file-signer';
import { VerifiedTokenCache } from '../src/auth/verified-token-cache';
import { KeySetCache } from '../src/jwt/key-set-cache';
import { HttpKeySetSource } from '../src/jwt/key-set-source';
import { FakeGoogle } from '../testkit/fake-google';
import { type Row, adminApp, concurrentRate, deleteApp, firebaseIdTokens, fmt, interleaved, printRows, rate, signedTokens, firebaseClaims } from './common';
import { LoopbackGoogleAgent, startGoogleTls } from './google-tls';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const MS = arg('ms', 1000);
const USERS = arg('users', 30_000);
const SAMPLES = arg('samples', 5);
const POOL = 12_000;
/** Samples of the token-size case (of 4 × --ms each, interleaved). */
const SIZE_SAMPLES = arg('size-samples', 9);

async function main(): Promise<void> {
  const fake = await FakeGoogle.start('bench-project-1');
  const tls = await startGoogleTls(fake.url);
  const agent = new LoopbackGoogleAgent(tls.port, tls.caPem);
  const projectId = fake.projectId;
  const key = fake.securetoken.keys[0]!;
  const account = fake.createServiceAccount();
  const admin = adminApp(account.json, projectId, agent, 'bench-micro');
  const adminAuth = getAuth(admin);
  const logger = pino({ level: 'silent' });

  process.stdout.write(`# micro benchmarks (${new Date().toISOString()}, node ${process.version}, ${MS} ms per case)\n`);
  process.stdout.write(`signing ${POOL} distinct ID tokens for the pool...\n`);
  const pool = await firebaseIdTokens(key, projectId, POOL, { sameUser: true });
  const token0 = pool[0]!;

  // --- peers ---
  const publicKey = createPublicKey(key.publicKey.export({ type: 'spki', format: 'pem' }));
  const rawVerifyToken = (t: string): void => {
    const dot = t.lastIndexOf('.');
    if (!cryptoVerify('sha256', Buffer.from(t.slice(0, dot)), publicKey, Buffer.from(t.slice(dot + 1), 'base64url'))) throw new Error('bad');
  };
  await adminAuth.verifyIdToken(token0); // fetches the certs once, through the agent

  // --- firebridge ---
  const keys = new KeySetCache({
    source: new HttpKeySetSource(fake.firebaseCertsUrl, { fetch: globalThis.fetch, timeoutMs: 5000 }),
    logger,
    clock: Date.now,
    cooldownMs: 10_000,
    maxStaleMs: 3_600_000,
  });
  await keys.warm();
  const verifier = new FirebaseIdTokenVerifier({ keys, projectId, skewSeconds: 60, clock: Date.now });
  const newCache = () => new VerifiedTokenCache({ inner: verifier, keys, clock: Date.now, skewSeconds: 60, maxEntries: 10_000 });
  // Never-seen tokens through the cache, as the server runs it (a new cache per pass of the pool: all misses).
  let cache = newCache();
  const hitCache = newCache();
  const v = await interleaved(
    {
      raw: (i) => rawVerifyToken(pool[i % POOL]!),
      jose: (i) => jwtVerify(pool[i % POOL]!, publicKey, { algorithms: ['RS256'] }),
      admin: (i) => adminAuth.verifyIdToken(pool[i % POOL]!),
      ours: (i) => verifier.verify(pool[i % POOL]!),
      oursMiss: (i) => {
        if (i % POOL === 0) cache = newCache();
        return cache.verify(pool[i % POOL]!);
      },
      oursHit: () => hitCache.verify(token0),
    },
    MS,
    SAMPLES,
  );
  const [rawVerify, joseVerify, adminVerify, ours, oursMiss, oursHit] = [v.raw!, v.jose!, v.admin!, v.ours!, v.oursMiss!, v.oursHit!];

  printRows(`Verification, every verifier on the same pool of ${POOL.toLocaleString('en-US')} distinct tokens, cycled (RS256-2048, sequential, one core)`, [
    { case: 'firebridge FirebaseIdTokenVerifier vs firebase-admin verifyIdToken', figure: `${fmt(ours.perSecond)}/s`, peer: `${fmt(adminVerify.perSecond)}/s`, ratio: ours.perSecond / adminVerify.perSecond, target: '≥3×', pass: ours.perSecond / adminVerify.perSecond >= 3 },
    { case: 'firebridge FirebaseIdTokenVerifier vs raw crypto.verify (KeyObject)', figure: `${fmt(ours.perSecond)}/s`, peer: `${fmt(rawVerify.perSecond)}/s`, ratio: ours.perSecond / rawVerify.perSecond, target: '≥0.4×', pass: ours.perSecond / rawVerify.perSecond >= 0.4 },
    { case: 'firebridge server path (cache in front, a new cache per pass of the pool: all misses) vs raw crypto.verify', figure: `${fmt(oursMiss.perSecond)}/s`, peer: `${fmt(rawVerify.perSecond)}/s`, ratio: oursMiss.perSecond / rawVerify.perSecond },
    { case: 'jose jwtVerify (KeyObject) vs raw crypto.verify', figure: `${fmt(joseVerify.perSecond)}/s`, peer: `${fmt(rawVerify.perSecond)}/s`, ratio: joseVerify.perSecond / rawVerify.perSecond },
    { case: 'firebridge cache hit (same token) vs raw crypto.verify', figure: `${fmt(oursHit.perSecond)}/s`, peer: `${fmt(rawVerify.perSecond)}/s`, ratio: oursHit.perSecond / rawVerify.perSecond },
  ]);

  // --- a cache hit with the cache full (the default 10,000 entries, each admitted by a second use) vs 1 entry ---
  const fullCache = newCache();
  for (let i = 0; i < 10_000; i += 1) {
    await fullCache.verify(pool[i]!);
    await fullCache.verify(pool[i]!);
  }
  const hot = [pool[1]!, pool[2]!, pool[3]!, pool[4]!];
  const oneCache = newCache();
  await oneCache.verify(token0);
  await oneCache.verify(token0);
  // Each lookup with a fresh copy of the token string, as every request brings (V8 caches a string's hash).
  const copy = (t: string) => (t.slice(0, 1) + t.slice(1)).slice(0);
  const hits = await interleaved(
    {
      full: (i) => fullCache.peek(copy(hot[i & 3]!)),
      one: () => oneCache.peek(copy(token0)),
    },
    MS,
    SAMPLES,
  );
  if (fullCache.stats().entries !== 10_000) throw new Error(`the full cache holds ${fullCache.stats().entries} entries`);

  // --- token size: 1.2k vs 12k characters, the server path (all misses) against raw crypto.verify of the same tokens ---
  const now = Math.floor(Date.now() / 1000);
  const SIZE_POOL = 2_000;
  const small = await firebaseIdTokens(key, projectId, SIZE_POOL);
  // Large custom claims, as some apps set (a list of roles): the same token padded to about 12k characters.
  const roles = Array.from({ length: 320 }, (_, i) => `role:project-${i}:editor`);
  const large = await signedTokens(key, SIZE_POOL, (i) => ({ ...firebaseClaims(i, projectId, now), roles }));
  const sizes = { small: small[0]!.length, large: large[0]!.length };
  let smallCache = newCache();
  let largeCache = newCache();
  const sz = await interleaved(
    {
      serverSmall: (i) => {
        if (i % SIZE_POOL === 0) smallCache = newCache();
        return smallCache.verify(small[i % SIZE_POOL]!);
      },
      rawSmall: (i) => rawVerifyToken(small[i % SIZE_POOL]!),
      serverLarge: (i) => {
        if (i % SIZE_POOL === 0) largeCache = newCache();
        return largeCache.verify(large[i % SIZE_POOL]!);
      },
      rawLarge: (i) => rawVerifyToken(large[i % SIZE_POOL]!),
      joseSmall: (i) => jwtVerify(small[i % SIZE_POOL]!, publicKey, { algorithms: ['RS256'] }),
      joseLarge: (i) => jwtVerify(large[i % SIZE_POOL]!, publicKey, { algorithms: ['RS256'] }),
    },
    // A ratio of four figures: longer and more samples than the other tables (5 of 200 ms swung it by ±0.07).
    4 * MS,
    SIZE_SAMPLES,
  );
  const us = (r: { perSecond: number }) => 1e6 / r.perSecond;
  const smallRatio = sz.serverSmall!.perSecond / sz.rawSmall!.perSecond;
  const largeRatio = sz.serverLarge!.perSecond / sz.rawLarge!.perSecond;

  printRows(`Cache hits (medians of ${SAMPLES} interleaved samples), token size (medians of ${SIZE_SAMPLES})`, [
    { case: 'cache hit (peek, a fresh copy of the token string), cache full (10,000 entries), 4 hot tokens vs 1 entry', figure: `${fmt(hits.full!.perSecond)}/s`, peer: `${fmt(hits.one!.perSecond)}/s`, ratio: hits.full!.perSecond / hits.one!.perSecond, target: '≥0.8×', pass: hits.full!.perSecond / hits.one!.perSecond >= 0.8 },
    { case: `server path (all misses) vs raw crypto.verify, ${sizes.small}-character tokens`, figure: `${fmt(sz.serverSmall!.perSecond)}/s (${us(sz.serverSmall!).toFixed(1)} µs)`, peer: `${fmt(sz.rawSmall!.perSecond)}/s (${us(sz.rawSmall!).toFixed(1)} µs)`, ratio: smallRatio },
    { case: `same, ${sizes.large}-character tokens`, figure: `${fmt(sz.serverLarge!.perSecond)}/s (${us(sz.serverLarge!).toFixed(1)} µs)`, peer: `${fmt(sz.rawLarge!.perSecond)}/s (${us(sz.rawLarge!).toFixed(1)} µs)`, ratio: largeRatio },
    { case: `(peer) jose jwtVerify vs raw crypto.verify, ${sizes.small} → ${sizes.large} characters: its ratio at the large size vs at the small (it parses the claims too)`, figure: (sz.joseLarge!.perSecond / sz.rawLarge!.perSecond).toFixed(2), peer: (sz.joseSmall!.perSecond / sz.rawSmall!.perSecond).toFixed(2), ratio: (sz.joseLarge!.perSecond / sz.rawLarge!.perSecond) / (sz.joseSmall!.perSecond / sz.rawSmall!.perSecond) },
    { case: `token size ${sizes.small} → ${sizes.large}: server path's ratio to raw at the large size vs at the small (1 = the server path grows exactly as raw verify; growth in µs: server +${(us(sz.serverLarge!) - us(sz.serverSmall!)).toFixed(1)}, raw +${(us(sz.rawLarge!) - us(sz.rawSmall!)).toFixed(1)})`, figure: largeRatio.toFixed(2), peer: smallRatio.toFixed(2), ratio: largeRatio / smallRatio, target: '≥0.9×', pass: largeRatio / smallRatio >= 0.9 },
  ]);

  // --- signing ---
  const saKey = parseServiceAccountKey(JSON.stringify(account.json), 'bench');
  const signer = new CustomTokenGenerator(new KeyFileSigner(saKey), Date.now);
  const claims = { google_sub: '110169484474386276334', email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace' };
  const rawSign = await rate(() => cryptoSign('sha256', Buffer.from('header.payload-of-about-400-bytes'.repeat(12)), saKey.privateKey), MS);
  const joseSign = await rate(() => new SignJWT({ uid: 'google:1', claims }).setProtectedHeader({ alg: 'RS256', kid: saKey.privateKeyId }).setIssuedAt().setExpirationTime('1h').sign(saKey.privateKey), MS);
  const adminSign = await rate((i) => adminAuth.createCustomToken(`google:${i}`, claims), MS);
  const adminSignConc = await concurrentRate((i) => adminAuth.createCustomToken(`google:${i}`, claims), MS, 16);
  const oursSignSeq = await rate((i) => signer.mint(`google:${i}`, claims), MS);
  const oursSign = await concurrentRate((i) => signer.mint(`google:${i}`, claims), MS, 16);
  const pool4 = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  printRows(`Custom-token signing (UV_THREADPOOL_SIZE=${pool4})`, [
    { case: 'firebridge mint, 16 in flight (libuv pool) vs firebase-admin createCustomToken, 16 in flight', figure: `${fmt(oursSign.perSecond)}/s`, peer: `${fmt(adminSignConc.perSecond)}/s`, ratio: oursSign.perSecond / adminSignConc.perSecond, target: '≥3×', pass: oursSign.perSecond / adminSignConc.perSecond >= 3 },
    { case: 'firebridge mint, one at a time vs firebase-admin createCustomToken, one at a time', figure: `${fmt(oursSignSeq.perSecond)}/s`, peer: `${fmt(adminSign.perSecond)}/s`, ratio: oursSignSeq.perSecond / adminSign.perSecond },
    { case: 'raw crypto.sign (sync, KeyObject) vs firebase-admin createCustomToken', figure: `${fmt(rawSign.perSecond)}/s`, peer: `${fmt(adminSign.perSecond)}/s`, ratio: rawSign.perSecond / adminSign.perSecond },
    { case: 'jose SignJWT vs firebase-admin createCustomToken', figure: `${fmt(joseSign.perSecond)}/s`, peer: `${fmt(adminSign.perSecond)}/s`, ratio: joseSign.perSecond / adminSign.perSecond },
  ]);

  // --- flatness: 1 user vs many distinct users, every token new to the verifier ---
  if (USERS > 0) {
    process.stdout.write(`\nsigning ${USERS} ID tokens of ${USERS} distinct users, and ${USERS} of one user...\n`);
    const many = await firebaseIdTokens(key, projectId, USERS);
    // A fresh pool of the same size for the one-user case: no token of either pool was used before.
    const one = await firebaseIdTokens(key, projectId, USERS, { sameUser: true });
    const manyCache = new VerifiedTokenCache({ inner: verifier, keys, clock: Date.now, skewSeconds: 60, maxEntries: 10_000 });
    const oneCache = new VerifiedTokenCache({ inner: verifier, keys, clock: Date.now, skewSeconds: 60, maxEntries: 10_000 });
    // Alternating slices, so load from other processes on the machine hits both cases alike.
    let manyNext = 0;
    let oneNext = 0;
    const manyRate = { ops: 0, seconds: 0, perSecond: 0 };
    const oneRate = { ops: 0, seconds: 0, perSecond: 0 };
    const rawRateFresh = { ops: 0, seconds: 0, perSecond: 0 };
    const slices = Math.max(4, Math.round((USERS / Math.max(1, oursMiss.perSecond)) / 0.4));
    for (let k = 0; k < slices; k += 1) {
      const first = manyNext;
      const m = await rate(() => manyCache.verify(many[manyNext++ % USERS]!), 400, 0);
      // raw crypto.verify over exactly the tokens that slice verified (same bytes, same memory).
      const span = Math.max(1, manyNext - first);
      const x = await rate((i) => rawVerifyToken(many[(first + (i % span)) % USERS]!), 400, 0);
      const o = await rate(() => oneCache.verify(one[oneNext++ % USERS]!), 400, 0);
      manyRate.ops += m.ops;
      manyRate.seconds += m.seconds;
      rawRateFresh.ops += x.ops;
      rawRateFresh.seconds += x.seconds;
      oneRate.ops += o.ops;
      oneRate.seconds += o.seconds;
    }
    manyRate.perSecond = manyRate.ops / manyRate.seconds;
    oneRate.perSecond = oneRate.ops / oneRate.seconds;
    rawRateFresh.perSecond = rawRateFresh.ops / rawRateFresh.seconds;
    const r = manyRate.perSecond / oneRate.perSecond;
    printRows('Never-seen tokens through the server path (cache of 10,000 entries in front, every token new to it)', [
      { case: `${USERS.toLocaleString('en-US')} distinct users vs 1 user (${fmt(manyRate.ops)} and ${fmt(oneRate.ops)} verifications in alternating 0.4 s slices)`, figure: `${fmt(manyRate.perSecond)}/s`, peer: `${fmt(oneRate.perSecond)}/s`, ratio: r, target: '0.85–1.15×', pass: r >= 0.85 && r <= 1.15 },
      { case: 'server path, never-seen tokens vs raw crypto.verify of the same tokens (alternating slices)', figure: `${fmt(manyRate.perSecond)}/s`, peer: `${fmt(rawRateFresh.perSecond)}/s`, ratio: manyRate.perSecond / rawRateFresh.perSecond, target: '≥0.4×', pass: manyRate.perSecond / rawRateFresh.perSecond >= 0.4 },
      { case: 'server path, never-seen tokens vs firebase-admin verifyIdToken (table above)', figure: `${fmt(manyRate.perSecond)}/s`, peer: `${fmt(adminVerify.perSecond)}/s`, ratio: manyRate.perSecond / adminVerify.perSecond, target: '≥3×', pass: manyRate.perSecond / adminVerify.perSecond >= 3 },
    ]);
  }

  await deleteApp(admin);
  agent.destroy();
  await tls.close();
  await fake.close();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
