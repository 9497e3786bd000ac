/**
 * The server under the HTTP benchmark, in its own process: the real app from src/ (createDependencies
 * + createRequestListener, as src/compose/server.ts builds it) plus three bench-only routes on the same express app, so
 * peers are measured with the same middleware in the same process:
 *   GET  /bench/unguarded       the same JSON body /v1/me returns for BENCH_BODY_TOKEN, no auth;
 *   GET  /bench/admin           guarded by firebase-admin verifyIdToken (the usual hand-rolled route);
 *   POST /bench/admin-exchange  the same exchange (TokenExchange: verify, policy, replay guard, mint)
 *                               with firebase-admin createCustomToken as the signer.
 * firebase-admin reaches the fake Google through the loopback TLS relay (BENCH_TLS_PORT, BENCH_TLS_CA).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { getAuth } from 'firebase-admin/auth';
import { TokenExchange } from '../src/auth/exchange';
import { ReplayGuard } from '../src/auth/replay-guard';
import { SignInPolicy } from '../src/auth/sign-in-policy';
import { systemClock } from '../src/clock';
import { type ConfiguredConfig, loadConfig, readEnvironment } from '../src/config';
import { bearerToken } from '../src/http/bearer';
import { createRequestListener } from '../src/http/app';
import { createHttpServer } from '../src/http/http-server';
import { readIdToken } from '../src/http/routes/token';
import { sendError } from '../src/http/send-error';
import { createLogger } from '../src/logger';
import { createDependencies } from '../src/compose/dependencies';
import { adminApp } from './common';
import { LoopbackGoogleAgent } from './google-tls';

async function main(): Promise<void> {
  const env = readEnvironment();
  const config = loadConfig(env) as ConfiguredConfig;
  const logger = createLogger(config.logLevel);
  const deps = createDependencies(config, { logger, clock: systemClock, fetch: globalThis.fetch });
  await Promise.all([deps.googleKeys.warm(), deps.firebaseKeys.warm()]);
  await deps.signing?.start();

  const bodyToken = env.BENCH_BODY_TOKEN ?? '';
  const payload = JSON.parse(Buffer.from(bodyToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  const unguardedBody = { uid: payload.sub, claims: payload };

  const router = Router();
  router.get('/bench/unguarded', (_req, res) => {
    res.json(unguardedBody);
  });
  if (env.BENCH_TLS_PORT && env.BENCH_TLS_CA) {
    const keyFile = readdirSync(config.keysDir).find((name) => name.endsWith('.json')) as string;
    const json = JSON.parse(readFileSync(path.join(config.keysDir, keyFile), 'utf8')) as Record<string, string>;
    const agent = new LoopbackGoogleAgent(Number(env.BENCH_TLS_PORT), env.BENCH_TLS_CA);
    const admin = getAuth(adminApp(json, config.projectId, agent, 'bench-server'));
    router.get('/bench/admin', async (req, res) => {
      try {
        const decoded = await admin.verifyIdToken(bearerToken(req.headers.authorization));
        res.json({ uid: decoded.uid, claims: decoded });
      } catch {
        res.status(401).json({ error: 'invalid_token', error_description: 'refused' });
      }
    });
    const { hardening } = config;
    const adminExchange = new TokenExchange({
      googleVerifier: deps.googleVerifier,
      minter: {
        isReady: () => true,
        mint: async (uid, claims) => ({ customToken: await admin.createCustomToken(uid, claims), expiresIn: 3600, kid: 'firebase-admin' }),
      },
      logger,
      clock: systemClock,
      policy: new SignInPolicy(hardening.signInPolicy, config.clockSkewSeconds),
      replay: hardening.replayProtection ? new ReplayGuard(deps.store, systemClock, config.clockSkewSeconds) : undefined,
    });
    router.post('/bench/admin-exchange', async (req, res) => {
      try {
        res.json(await adminExchange.exchange(readIdToken(req.body)));
      } catch (err) {
        sendError(res, err, { logger });
      }
    });
  }
  deps.extraRoutes = router;
  // The server's own listener: the fast GET /v1/me in front of the app, as src/compose/server.ts serves it.
  const server = createHttpServer(createRequestListener(config, deps), config.http).listen(config.port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, readyMs: Math.round(performance.now()), msg: 'listening' })}\n`);
  process.once('SIGTERM', () => {
    deps.signing?.stop();
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
