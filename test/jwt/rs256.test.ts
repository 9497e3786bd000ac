import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { FirebaseIdTokenVerifier } from '../../src/auth/firebase-id-token-verifier';
import { Rs256Scheduler, rs256Scheduler, verifyRs256, verifyRs256OffThread } from '../../src/jwt/rs256';
import { manualClock } from '../../testkit/harness';
import { type TestKey, generateTestKey } from '../../testkit/keys';
import { expectInvalidToken, joseToken, staticCache, tamperPayload } from '../../testkit/jwt-forge';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('RS256 signature checks on and off the event loop', () => {
  let key: TestKey;
  let attacker: TestKey;
  const input = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ';
  let signature: Buffer;

  beforeAll(() => {
    key = generateTestKey();
    attacker = generateTestKey();
    signature = cryptoSign('sha256', Buffer.from(input), key.privateKey);
  });

  it('the pool answers exactly as the loop does: true only for the right key, input and signature; never rejects', async () => {
    const flipped = Buffer.from(signature);
    flipped[10] = (flipped[10] as number) ^ 1;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const cases: Array<[string, Buffer, typeof key.publicKey]> = [
      [input, signature, key.publicKey],
      [input, signature, attacker.publicKey],
      [`${input}x`, signature, key.publicKey],
      [input, flipped, key.publicKey],
      [input, Buffer.alloc(0), key.publicKey],
      [input, signature.subarray(1), key.publicKey],
      [input, signature, ec],
      // The same low bytes (U+0165 ends in 0x65, 'e'): another string, not the signed one.
      [`\u0165${input.slice(1)}`, signature, key.publicKey],
      // Non-ASCII input is read as UTF-8, its real bytes: signed so, it verifies.
      ['h\u00e9llo.w\u00f6rld', cryptoSign('sha256', Buffer.from('h\u00e9llo.w\u00f6rld', 'utf8'), key.privateKey), key.publicKey],
    ];
    const expected = [true, false, false, false, false, false, false, false, true];
    expect(cases.map(([i, s, k]) => verifyRs256(i, s, k))).toEqual(expected);
    expect(await Promise.all(cases.map(([i, s, k]) => verifyRs256OffThread(i, s, k)))).toEqual(expected);
  });

  it('inputs of every length in a row, shorter after longer and past the scratch buffer, each checked over its own bytes', () => {
    const inputs = [12_000, 900, 16 * 1024 + 10, 12_000, 40].map((n, i) => `${'eyJ'.repeat(n)}`.slice(0, n - 1) + String(i));
    const signatures = inputs.map((i) => cryptoSign('sha256', Buffer.from(i), key.privateKey));
    expect(inputs.map((i, n) => verifyRs256(i, signatures[n] as Buffer, key.publicKey))).toEqual([true, true, true, true, true]);
    // Each signature against the input checked just before it (the scratch still holding those bytes, or longer ones).
    expect(inputs.map((i, n) => verifyRs256(i, signatures[(n + 1) % inputs.length] as Buffer, key.publicKey))).toEqual([false, false, false, false, false]);
    expect(verifyRs256(inputs[1] as string, signatures[1] as Buffer, key.publicKey)).toBe(true);
  });

  it('one token after another with no requests arriving (a script, a batch): every check stays on the loop', async () => {
    const scheduler = new Rs256Scheduler();
    await nextTurn();
    for (let i = 0; i < 5; i += 1) expect(scheduler.verify(input, signature, key.publicKey)).toBe(true);
    // One request in the turn is still a lone caller.
    scheduler.noteRequest();
    expect(scheduler.verify(input, signature, attacker.publicKey)).toBe(false);
    expect(scheduler.stats()).toEqual({ onLoop: 6, offLoop: 0, inFlight: 0 });
  });

  it('a lone check runs on the loop (a plain boolean); a second one in a turn several requests arrived in, or while one is on the pool, goes to the pool', async () => {
    const scheduler = new Rs256Scheduler();
    await nextTurn();
    scheduler.noteRequest();
    scheduler.noteRequest();
    expect(scheduler.verify(input, signature, key.publicKey)).toBe(true);
    const second = scheduler.verify(input, signature, key.publicKey);
    expect(second).toBeInstanceOf(Promise);
    expect(scheduler.stats()).toEqual({ onLoop: 1, offLoop: 1, inFlight: 1 });
    await nextTurn();
    // A new turn, but one check is still on the pool: the next goes there too (or the pool already answered).
    const third = scheduler.verify(input, signature, attacker.publicKey);
    if (scheduler.stats().inFlight > 1) expect(third).toBeInstanceOf(Promise);
    expect(await second).toBe(true);
    expect(await third).toBe(false);
    await nextTurn();
    expect(scheduler.stats().inFlight).toBe(0);
    expect(scheduler.verify(input, signature, attacker.publicKey)).toBe(false);
    expect(scheduler.stats().onLoop).toBeGreaterThanOrEqual(2);
  });

  it('many concurrent checks, valid and forged mixed: each answer belongs to its own input, whatever order the pool finishes in', async () => {
    const scheduler = new Rs256Scheduler();
    // Requests arriving together (what the HTTP edge notes) make the checks of this turn concurrent.
    scheduler.noteRequest();
    scheduler.noteRequest();
    const inputs = Array.from({ length: 200 }, (_, i) => `${input}.${i}`);
    const sigs = inputs.map((i) => cryptoSign('sha256', Buffer.from(i), key.privateKey));
    // Odd ones check another input's signature: forged.
    const answers = await Promise.all(inputs.map((i, n) => scheduler.verify(i, sigs[n % 2 === 0 ? n : n - 1] as Buffer, key.publicKey)));
    expect(answers).toEqual(inputs.map((_, n) => n % 2 === 0));
    expect(scheduler.stats().offLoop).toBeGreaterThanOrEqual(199);
  });
});

describe('FirebaseIdTokenVerifier under concurrency (signatures checked on the pool)', () => {
  const PROJECT = 'fb-test-project';
  const NOW_MS = 1_750_000_000_000;
  const NOW = NOW_MS / 1000;
  let key: TestKey;
  let attacker: TestKey;

  beforeAll(() => {
    key = generateTestKey();
    attacker = generateTestKey();
  });

  const claims = (sub: string) => ({
    iss: `https://securetoken.google.com/${PROJECT}`,
    aud: PROJECT,
    auth_time: NOW - 100,
    user_id: sub,
    sub,
    iat: NOW - 10,
    exp: NOW + 3590,
  });

  it('forged tokens are still refused, valid ones accepted, each with its own user, when verified all at once', async () => {
    const clock = manualClock(NOW_MS);
    const verifier = new FirebaseIdTokenVerifier({ keys: staticCache([key], clock), projectId: PROJECT, skewSeconds: 60, clock });
    const valid = await Promise.all(Array.from({ length: 40 }, (_, i) => joseToken(claims(`user-${i}`), key)));
    const forgedByKey = await Promise.all(Array.from({ length: 20 }, (_, i) => joseToken(claims(`evil-${i}`), attacker, { kid: key.kid })));
    const tampered = valid.slice(0, 20).map((t, i) => tamperPayload(t, (p) => (p.sub = p.user_id = `stolen-${i}`)));
    const before = rs256Scheduler.stats().offLoop;
    const all = [...valid, ...forgedByKey, ...tampered];
    // As when several requests arrive at once: the HTTP edge notes them (src/http/app.ts).
    rs256Scheduler.noteRequest();
    rs256Scheduler.noteRequest();
    const settled = await Promise.allSettled(all.map((t) => verifier.verify(t)));
    settled.slice(0, 40).forEach((s, i) => {
      expect(s.status).toBe('fulfilled');
      expect((s as PromiseFulfilledResult<{ uid: string }>).value.uid).toBe(`user-${i}`);
    });
    for (const s of settled.slice(40)) {
      expect(s.status).toBe('rejected');
      await expectInvalidToken(Promise.reject((s as PromiseRejectedResult).reason), 'ERR_JWS_SIGNATURE');
    }
    expect(rs256Scheduler.stats().offLoop - before).toBeGreaterThan(0);
  });
});
