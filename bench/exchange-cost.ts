/**
 * In-process cost of one exchange's steps (no HTTP, no load generator): the TokenExchange of the real composition
 * (verify, policy, replay mark, mint, audit) on never-seen Google ID tokens, one after another, with the time
 * each step takes measured around it. For finding where an exchange's CPU goes; not a timed target.
 *   node --import tsx bench/exchange-cost.ts [--count 4000]
 */
import { FakeGoogle } from '../testkit/fake-google';
import { WEB_CLIENT_ID, bridgeFor } from '../testkit/harness';
import { googleIdTokens } from './common';
import { ReplayGuard } from '../src/auth/replay-guard';

const countArg = process.argv.indexOf('--count');
const COUNT = countArg >= 0 ? Number(process.argv[countArg + 1]) : 4000;

async function main(): Promise<void> {
  const fake = await FakeGoogle.start('bench-project-1');
  const bridge = bridgeFor(fake, { env: { LOG_LEVEL: 'warn', RATE_LIMIT_EXCHANGE_PER_MINUTE: '0' } });
  await bridge.deps.googleKeys.warm();
  await bridge.deps.signing?.start();
  const tokens = await googleIdTokens(fake.google.keys[0]!, WEB_CLIENT_ID, COUNT * 2);
  const { exchange, googleVerifier, minter } = bridge.deps;
  const time = async (label: string, fn: (token: string, i: number) => unknown, from: number) => {
    const cpu = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < COUNT; i += 1) await fn(tokens[from + i] as string, i);
    const wall = Number(process.hrtime.bigint() - t0) / 1e3 / COUNT;
    const used = process.cpuUsage(cpu);
    process.stdout.write(`${label.padEnd(44)} ${wall.toFixed(1).padStart(7)} µs wall, ${((used.user + used.system) / COUNT).toFixed(1).padStart(7)} µs CPU (every thread)\n`);
  };
  await time('verify a Google ID token', (t) => googleVerifier.verify(t), 0);
  await time('mint a custom token (async sign)', (_t, i) => minter.mint(`google:${i}`, { email: 'a@example.com' }), 0);
  // Tokens 0..COUNT were only verified so far (the whole exchange below takes the next COUNT): none is marked yet.
  const { exp } = await googleVerifier.verify(tokens[0] as string);
  const replay = new ReplayGuard(bridge.deps.store, Date.now, 60);
  await time('mark a token in the replay guard (memory store)', (t) => replay.claim(t, exp, Math.floor(Date.now() / 1000)), 0);
  await time('record an audit line (queued; written in batches)', (_t, i) => bridge.deps.audit.record({ event: 'token.exchange', outcome: 'ok', uid: `google:${i}`, email: 'a@example.com', ip: '127.0.0.1', linkRequested: false }), 0);
  await time('the whole exchange (verify..mint, audit)', (t) => exchange.exchange(t, undefined, { clientIp: '127.0.0.1' }), COUNT);
  await bridge.deps.audit.flush();
  bridge.deps.signing?.stop();
  await fake.close();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
