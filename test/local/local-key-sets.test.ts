import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OAuth2Client, gaxios } from 'google-auth-library';
import { SignJWT, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import forge from 'node-forge';
import { firebaseVerifier } from '../../src/compose/verifiers';
import { type RunningServer, startServer } from '../../src/compose/server';
import { LOCAL_CLIENT_ID, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { LogCapture } from '../../testkit/harness';
import { bridgeFetch } from '../../testkit/openapi-fetch';

/** Local mode publishes its keys where Google does, so verifiers that take a key-set URL verify its tokens. */
describe("local mode's key sets, read by other verifiers", () => {
  // The server's answers to this file's own requests are checked against /openapi.json (gaxios and jose fetch unchecked).
  const fetch = bridgeFetch();
  let running: RunningServer;
  let url: string;
  let googleIdToken: string;
  let firebaseIdToken: string;
  let uid: string;

  const post = async (route: string, body: unknown) => {
    const res = await fetch(`${url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, string>;
  };

  beforeAll(async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'firebridge-keysets-'));
    const config = loadConfig({ LOCAL_STATE_DIR: path.join(tmp, '.local'), KEYS_DIR: path.join(tmp, 'nokeys'), PORT: '0' }, tmp);
    running = await startServer(config, { logger: createLogger('silent', new LogCapture()) });
    url = fetch.bridge(running.url);
    googleIdToken = (await post('/local/google/id-token', { email: 'ada@example.com', name: 'Ada' })).idToken as string;
    const exchange = await post('/v1/token/google', { idToken: googleIdToken });
    uid = exchange.uid as string;
    firebaseIdToken = (await post('/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken?key=k', { token: exchange.customToken })).idToken as string;
  }, 30_000);

  afterAll(async () => {
    await running?.shutdown();
  });

  it('serves the JWKS, PEM map and securetoken x509 map with Cache-Control max-age; the kids are the tokens\'', async () => {
    const googleKid = decodeProtectedHeader(googleIdToken).kid as string;
    const firebaseKid = decodeProtectedHeader(firebaseIdToken).kid as string;
    expect(googleKid).not.toBe(firebaseKid);

    const v3 = await fetch(`${url}/oauth2/v3/certs`);
    expect(v3.headers.get('cache-control')).toMatch(/max-age=300/);
    const jwks = (await v3.json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys).toEqual([expect.objectContaining({ kid: googleKid, kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' })]);
    expect(JSON.stringify(jwks)).not.toMatch(/"d"|"p"|"q"/);

    for (const [route, kid] of [
      ['/oauth2/v1/certs', googleKid],
      ['/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com', firebaseKid],
    ] as const) {
      const res = await fetch(`${url}${route}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toMatch(/max-age=300/);
      const map = (await res.json()) as Record<string, string>;
      expect(Object.keys(map)).toEqual([kid]);
      // Self-signed certificates two parsers read (node:crypto's OpenSSL and node-forge's own).
      const cert = new X509Certificate(map[kid] as string);
      expect(cert.verify(cert.publicKey)).toBe(true);
      expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 365 * 86_400_000);
      const parsed = forge.pki.certificateFromPem(map[kid] as string);
      expect(parsed.verify(parsed)).toBe(true);
    }
    const jwk = (await (await fetch(`${url}/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com`)).json()) as { keys: unknown[] };
    expect(jwk.keys).toEqual([expect.objectContaining({ kid: firebaseKid })]);
  });

  it("google-auth-library: OAuth2Client.verifyIdToken with local mode's PEM URL, and verifySignedJwtWithCertsAsync with the securetoken map", async () => {
    // gaxios with Node's fetch (its default, node-fetch, is a dynamic import jest cannot run).
    const transporter = new gaxios.Gaxios({ fetchImplementation: globalThis.fetch, timeout: 5000, retry: false });
    const client = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: `${url}/oauth2/v1/certs` }, transporter });
    const ticket = await client.verifyIdToken({ idToken: googleIdToken, audience: LOCAL_CLIENT_ID });
    expect(ticket.getPayload()).toMatchObject({ email: 'ada@example.com', name: 'Ada', iss: 'https://accounts.google.com' });
    await expect(client.verifyIdToken({ idToken: googleIdToken, audience: 'another-client.apps.googleusercontent.com' })).rejects.toThrow();

    const certs = (await (await fetch(`${url}/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com`)).json()) as Record<string, string>;
    const firebase = await client.verifySignedJwtWithCertsAsync(firebaseIdToken, certs, 'demo-firebridge', ['https://securetoken.google.com/demo-firebridge']);
    expect(firebase.getPayload()).toMatchObject({ sub: uid, email: 'ada@example.com' });
    // The Google ID token is not signed by a securetoken key.
    await expect(client.verifySignedJwtWithCertsAsync(googleIdToken, certs, LOCAL_CLIENT_ID, ['https://accounts.google.com'])).rejects.toThrow();
  });

  it("jose: createRemoteJWKSet on /oauth2/v3/certs (Google ID tokens) and the securetoken JWKS (Firebase ID tokens)", async () => {
    const google = createRemoteJWKSet(new URL(`${url}/oauth2/v3/certs`));
    const { payload } = await jwtVerify(googleIdToken, google, { issuer: 'https://accounts.google.com', audience: LOCAL_CLIENT_ID });
    expect(payload.email).toBe('ada@example.com');
    await expect(jwtVerify(firebaseIdToken, google)).rejects.toThrow();
    const securetoken = createRemoteJWKSet(new URL(`${url}/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com`));
    const firebase = await jwtVerify(firebaseIdToken, securetoken, { issuer: 'https://securetoken.google.com/demo-firebridge', audience: 'demo-firebridge' });
    expect(firebase.payload.sub).toBe(uid);
  });

  it("the library's firebaseVerifier({projectId, certsUrl}) verifies local tokens (a demo- project only with a loopback certsUrl)", async () => {
    const verifier = firebaseVerifier({ projectId: 'demo-firebridge', certsUrl: `${url}/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com` });
    const user = await verifier.verify(firebaseIdToken);
    expect(user.uid).toBe(uid);
    expect(user.claims).toMatchObject({ email: 'ada@example.com' });
    // Same kid, another key: refused.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ sub: uid, aud: 'demo-firebridge', iss: 'https://securetoken.google.com/demo-firebridge', iat: now, exp: now + 600, auth_time: now })
      .setProtectedHeader({ alg: 'RS256', kid: decodeProtectedHeader(firebaseIdToken).kid as string })
      .sign(privateKey);
    await expect(verifier.verify(forged)).rejects.toThrow();
    // Against Google's URL a demo- project stays refused.
    expect(() => firebaseVerifier({ projectId: 'demo-firebridge' })).toThrow(/projectId: a demo- project/);
    expect(() => firebaseVerifier({ projectId: 'demo-firebridge', certsUrl: 'https://keys.example.com/x509' })).toThrow(/projectId: a demo- project/);
  });
});
