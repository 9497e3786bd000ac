/**
 * fast-check arbitraries and helpers shared by the fuzz tests: hostile tokens, headers and bodies.
 * Written independently of src/ (Buffer and node:crypto only), like test/auth/jwt-forge.ts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import fc from 'fast-check';

/** One seed for every property, so a failure is reproducible: FUZZ_SEED=<n> npx jest test/fuzz. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_f1b);
/** Multiplies every numRuns (FUZZ_RUNS_FACTOR=10 for a long local run). */
export const RUNS_FACTOR = Number(process.env.FUZZ_RUNS_FACTOR ?? 1);

/**
 * fc.assert with the fixed seed; on failure the error names the seed (and fast-check's own report
 * names the seed and the path of the shrunk counterexample) so the case can be replayed.
 */
export async function checkProperty<Ts extends [unknown, ...unknown[]]>(
  name: string,
  property: fc.IAsyncPropertyWithHooks<Ts>,
  numRuns: number,
): Promise<void> {
  try {
    await fc.assert(property, {
      seed: FUZZ_SEED,
      numRuns: Math.max(1, Math.round(numRuns * RUNS_FACTOR)),
      includeErrorInReport: true,
    });
  } catch (err) {
    const message = `fuzz property "${name}" failed with FUZZ_SEED=${FUZZ_SEED} (replay: FUZZ_SEED=${FUZZ_SEED} npx jest test/fuzz)`;
    // eslint-disable-next-line no-console
    console.error(message);
    throw new Error(`${message}\n${(err as Error).message}`);
  }
}

/** Lets timers and I/O run, so the event-loop delay histogram measures one run at a time. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Records the event loop's delay between start() and stop(); maxMs is the worst stall seen. */
export function eventLoopMonitor(): { stop(): { maxMs: number; p99Ms: number } } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      return { maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6 };
    },
  };
}

/** The smallest of several timings: robust against the other jobs sharing the machine's 2 cores. */
export async function minDurationMs(run: () => Promise<unknown>, repeats = 7): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i += 1) {
    const start = process.hrtime.bigint();
    await run().catch(() => undefined);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return best;
}

export const B64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function b64u(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('base64url');
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('base64url');
  return Buffer.from(JSON.stringify(value) ?? 'null', 'utf8').toString('base64url');
}

/** Strings of base64url characters, plus a sprinkle of the characters a sloppy encoder adds. */
export const b64Segment = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(...B64URL_ALPHABET), maxLength: 80 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('base64url')) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...B64URL_ALPHABET, '=', '+', '/', ' ', '.', '%'), maxLength: 40 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => b64u(v)) },
);

/** Numbers and near-numbers a claim or header could hold. */
const numberish = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, 1e21, -1e21),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e309', '0x10', '1_000', ' 42 ', '', '١٢٣', '1750000000', 'true', 'null'),
);

/** Any JSON value, biased towards the shapes that trip claim checks. */
export const anyClaimValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: numberish },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.array(numberish, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), numberish, { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, '__proto__', 'constructor', 'toString') },
);

/**
 * A JOSE header: alg/kid/typ/crit each absent, plausible, or any JSON value; plus random extra
 * members. `kids` are the real key IDs (so some headers reach the key lookup).
 */
export function headerArb(kids: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.record(
        {
          alg: fc.oneof(fc.constantFrom('RS256', 'rs256', 'none', 'None', 'HS256', 'RS512', 'PS256', 'ES256', 'RS256 ', ''), anyClaimValue),
          kid: fc.oneof(fc.constantFrom(...kids), fc.string({ maxLength: 300 }), anyClaimValue),
          typ: fc.oneof(fc.constantFrom('JWT', 'jwt', 'at+jwt'), anyClaimValue),
          crit: fc.oneof(fc.constant(['exp']), fc.constant([]), anyClaimValue),
        },
        { requiredKeys: [] },
      ),
      fc.dictionary(fc.string({ maxLength: 10 }), anyClaimValue, { maxKeys: 3 }),
    )
    .map(([known, extra]) => ({ ...extra, ...known }));
}

/**
 * A claims set: each registered claim absent, valid (from `valid`), or anything; plus extras.
 * Keeping most claims valid most of the time lets the run reach the later checks.
 */
export function claimsArb(valid: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(valid).map(
    ([name, value]) =>
      [
        name,
        fc.oneof(
          { weight: 3, arbitrary: fc.constant(value) },
          { weight: 2, arbitrary: anyClaimValue },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
      ] as const,
  );
  return fc
    .tuple(fc.record(Object.fromEntries(entries)), fc.dictionary(fc.string({ maxLength: 10 }), anyClaimValue, { maxKeys: 3 }))
    .map(([claims, extra]) => {
      const out: Record<string, unknown> = { ...extra };
      for (const [name, value] of Object.entries(claims)) if (value !== undefined) out[name] = value;
      return out;
    });
}

/** Raw JSON texts JSON.stringify never writes: huge literals, duplicate names, odd spacing, BOM. */
export function rawJsonPayloadArb(valid: Record<string, unknown>): fc.Arbitrary<string> {
  const literal = fc.constantFrom('1e999', '-1e999', '123456789012345678901234567890', '1.7976931348623157e309', '-0', '0.0000001', '1E3', '"\\u0000"', '"\\ud800"', 'null');
  return fc
    .tuple(fc.constantFrom('exp', 'iat', 'nbf', 'auth_time', 'sub', 'aud', 'iss'), literal, fc.constantFrom('', ' ', '\n\t', '\ufeff'), fc.boolean())
    .map(([name, lit, ws, duplicate]) => {
      const base = JSON.stringify(valid).slice(1, -1);
      const injected = `${ws}"${name}"${ws}:${ws}${lit}${ws}`;
      // A duplicate name after the valid one: JSON.parse keeps the last.
      return duplicate ? `{${base},${injected}}` : `{${injected},${base}}`;
    });
}

/** A mutation of a valid compact JWS: bit flips, truncation, swaps, dots, whitespace, re-encodings. */
export function mutationArb(token: string): fc.Arbitrary<string> {
  const len = token.length;
  const index = fc.nat({ max: len - 1 });
  const bitFlip = fc.tuple(index, fc.nat({ max: 7 })).map(([i, bit]) => {
    const flipped = String.fromCharCode(token.charCodeAt(i) ^ (1 << bit));
    return token.slice(0, i) + flipped + token.slice(i + 1);
  });
  const byteFlip = fc.tuple(fc.nat({ max: 2 }), fc.nat(), fc.nat({ max: 7 })).map(([part, at, bit]) => {
    const parts = token.split('.');
    const bytes = Buffer.from(parts[part] as string, 'base64url');
    if (bytes.length > 0) bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ (1 << bit);
    parts[part] = bytes.toString('base64url');
    return parts.join('.');
  });
  const truncate = index.map((i) => token.slice(0, i));
  const dropFront = index.map((i) => token.slice(i));
  const swap = fc.constantFrom([1, 0, 2], [0, 2, 1], [2, 1, 0], [1, 2, 0], [2, 0, 1], [0, 0, 2], [0, 1, 1]).map((order) => {
    const parts = token.split('.');
    return order.map((p) => parts[p]).join('.');
  });
  const dots = fc.tuple(index, fc.integer({ min: 1, max: 3 })).map(([i, n]) => token.slice(0, i) + '.'.repeat(n) + token.slice(i));
  const dupDots = fc.constantFrom(token.replace('.', '..'), token.replace(/\.([^.]*)$/, '..$1'), `${token}.`, `.${token}`, `${token}..`);
  const whitespace = fc
    .tuple(fc.nat({ max: len }), fc.constantFrom(' ', '\t', '\n', '\r\n', '\u00a0', '\u200b', '\ufeff', '\u2028'))
    .map(([i, ws]) => token.slice(0, i) + ws + token.slice(i));
  const padding = fc.constantFrom('=', '==', '===').chain((pad) =>
    fc.nat({ max: 2 }).map((part) => {
      const parts = token.split('.');
      parts[part] = `${parts[part]}${pad}`;
      return parts.join('.');
    }),
  );
  const stdAlphabet = fc.constant(token.replace(/-/g, '+').replace(/_/g, '/'));
  // Non-canonical spelling: the same bytes with the unused low bits of the last character set.
  const nonCanonical = fc.nat({ max: 2 }).map((part) => {
    const parts = token.split('.');
    const seg = parts[part] as string;
    const last = B64URL_ALPHABET.indexOf(seg[seg.length - 1] as string);
    const spare = seg.length % 4 === 2 ? 15 : seg.length % 4 === 3 ? 3 : 0;
    if (spare === 0) return `${seg}A`;
    parts[part] = seg.slice(0, -1) + B64URL_ALPHABET[(last & ~spare) | (((last & spare) + 1) & spare)];
    return parts.join('.');
  });
  const caseFlip = index.map((i) => {
    const c = token[i] as string;
    const other = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
    return token.slice(0, i) + other + token.slice(i + 1);
  });
  const repeat = fc.constantFrom(`${token}${token}`, `${token}.${token}`, token.repeat(20));
  const insertRandom = fc
    .tuple(fc.nat({ max: len }), fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }))
    .map(([i, s]) => token.slice(0, i) + s + token.slice(i));
  const identity = fc.constant(token);
  const single = fc.oneof(
    bitFlip,
    byteFlip,
    truncate,
    dropFront,
    swap,
    dots,
    dupDots,
    whitespace,
    padding,
    stdAlphabet,
    nonCanonical,
    caseFlip,
    repeat,
    insertRandom,
    identity,
  );
  // Sometimes two mutations in a row (the second applied to the output of the first).
  return fc.oneof(
    { weight: 4, arbitrary: single },
    { weight: 1, arbitrary: fc.tuple(single, fc.nat(), fc.nat({ max: 7 })).map(([t, at, bit]) => {
      if (t.length === 0) return t;
      const i = at % t.length;
      return t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) ^ (1 << bit)) + t.slice(i + 1);
    }) },
  );
}
