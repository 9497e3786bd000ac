import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { type TestKey, generateTestKey, publicJwk, selfSignedCertificate } from './keys';
import { type LoopbackServer, listenOnLoopback, readBody, sendJson } from './loopback-server';

export const IDENTITY_TOOLKIT_AUDIENCE =
  'https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit';
const RESERVED = ['acr', 'amr', 'at_hash', 'aud', 'auth_time', 'azp', 'cnf', 'c_hash', 'exp', 'firebase', 'iat', 'iss', 'jti', 'nbf', 'nonce', 'sub'];

export type EndpointMode = 'ok' | 'fail' | 'garbage' | 'hang';

interface KeySetEndpoint {
  keys: TestKey[];
  certs: Map<string, string>;
  mode: EndpointMode;
  maxAgeSeconds: number | undefined;
  /** Answer after this many milliseconds (a slow Google). */
  delayMs: number;
  hits: number;
}

export interface TestServiceAccount {
  projectId: string;
  clientEmail: string;
  key: TestKey;
  /** The key file as Google's console downloads it. */
  json: Record<string, string>;
}

/**
 * A fake Google on 127.0.0.1, written independently of the code under test (jose, node-forge):
 * - GET /oauth2/v3/certs: Google's JWKS, with Cache-Control max-age;
 * - GET /robot/v1/metadata/x509/securetoken@system.gserviceaccount.com: the x509 map;
 * - GET /robot/v1/metadata/x509/<service account email>: that account's public keys as an x509 map
 *   (a key deleted through the fake IAM is gone from it), as its key file's client_x509_cert_url names;
 * - GET /service_accounts/v1/jwk/securetoken@system.gserviceaccount.com: the same keys as a JWKS
 *   (what a jose `createRemoteJWKSet` route reads; the benchmark's peer);
 * - POST /v1/accounts:signInWithCustomToken: verifies a custom token the way Google documents
 *   (RS256 by the service account's public key, aud, iss = sub = client_email, lifetime ≤ 1 h,
 *   uid ≤ 128, no reserved claims) and returns a Firebase ID token signed by securetoken.
 * Each endpoint counts its hits and can fail, return garbage, or hang; every answer's Date header can be
 * shifted (`dateOffsetMs`).
 */
export class FakeGoogle {
  readonly google: KeySetEndpoint;
  readonly securetoken: KeySetEndpoint;
  readonly serviceAccounts = new Map<string, Map<string, TestKey>>();
  signInHits = 0;
  readonly signInRejections: string[] = [];
  /** Added to the time in every answer's Date header (a Google whose clock differs from this machine's). */
  dateOffsetMs = 0;
  /** Requests for service accounts' x509 maps (GET /robot/v1/metadata/x509/<email>), by email. */
  readonly x509Hits: string[] = [];
  private readonly accountCerts = new Map<string, string>();
  private constructor(
    private readonly loopback: LoopbackServer,
    readonly url: string,
    readonly projectId: string,
  ) {
    const gKey = generateTestKey();
    const sKey = generateTestKey();
    this.google = { keys: [gKey], certs: new Map(), mode: 'ok', maxAgeSeconds: 3600, delayMs: 0, hits: 0 };
    this.securetoken = { keys: [sKey], certs: new Map([[sKey.kid, selfSignedCertificate(sKey)]]), mode: 'ok', maxAgeSeconds: 3600, delayMs: 0, hits: 0 };
  }

  static async start(projectId = 'fb-test-project'): Promise<FakeGoogle> {
    let fake: FakeGoogle | undefined;
    const loopback = await listenOnLoopback((req, res) => {
      void fake?.handle(req, res);
    });
    fake = new FakeGoogle(loopback, loopback.url, projectId);
    return fake;
  }

  get googleCertsUrl(): string {
    return `${this.url}/oauth2/v3/certs`;
  }

  get firebaseCertsUrl(): string {
    return `${this.url}/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com`;
  }

  /** securetoken's keys as a JWKS (the same keys as firebaseCertsUrl; counted in securetoken.hits). */
  get firebaseJwksUrl(): string {
    return `${this.url}/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com`;
  }

  get signInWithCustomTokenUrl(): string {
    return `${this.url}/v1/accounts:signInWithCustomToken?key=test-api-key`;
  }

  /** Adds a new Google signing key (kept alongside the old ones unless `replace`). */
  rotateGoogle(replace = false): TestKey {
    const key = generateTestKey();
    this.google.keys = replace ? [key] : [...this.google.keys, key];
    return key;
  }

  rotateSecuretoken(replace = false): TestKey {
    const key = generateTestKey();
    this.securetoken.keys = replace ? [key] : [...this.securetoken.keys, key];
    this.securetoken.certs.set(key.kid, selfSignedCertificate(key));
    return key;
  }

  /** A service account of a project; its public key is what signInWithCustomToken trusts. */
  createServiceAccount(projectId = this.projectId, name = 'firebase-adminsdk-abcde'): TestServiceAccount {
    const key = generateTestKey();
    const clientEmail = `${name}@${projectId}.iam.gserviceaccount.com`;
    const keys = this.serviceAccounts.get(clientEmail) ?? new Map<string, TestKey>();
    keys.set(key.kid, key);
    this.serviceAccounts.set(clientEmail, keys);
    return {
      projectId,
      clientEmail,
      key,
      json: {
        type: 'service_account',
        project_id: projectId,
        private_key_id: key.kid,
        private_key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        client_email: clientEmail,
        client_id: '1234567890',
        auth_uri: 'https://accounts.google.com/o/oauth2/auth',
        token_uri: 'https://oauth2.googleapis.com/token',
        client_x509_cert_url: this.serviceAccountCertsUrl(clientEmail),
      },
    };
  }

  /** Where a service account's public x509 map is (its key file's client_x509_cert_url). */
  serviceAccountCertsUrl(clientEmail: string): string {
    return `${this.url}/robot/v1/metadata/x509/${encodeURIComponent(clientEmail)}`;
  }

  /** A Google ID token as Google issues it; override any claim, the key or the header. */
  async googleIdToken(
    claims: Record<string, unknown> = {},
    options: { key?: TestKey; header?: Record<string, unknown> } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const key = options.key ?? (this.google.keys[this.google.keys.length - 1] as TestKey);
    return new SignJWT({
      iss: 'https://accounts.google.com',
      azp: 'android-client.apps.googleusercontent.com',
      aud: 'web-client.apps.googleusercontent.com',
      sub: '110169484474386276334',
      email: 'ada@example.com',
      email_verified: true,
      name: 'Ada Lovelace',
      picture: 'https://lh3.googleusercontent.com/a/photo',
      iat: now,
      exp: now + 3600,
      // Google's ID tokens carry a unique jti: two tokens are never byte-identical.
      jti: randomBytes(16).toString('hex'),
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...options.header })
      .sign(key.privateKey);
  }

  /** A Firebase ID token as securetoken issues it; override any claim, the key or the header. */
  async firebaseIdToken(
    claims: Record<string, unknown> = {},
    options: { key?: TestKey; header?: Record<string, unknown>; projectId?: string } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const projectId = options.projectId ?? this.projectId;
    const key = options.key ?? (this.securetoken.keys[this.securetoken.keys.length - 1] as TestKey);
    return new SignJWT({
      iss: `https://securetoken.google.com/${projectId}`,
      aud: projectId,
      auth_time: now - 10,
      user_id: 'google:110169484474386276334',
      sub: 'google:110169484474386276334',
      iat: now,
      exp: now + 3600,
      firebase: { identities: {}, sign_in_provider: 'custom' },
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...options.header })
      .sign(key.privateKey);
  }

  close(): Promise<void> {
    return this.loopback.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (this.dateOffsetMs !== 0) res.setHeader('date', new Date(Date.now() + this.dateOffsetMs).toUTCString());
    const account = /^\/robot\/v1\/metadata\/x509\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && path === '/oauth2/v3/certs') {
      this.serveKeySet(res, this.google, () => ({ keys: this.google.keys.map(publicJwk) }));
    } else if (req.method === 'GET' && path === '/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com') {
      this.serveKeySet(res, this.securetoken, () =>
        Object.fromEntries(this.securetoken.keys.map((k) => [k.kid, this.securetoken.certs.get(k.kid)])),
      );
    } else if (req.method === 'GET' && account && decodeURIComponent(account[1] as string) !== 'securetoken@system.gserviceaccount.com') {
      const email = decodeURIComponent(account[1] as string);
      this.x509Hits.push(email);
      const keys = this.serviceAccounts.get(email);
      if (!keys) return sendJson(res, 404, { error: { code: 404, message: `Service account ${email} not found` } });
      sendJson(res, 200, Object.fromEntries([...keys.values()].map((key) => [key.kid, this.accountCertificate(key)])), { 'cache-control': 'public, max-age=3600' });
    } else if (req.method === 'GET' && path === '/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com') {
      this.serveKeySet(res, this.securetoken, () => ({ keys: this.securetoken.keys.map(publicJwk) }));
    } else if (req.method === 'POST' && path === '/v1/accounts:signInWithCustomToken') {
      this.signInHits += 1;
      const body = await readBody(req);
      try {
        const parsed = JSON.parse(body) as { token?: unknown; tenantId?: unknown };
        const result = await this.signInWithCustomToken(parsed.token, parsed.tenantId);
        sendJson(res, 200, result);
      } catch (err) {
        this.signInRejections.push((err as Error).message);
        sendJson(res, 400, { error: { code: 400, message: `INVALID_CUSTOM_TOKEN : ${(err as Error).message}` } });
      }
    } else {
      sendJson(res, 404, { error: 'not found' });
    }
  }

  private accountCertificate(key: TestKey): string {
    let pem = this.accountCerts.get(key.kid);
    if (pem === undefined) {
      pem = selfSignedCertificate(key, 'service-account.iam.gserviceaccount.com');
      this.accountCerts.set(key.kid, pem);
    }
    return pem;
  }

  private serveKeySet(res: ServerResponse, endpoint: KeySetEndpoint, body: () => unknown): void {
    endpoint.hits += 1;
    if (endpoint.delayMs > 0) {
      setTimeout(() => this.answerKeySet(res, endpoint, body), endpoint.delayMs);
      return;
    }
    this.answerKeySet(res, endpoint, body);
  }

  private answerKeySet(res: ServerResponse, endpoint: KeySetEndpoint, body: () => unknown): void {
    switch (endpoint.mode) {
      case 'hang':
        return; // never answers; the socket is destroyed on close()
      case 'fail':
        sendJson(res, 503, { error: 'backend error' });
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ {"kty": "nonsense"');
        return;
      default: {
        const headers: Record<string, string> = {};
        if (endpoint.maxAgeSeconds !== undefined) {
          headers['cache-control'] = `public, max-age=${endpoint.maxAgeSeconds}, must-revalidate, no-transform`;
        }
        sendJson(res, 200, body(), headers);
      }
    }
  }

  /**
   * Google's documented checks of a custom token, done with jose. A custom token of an Identity
   * Platform tenant (`tenant_id`, as TenantAwareAuth.createCustomToken writes it) signs in to that
   * tenant: the request's `tenantId`, when given, must match, and the ID token carries
   * `firebase.tenant`.
   */
  private async signInWithCustomToken(token: unknown, requestTenantId?: unknown): Promise<Record<string, unknown>> {
    if (typeof token !== 'string') throw new Error('MISSING_CUSTOM_TOKEN');
    const header = decodeProtectedHeader(token);
    const unverified = decodeJwt(token);
    if (header.alg !== 'RS256') throw new Error('alg must be RS256');
    const email = unverified.iss;
    const keys = typeof email === 'string' ? this.serviceAccounts.get(email) : undefined;
    if (!keys) throw new Error('unknown service account');
    const candidates = header.kid ? [keys.get(header.kid)].filter(Boolean) : [...keys.values()];
    let payload: Record<string, unknown> | undefined;
    for (const key of candidates as TestKey[]) {
      try {
        ({ payload } = await jwtVerify(token, key.publicKey, {
          algorithms: ['RS256'],
          audience: IDENTITY_TOOLKIT_AUDIENCE,
          issuer: email as string,
          subject: email as string,
          requiredClaims: ['iat', 'exp', 'uid'],
        }));
        break;
      } catch {
        // try the next key of this service account
      }
    }
    if (!payload) throw new Error('signature or claims invalid');
    const projectId = (email as string).split('@')[1]?.split('.')[0];
    if (projectId !== this.projectId) throw new Error('CONFIGURATION_NOT_FOUND: service account of another project');
    const iat = payload.iat as number;
    const exp = payload.exp as number;
    if (exp - iat > 3600) throw new Error('lifetime over one hour');
    const uid = payload.uid;
    if (typeof uid !== 'string' || uid.length === 0 || uid.length > 128) throw new Error('uid invalid');
    const claims = (payload.claims ?? {}) as Record<string, unknown>;
    if (RESERVED.some((name) => name in claims)) throw new Error('reserved claim');
    if (Buffer.byteLength(JSON.stringify(claims)) >= 1000) throw new Error('claims too large');
    const tenant = payload.tenant_id;
    if (tenant !== undefined && (typeof tenant !== 'string' || tenant === '')) throw new Error('tenant_id invalid');
    if (requestTenantId !== undefined && requestTenantId !== tenant) throw new Error('TENANT_ID_MISMATCH');
    const idToken = await this.firebaseIdToken({
      ...claims,
      sub: uid,
      user_id: uid,
      auth_time: Math.floor(Date.now() / 1000),
      firebase: { identities: {}, sign_in_provider: 'custom', ...(tenant !== undefined ? { tenant } : {}) },
    });
    return {
      kind: 'identitytoolkit#VerifyCustomTokenResponse',
      idToken,
      refreshToken: randomBytes(16).toString('hex'),
      expiresIn: '3600',
      isNewUser: false,
    };
  }
}

