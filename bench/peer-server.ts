/**
 * The peers of the HTTP benchmark, each in its own process (as firebridge is), on 127.0.0.1:
 *   BENCH_KIND=bare           express 5, GET /v1/me answers the body /v1/me returns for BENCH_BODY_TOKEN, no auth;
 *   BENCH_KIND=jose           express 5 + jose: GET /v1/me guarded by jwtVerify with createRemoteJWKSet on the
 *                             fake Google's securetoken JWKS (aud, iss, RS256), the usual hand-rolled route;
 *   BENCH_KIND=jose-exchange  express 5 + jose: POST /v1/token/google verifies the Google ID token (remote JWKS,
 *                             aud, iss) and signs a Firebase custom token with jose's SignJWT (WebCrypto: async,
 *                             on libuv's pool): the minimal exchange, without firebridge's policy or replay guard;
 *   BENCH_KIND=admin          express 5 + firebase-admin: GET /v1/me guarded by verifyIdToken (keys through the
 *                             loopback TLS relay, BENCH_TLS_PORT, BENCH_TLS_CA).
 * Other settings: BENCH_PROJECT_ID, BENCH_FIREBASE_JWKS_URL, BENCH_GOOGLE_JWKS_URL, BENCH_CLIENT_ID,
 * BENCH_SERVICE_ACCOUNT (the key file's path). Prints {"url","readyMs","msg":"listening"} as bench/server.ts.
 */
import { readFileSync } from 'node:fs';
import express, { type Request, type Response } from 'express';
import { getAuth } from 'firebase-admin/auth';
import { SignJWT, createRemoteJWKSet, importPKCS8, jwtVerify } from 'jose';
import { adminApp } from './common';
import { LoopbackGoogleAgent } from './google-tls';

const env = process.env;
const need = (name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

function bearer(req: Request): string {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7) : '';
}

function refuse(res: Response): void {
  res.status(401).json({ error: 'invalid_token', error_description: 'refused' });
}

async function main(): Promise<void> {
  const kind = need('BENCH_KIND');
  const projectId = need('BENCH_PROJECT_ID');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (kind === 'bare') {
    const token = need('BENCH_BODY_TOKEN');
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const body = { uid: payload.sub, claims: payload };
    app.get('/v1/me', (_req, res) => {
      res.json(body);
    });
  } else if (kind === 'jose') {
    const jwks = createRemoteJWKSet(new URL(need('BENCH_FIREBASE_JWKS_URL')));
    const options = { issuer: `https://securetoken.google.com/${projectId}`, audience: projectId, algorithms: ['RS256'] };
    app.get('/v1/me', async (req, res) => {
      try {
        const { payload } = await jwtVerify(bearer(req), jwks, options);
        res.json({ uid: payload.sub, claims: payload });
      } catch {
        refuse(res);
      }
    });
  } else if (kind === 'jose-exchange') {
    const jwks = createRemoteJWKSet(new URL(need('BENCH_GOOGLE_JWKS_URL')));
    const account = JSON.parse(readFileSync(need('BENCH_SERVICE_ACCOUNT'), 'utf8')) as Record<string, string>;
    const privateKey = await importPKCS8(account.private_key as string, 'RS256');
    const clientEmail = account.client_email as string;
    const verifyOptions = { issuer: ['https://accounts.google.com', 'accounts.google.com'], audience: need('BENCH_CLIENT_ID'), algorithms: ['RS256'] };
    app.post('/v1/token/google', express.json(), async (req, res) => {
      let sub: string;
      try {
        const idToken = (req.body as { idToken?: unknown } | undefined)?.idToken;
        if (typeof idToken !== 'string') throw new Error('no idToken');
        sub = (await jwtVerify(idToken, jwks, verifyOptions)).payload.sub as string;
      } catch {
        refuse(res);
        return;
      }
      const now = Math.floor(Date.now() / 1000);
      const customToken = await new SignJWT({ uid: `google:${sub}` })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: account.private_key_id })
        .setIssuer(clientEmail)
        .setSubject(clientEmail)
        .setAudience('https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit')
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(privateKey);
      res.json({ customToken, expiresIn: 3600 });
    });
  } else if (kind === 'admin') {
    const account = JSON.parse(readFileSync(need('BENCH_SERVICE_ACCOUNT'), 'utf8')) as Record<string, string>;
    const agent = new LoopbackGoogleAgent(Number(need('BENCH_TLS_PORT')), need('BENCH_TLS_CA'));
    const admin = getAuth(adminApp(account, projectId, agent, 'bench-peer'));
    app.get('/v1/me', async (req, res) => {
      try {
        const decoded = await admin.verifyIdToken(bearer(req));
        res.json({ uid: decoded.uid, claims: decoded });
      } catch {
        refuse(res);
      }
    });
  } else {
    throw new Error(`unknown BENCH_KIND ${kind}`);
  }
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, readyMs: Math.round(performance.now()), msg: 'listening' })}\n`);
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
