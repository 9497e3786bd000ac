import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT } from 'jose';
import { type LoopbackServer, listenOnLoopback, readBody, sendJson } from './loopback-server';

export interface IssuedCode {
  sub: string;
  scopes: string[];
  /** Google sends a refresh token only on first consent (or prompt=consent). */
  withRefreshToken: boolean;
  /** 'none': no id_token in the answer; a string: the id_token names that sub instead. */
  idTokenSub?: string | 'none';
}

interface RefreshGrant {
  sub: string;
  scopes: string[];
  revoked: boolean;
}

/**
 * Google's OAuth token and revoke endpoints on 127.0.0.1, written independently of the code under
 * test: POST /token checks client_id and client_secret (form or Basic), single-uses codes, mints
 * refresh and access tokens and counts refreshes; POST /revoke revokes a refresh token.
 */
export class FakeOAuth {
  readonly codes = new Map<string, IssuedCode>();
  readonly usedCodes = new Set<string>();
  readonly refreshTokens = new Map<string, RefreshGrant>();
  readonly redirectUris: string[] = [];
  exchangeHits = 0;
  refreshHits = 0;
  revokeHits = 0;
  /** Seconds an access token lives. */
  expiresIn = 3600;
  /** Milliseconds before a refresh is answered. */
  refreshDelayMs = 0;
  /** Answer the next N token requests 500 (a Google outage). */
  failNext = 0;
  /** The next N revokes answer 503. */
  failRevokes = 0;
  private readonly idTokenKey = randomBytes(32);

  private constructor(
    private readonly loopback: LoopbackServer,
    readonly url: string,
    readonly clientId: string,
    readonly clientSecret: string,
  ) {}

  static async start(clientId = 'vault-web.apps.googleusercontent.com', clientSecret = 'GOCSPX-test-secret'): Promise<FakeOAuth> {
    let fake: FakeOAuth | undefined;
    const loopback = await listenOnLoopback((req, res) => void fake?.handle(req, res));
    fake = new FakeOAuth(loopback, loopback.url, clientId, clientSecret);
    return fake;
  }

  get tokenUrl(): string {
    return `${this.url}/token`;
  }

  get revokeUrl(): string {
    return `${this.url}/revoke`;
  }

  issueCode(code: Partial<IssuedCode> & { sub: string }): string {
    const value = `4/0A${randomBytes(24).toString('base64url')}`;
    this.codes.set(value, { scopes: ['openid', 'https://www.googleapis.com/auth/drive.file'], withRefreshToken: true, ...code });
    return value;
  }

  /** Revokes every refresh token of a Google account (the user removed the app's access). */
  revokeAllOf(sub: string): void {
    for (const grant of this.refreshTokens.values()) if (grant.sub === sub) grant.revoked = true;
  }

  close(): Promise<void> {
    return this.loopback.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const body = new URLSearchParams(await readBody(req));
    if (req.method === 'POST' && url.pathname === '/revoke') {
      this.revokeHits += 1;
      if (this.failRevokes > 0) {
        this.failRevokes -= 1;
        return sendJson(res, 503, { error: 'unavailable' });
      }
      const token = url.searchParams.get('token') ?? body.get('token') ?? '';
      const grant = this.refreshTokens.get(token);
      if (!grant) return sendJson(res, 400, { error: 'invalid_token' });
      grant.revoked = true;
      return sendJson(res, 200, {});
    }
    if (req.method !== 'POST' || url.pathname !== '/token') return sendJson(res, 404, { error: 'not_found' });
    let clientId = body.get('client_id');
    let secret = body.get('client_secret');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (basic) [clientId, secret] = Buffer.from(basic[1] as string, 'base64').toString().split(':') as [string, string];
    const grantType = body.get('grant_type');
    if (grantType === 'authorization_code') this.exchangeHits += 1;
    if (grantType === 'refresh_token') this.refreshHits += 1;
    if (this.failNext > 0) {
      this.failNext -= 1;
      return sendJson(res, 500, { error: 'internal_failure' });
    }
    if (clientId !== this.clientId || secret !== this.clientSecret) return sendJson(res, 401, { error: 'invalid_client' });
    if (grantType === 'authorization_code') {
      const code = body.get('code') ?? '';
      this.redirectUris.push(body.get('redirect_uri') ?? '(none)');
      const issued = this.codes.get(code);
      if (!issued || this.usedCodes.has(code)) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Bad Request' });
      this.usedCodes.add(code);
      const answer: Record<string, unknown> = {
        access_token: `ya29.${randomBytes(16).toString('hex')}`,
        expires_in: this.expiresIn,
        scope: issued.scopes.join(' '),
        token_type: 'Bearer',
      };
      if (issued.withRefreshToken) {
        const refresh = `1//0g${randomBytes(24).toString('base64url')}`;
        this.refreshTokens.set(refresh, { sub: issued.sub, scopes: issued.scopes, revoked: false });
        answer.refresh_token = refresh;
      }
      if (issued.idTokenSub !== 'none') answer.id_token = await this.idToken(issued.idTokenSub ?? issued.sub);
      return sendJson(res, 200, answer);
    }
    if (grantType === 'refresh_token') {
      const grant = this.refreshTokens.get(body.get('refresh_token') ?? '');
      // Decided on arrival, answered after the delay (a slow network): a revoke that lands meanwhile is too late.
      const refused = !grant || grant.revoked;
      if (this.refreshDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.refreshDelayMs));
      if (refused || !grant) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
      return sendJson(res, 200, {
        access_token: `ya29.${randomBytes(16).toString('hex')}`,
        expires_in: this.expiresIn,
        scope: grant.scopes.join(' '),
        token_type: 'Bearer',
      });
    }
    return sendJson(res, 400, { error: 'unsupported_grant_type' });
  }

  private idToken(sub: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: 'https://accounts.google.com', aud: this.clientId, azp: this.clientId, sub, iat: now, exp: now + 3600 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(this.idTokenKey);
  }
}

