/**
 * Profile of verifying never-seen Firebase ID tokens in-process (FirebaseIdTokenVerifier, no
 * cache): signs a pool, verifies it in a loop under the V8 profiler, prints rate and top functions.
 *   node --import tsx bench/profile-verify.ts
 */
import { Session } from 'node:inspector/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { FirebaseIdTokenVerifier } from '../src/auth/firebase-id-token-verifier';
import { KeySetCache } from '../src/jwt/key-set-cache';
import { StaticKeySetSource } from '../src/jwt/key-set-source';
import { generateTestKey } from '../testkit/keys';
import { firebaseIdTokens, rate } from './common';
import { topFunctions } from './cpu-profile';

async function main(): Promise<void> {
  const key = generateTestKey();
  const keys = new KeySetCache({
    source: new StaticKeySetSource('bench', new Map([[key.kid, key.publicKey]])),
    logger: pino({ level: 'silent' }),
    clock: Date.now,
    cooldownMs: 10_000,
    maxStaleMs: 3_600_000,
  });
  await keys.warm();
  const POOL = 4000;
  const pool = await firebaseIdTokens(key, 'bench-project-1', POOL, { sameUser: true });
  const verifier = new FirebaseIdTokenVerifier({ keys, projectId: 'bench-project-1', skewSeconds: 60, clock: Date.now });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const r = await rate((i) => verifier.verify(pool[i % POOL] as string), 2000);
  const { profile } = await session.post('Profiler.stop');
  const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-prof-'));
  writeFileSync(path.join(dir, 'verify.cpuprofile'), JSON.stringify(profile));
  process.stdout.write(`FirebaseIdTokenVerifier, never-seen tokens: ${Math.round(r.perSecond)}/s (under the profiler)\n${topFunctions(dir)}\n`);
}

void main();
