import { OAuth2Client, gaxios } from 'google-auth-library';
import type { CodeGrant, GoogleOAuthPort, RefreshedAccessToken } from '../auth/google-link';
import type { Clock } from '../clock';
import { GoogleApiError, GoogleGrantError } from '../errors';
import type { FetchFn } from '../outbound/fetch';
import { googleTransport } from './transport';

export interface GoogleOAuthOptions {
  clientId: string;
  clientSecret: string;
  /** GOOGLE_TOKEN_URL. */
  tokenUrl: string;
  /** GOOGLE_REVOKE_URL. */
  revokeUrl: string;
  fetch: FetchFn;
  clock: Clock;
  timeoutMs: number;
}

interface TokenData {
  access_token?: unknown;
  refresh_token?: unknown;
  id_token?: unknown;
  scope?: unknown;
  expiry_date?: unknown;
}

/**
 * Google's OAuth endpoints for the web client, through google-auth-library's OAuth2Client on the
 * project's transport (injected fetch, no redirects, gaxios retries forced off: a code is sent once).
 * A new client (and transporter) per call: credentials never outlive the call that used them.
 */
export class GoogleOAuth implements GoogleOAuthPort {
  constructor(private readonly options: GoogleOAuthOptions) {}

  private client(redirectUri?: string): OAuth2Client {
    const { options } = this;
    return new OAuth2Client({
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      // getToken drops an empty redirect_uri of its own options, and the constructor an empty
      // `redirectUri` ('' || ...): only `redirect_uris: ['']` makes it send redirect_uri= (Android, iOS).
      ...(redirectUri !== undefined ? { redirectUri, redirect_uris: [redirectUri] } : {}),
      transporter: googleTransport({ fetch: options.fetch, tokenUrl: options.tokenUrl, timeoutMs: options.timeoutMs }),
      endpoints: { oauth2TokenUrl: options.tokenUrl, oauth2RevokeUrl: options.revokeUrl },
    });
  }

  async exchangeCode(code: string, redirectUri: string): Promise<CodeGrant> {
    let data: TokenData;
    try {
      const { tokens } = await this.client(redirectUri).getToken({ code });
      data = tokens as TokenData;
    } catch (err) {
      throw mapError(err, 'code exchange');
    }
    const accessToken = data.access_token;
    if (typeof accessToken !== 'string') throw new GoogleApiError('code exchange: no access_token in the answer');
    return {
      accessToken,
      expiresAt: this.expiresAt(data.expiry_date),
      scopes: scopesOf(data.scope),
      ...(typeof data.refresh_token === 'string' && data.refresh_token !== '' ? { refreshToken: data.refresh_token } : {}),
      ...(typeof data.id_token === 'string' ? { idToken: data.id_token } : {}),
    };
  }

  async refresh(refreshToken: string): Promise<RefreshedAccessToken> {
    const client = this.client();
    client.setCredentials({ refresh_token: refreshToken });
    try {
      await client.getAccessToken();
    } catch (err) {
      throw mapError(err, 'refresh');
    }
    const data = client.credentials as TokenData;
    if (typeof data.access_token !== 'string') throw new GoogleApiError('refresh: no access_token in the answer');
    return { accessToken: data.access_token, expiresAt: this.expiresAt(data.expiry_date), scopes: scopesOf(data.scope) };
  }

  async revoke(token: string): Promise<void> {
    try {
      await this.client().revokeToken(token);
    } catch (err) {
      const mapped = mapError(err, 'revoke');
      // Already revoked or expired: there is nothing left to revoke.
      if (mapped instanceof GoogleGrantError || (mapped instanceof GoogleApiError && mapped.httpStatus === 400)) return;
      throw mapped;
    }
  }

  /** google-auth-library stamps expiry_date on the wall clock; carried over to the injected one. */
  private expiresAt(expiryDate: unknown): number {
    const now = this.options.clock();
    if (typeof expiryDate !== 'number') return now + 3600_000;
    return now + Math.max(0, expiryDate - Date.now());
  }
}

function scopesOf(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

/** invalid_grant → GoogleGrantError; the rest → GoogleApiError with the status. Never quotes a token. */
function mapError(err: unknown, call: string): Error {
  if (err instanceof gaxios.GaxiosError) {
    const status = err.response?.status;
    const data = err.response?.data as { error?: unknown } | undefined;
    const oauthError = typeof data?.error === 'string' ? data.error : undefined;
    if (oauthError === 'invalid_grant') return new GoogleGrantError(`${call}: Google answered invalid_grant`);
    return new GoogleApiError(`${call}: Google answered ${status ?? 'nothing'}${oauthError ? ` (${oauthError.slice(0, 60)})` : ''}`, status);
  }
  return new GoogleApiError(`${call}: ${(err as Error).name ?? 'error'} (Google could not be reached)`);
}
