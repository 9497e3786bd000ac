import { randomBytes, sign as cryptoSign } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { generateTestKey, type TestKey } from './keys';
import type { FakeGoogle } from './fake-google';
import { type LoopbackServer, listenOnLoopback, readBody, sendJson } from './loopback-server';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  metadataFlavor?: string;
  contentType?: string;
  body: string;
}

/**
 * A fake of Google's OAuth token endpoint, metadata server, IAM (service-account keys) and IAM
 * Credentials (signBlob) on 127.0.0.1, written independently of the code under test (jose and
 * node:crypto). Keys it creates are registered with the FakeGoogle, so its signInWithCustomToken
 * trusts them. Every request is recorded; API calls need a bearer token the token endpoint issued.
 *
 * - POST /token: jwt-bearer grant (assertion verified against a registered service account) or
 *   refresh_token grant (the registered authorized user);
 * - GET /computeMetadata/v1/instance/service-accounts/default/{token,email} (Metadata-Flavor: Google);
 * - POST /v1/projects/{p}/serviceAccounts/{email}/keys, DELETE .../keys/{kid};
 * - POST /v1/projects/-/serviceAccounts/{email}:signBlob;
 * - POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken (impersonation: the caller's
 *   token must be one issued here; answers a token for the target account);
 * - POST /sts/v1/token: RFC 8693 token exchange (workload identity federation): a registered
 *   subject token for the registered audience becomes an access token.
 */
export class FakeIam {
  readonly requests: RecordedRequest[] = [];
  /** Access tokens issued, newest last. */
  readonly issuedTokens: string[] = [];
  /** The scopes each issued token was asked for (space-separated as in the request; '' when the grant names none). */
  readonly tokenScopes = new Map<string, string>();
  /** Keys of each service account IAM knows (kid → key). */
  readonly accountKeys = new Map<string, Map<string, TestKey>>();
  readonly deletedKids: string[] = [];
  tokenLifetimeSeconds = 3600;
  /** Make the next calls of an API fail with this status. */
  failing: { token?: number; iam?: number; signBlob?: number } = {};
  /** Never answer token requests (until closed): a hanging token endpoint. */
  hangToken = false;
  /** The authorized_user refresh token accepted, and the account it stands for. */
  readonly authorizedUser = { clientId: 'cli-client.apps.googleusercontent.com', clientSecret: 'cli-secret', refreshToken: `1//${randomBytes(12).toString('hex')}`, email: 'admin@example.com' };
  metadataEmail = 'bridge@fb-test-project.iam.gserviceaccount.com';
  /** The aud Google's token endpoint requires in a JWT-bearer assertion, wherever it is reached. */
  readonly assertionAudience = 'https://oauth2.googleapis.com/token';
  /** The key that signed each accepted JWT-bearer assertion, in order. */
  readonly assertionKids: string[] = [];
  /** Subject tokens the STS accepts (as a workload identity pool provider would), and their audience. */
  readonly subjectTokens = new Map<string, string>();
  /** Access tokens issued by impersonation, per target account. */
  readonly impersonatedTokens = new Map<string, string[]>();
  private constructor(
    private readonly loopback: LoopbackServer,
    readonly url: string,
    private readonly google?: FakeGoogle,
  ) {}

  static async start(google?: FakeGoogle): Promise<FakeIam> {
    let fake: FakeIam | undefined;
    const loopback = await listenOnLoopback((req, res) => {
      void fake?.handle(req, res);
    });
    fake = new FakeIam(loopback, loopback.url, google);
    return fake;
  }

  get tokenUrl(): string {
    return `${this.url}/token`;
  }

  get stsUrl(): string {
    return `${this.url}/sts/v1/token`;
  }

  /** GCE_METADATA_HOST value. */
  get metadataHost(): string {
    return this.url.replace('http://', '');
  }

  /** Registers an existing key of a service account (as if created earlier in IAM). */
  addKey(email: string, key: TestKey): void {
    const keys = this.accountKeys.get(email) ?? new Map<string, TestKey>();
    keys.set(key.kid, key);
    this.accountKeys.set(email, keys);
  }

  close(): Promise<void> {
    return this.loopback.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', this.url);
    const path = decodeURIComponent(url.pathname);
    this.requests.push({
      method: req.method ?? '',
      path: `${path}${url.search}`,
      authorization: req.headers.authorization,
      metadataFlavor: req.headers['metadata-flavor'] as string | undefined,
      contentType: req.headers['content-type'],
      body,
    });
    try {
      if (req.method === 'POST' && path === '/token') return await this.token(res, body);
      if (req.method === 'POST' && path === '/sts/v1/token') return this.sts(res, body);
      if (req.method === 'GET' && path.startsWith('/computeMetadata/v1/instance/service-accounts/default/')) {
        if (req.headers['metadata-flavor'] !== 'Google') return sendJson(res, 403, { error: 'missing Metadata-Flavor' });
        if (path.endsWith('/email')) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(this.metadataEmail);
        if (path.endsWith('/token')) return sendJson(res, 200, this.issue(url.searchParams.get('scopes')?.split(',').join(' ') ?? ''));
      }
      const keysMatch = /^\/v1\/projects\/([^/]+)\/serviceAccounts\/([^/]+)\/keys(?:\/([^/]+))?$/.exec(path);
      const signBlobMatch = /^\/v1\/projects\/-\/serviceAccounts\/([^/]+):signBlob$/.exec(path);
      const impersonateMatch = /^\/v1\/projects\/-\/serviceAccounts\/([^/]+):generateAccessToken$/.exec(path);
      if (keysMatch || signBlobMatch || impersonateMatch) {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        if (!bearer || !this.issuedTokens.includes(bearer)) return sendJson(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.' } });
      }
      if (keysMatch && req.method === 'POST' && keysMatch[3] === undefined) return this.createKey(res, keysMatch[2] as string);
      if (keysMatch && req.method === 'DELETE' && keysMatch[3] !== undefined) return this.deleteKey(res, keysMatch[2] as string, keysMatch[3]);
      if (signBlobMatch && req.method === 'POST') return this.signBlob(res, signBlobMatch[1] as string, body);
      if (impersonateMatch && req.method === 'POST') return this.generateAccessToken(res, impersonateMatch[1] as string, body);
      sendJson(res, 404, { error: { code: 404, message: 'not found' } });
    } catch (err) {
      sendJson(res, 400, { error: { code: 400, message: (err as Error).message } });
    }
  }

  /** Whether `token` was issued here and for `scope`. */
  hasScope(token: string, scope: string): boolean {
    return this.tokenScopes.get(token)?.split(/\s+/).includes(scope) ?? false;
  }

  private issue(scope: string): Record<string, unknown> {
    const token = `ya29.${randomBytes(16).toString('hex')}`;
    this.issuedTokens.push(token);
    this.tokenScopes.set(token, scope);
    return { access_token: token, expires_in: this.tokenLifetimeSeconds, token_type: 'Bearer' };
  }

  private async token(res: ServerResponse, body: string): Promise<void> {
    if (this.hangToken) return;
    if (this.failing.token) return sendJson(res, this.failing.token, { error: 'internal_failure', error_description: 'token endpoint down' });
    const form = new URLSearchParams(body);
    const grant = form.get('grant_type');
    if (grant === 'refresh_token') {
      const u = this.authorizedUser;
      if (form.get('client_id') !== u.clientId || form.get('client_secret') !== u.clientSecret || form.get('refresh_token') !== u.refreshToken) {
        return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Bad Request' });
      }
      return sendJson(res, 200, this.issue(form.get('scope') ?? ''));
    }
    if (grant !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return sendJson(res, 400, { error: 'unsupported_grant_type' });
    const assertion = form.get('assertion') ?? '';
    const email = decodeJwt(assertion).iss as string;
    const kid = decodeProtectedHeader(assertion).kid;
    // As Google: a kid names the key; without one (google-auth-library sends none), any of the account's keys may have signed.
    const keys = this.accountKeys.get(email);
    const candidates = kid ? [keys?.get(kid)] : [...(keys?.values() ?? [])];
    for (const key of candidates) {
      if (!key) continue;
      try {
        await jwtVerify(assertion, key.publicKey, { algorithms: ['RS256'], audience: this.assertionAudience, issuer: email });
      } catch {
        continue;
      }
      this.assertionKids.push(key.kid);
      const claims = decodeJwt(assertion);
      return sendJson(res, 200, this.issue(typeof claims.scope === 'string' ? claims.scope : ''));
    }
    sendJson(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
  }

  /** STS token exchange, with the checks Google's STS makes of the request's shape. */
  private sts(res: ServerResponse, body: string): void {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange') return sendJson(res, 400, { error: 'unsupported_grant_type' });
    if (form.get('requested_token_type') !== 'urn:ietf:params:oauth:token-type:access_token') return sendJson(res, 400, { error: 'invalid_request', error_description: 'requested_token_type' });
    const subject = form.get('subject_token') ?? '';
    const audience = this.subjectTokens.get(subject);
    if (audience === undefined || form.get('audience') !== audience) {
      return sendJson(res, 400, { error: 'invalid_grant', error_description: 'The subject token is not valid for this audience.' });
    }
    if (!form.get('subject_token_type') || !form.get('scope')) return sendJson(res, 400, { error: 'invalid_request', error_description: 'subject_token_type and scope are required' });
    const issued = this.issue(form.get('scope') ?? '');
    sendJson(res, 200, { ...issued, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
  }

  private generateAccessToken(res: ServerResponse, email: string, body: string): void {
    const { scope, lifetime } = JSON.parse(body) as { scope?: unknown; lifetime?: unknown };
    if (!Array.isArray(scope) || scope.length === 0) return sendJson(res, 400, { error: { code: 400, message: 'scope is required' } });
    if (typeof lifetime !== 'string' || !/^\d+s$/.test(lifetime) || Number(lifetime.slice(0, -1)) > 3600) {
      return sendJson(res, 400, { error: { code: 400, message: 'lifetime must be at most 3600s' } });
    }
    const token = `ya29.imp-${randomBytes(12).toString('hex')}`;
    this.issuedTokens.push(token);
    this.tokenScopes.set(token, scope.join(' '));
    this.impersonatedTokens.set(email, [...(this.impersonatedTokens.get(email) ?? []), token]);
    sendJson(res, 200, { accessToken: token, expireTime: new Date(Date.now() + Number(lifetime.slice(0, -1)) * 1000).toISOString() });
  }

  private createKey(res: ServerResponse, email: string): void {
    if (this.failing.iam) return sendJson(res, this.failing.iam, { error: { code: this.failing.iam, message: 'Permission iam.serviceAccountKeys.create denied' } });
    const key = generateTestKey();
    this.addKey(email, key);
    const projectId = /@([^.]+)\.iam\.gserviceaccount\.com$/.exec(email)?.[1] ?? 'unknown';
    const gKeys = this.google?.serviceAccounts.get(email) ?? new Map<string, TestKey>();
    gKeys.set(key.kid, key);
    this.google?.serviceAccounts.set(email, gKeys);
    const file = {
      type: 'service_account',
      project_id: projectId,
      private_key_id: key.kid,
      private_key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      client_email: email,
      client_id: '1234567890',
      token_uri: 'https://oauth2.googleapis.com/token',
    };
    sendJson(res, 200, {
      name: `projects/${projectId}/serviceAccounts/${email}/keys/${key.kid}`,
      privateKeyType: 'TYPE_GOOGLE_CREDENTIALS_FILE',
      privateKeyData: Buffer.from(JSON.stringify(file)).toString('base64'),
      keyAlgorithm: 'KEY_ALG_RSA_2048',
    });
  }

  private deleteKey(res: ServerResponse, email: string, kid: string): void {
    if (this.failing.iam) return sendJson(res, this.failing.iam, { error: { code: this.failing.iam, message: 'Permission iam.serviceAccountKeys.delete denied' } });
    const keys = this.accountKeys.get(email);
    if (!keys?.delete(kid)) return sendJson(res, 404, { error: { code: 404, message: `Service account key ${kid} does not exist.` } });
    this.google?.serviceAccounts.get(email)?.delete(kid);
    this.deletedKids.push(kid);
    sendJson(res, 200, {});
  }

  private signBlob(res: ServerResponse, email: string, body: string): void {
    if (this.failing.signBlob) return sendJson(res, this.failing.signBlob, { error: { code: this.failing.signBlob, message: 'signBlob failed' } });
    const { payload } = JSON.parse(body) as { payload?: string };
    if (typeof payload !== 'string') throw new Error('payload is required');
    const keys = this.accountKeys.get(email);
    const key = keys ? [...keys.values()].pop() : undefined;
    if (!key) return sendJson(res, 403, { error: { code: 403, message: `no keys for ${email}` } });
    const signature = cryptoSign('sha256', Buffer.from(payload, 'base64'), key.privateKey);
    sendJson(res, 200, { keyId: key.kid, signedBlob: signature.toString('base64') });
  }
}

