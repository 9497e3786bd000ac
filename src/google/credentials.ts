import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Clock } from '../clock';
import type { GoogleApiConfig } from '../config';
import type { FetchFn } from '../jwt/key-set-source';
import { signRs256Jwt } from '../jwt/rs256';
import { GoogleApiError, callGoogleJson } from './google-http';

/*
 * Application Default Credentials, read by this small module rather than google-auth-library.
 * The bridge must be testable against a fake token endpoint (GOOGLE_TOKEN_URL) with an injected
 * fetch and clock. google-auth-library 10 cannot be pointed there cleanly: its service-account
 * path (bundled gtoken, build/src/gtoken/getToken.js and jwsSign.js) hard-codes
 * https://oauth2.googleapis.com/token as both the URL and the assertion's aud, and its metadata
 * path (gcp-metadata) reads GCE_METADATA_HOST from the environment itself, which only
 * src/config/index.ts may read here. What ADC needs here is small:
 *   1. GOOGLE_APPLICATION_CREDENTIALS, else gcloud's well-known file: a `service_account` key
 *      (JWT-bearer grant, RFC 7523, to GOOGLE_TOKEN_URL) or an `authorized_user` (refresh_token
 *      grant to GOOGLE_TOKEN_URL);
 *   2. else the metadata server (GCE_METADATA_HOST) on Google Cloud.
 * Tokens are cached and refreshed before they expire; concurrent callers share one refresh.
 */

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** An OAuth 2.0 access token for Google APIs, and whose it is. */
export interface AccessTokenSource {
  getAccessToken(): Promise<string>;
  /** The account the credentials act as, when known (audit trail). */
  accountEmail(): Promise<string | undefined>;
}

type Credential =
  | { kind: 'service_account'; clientEmail: string; privateKeyId?: string; privateKey: KeyObject; source: string }
  | { kind: 'authorized_user'; clientId: string; clientSecret: string; refreshToken: string; account?: string; source: string }
  | { kind: 'metadata' };

export class AdcError extends Error {
  readonly code = 'ERR_ADC';
  constructor(message: string) {
    super(message);
    this.name = 'AdcError';
  }
}

export interface AdcOptions {
  config: Pick<GoogleApiConfig, 'credentialsFile' | 'wellKnownCredentialsFile' | 'tokenUrl' | 'metadataHost' | 'timeoutMs'>;
  fetch: FetchFn;
  clock: Clock;
  scopes?: readonly string[];
}

/** Refresh this long before expiry (less for short-lived tokens: half their life). */
const REFRESH_MARGIN_MS = 5 * 60_000;

function readCredentialFile(file: string): Credential {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AdcError(`${file}: ${code ? `cannot be read (${code})` : 'is not valid JSON'}`);
  }
  const s = (field: string): string | undefined => (typeof doc[field] === 'string' && doc[field] !== '' ? (doc[field] as string) : undefined);
  if (doc.type === 'service_account') {
    const clientEmail = s('client_email');
    const pem = s('private_key');
    if (!clientEmail || !pem) throw new AdcError(`${file}: a service_account file needs client_email and private_key`);
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: pem, format: 'pem' });
    } catch {
      throw new AdcError(`${file}: "private_key" does not import as a PEM private key`);
    }
    return { kind: 'service_account', clientEmail, privateKeyId: s('private_key_id'), privateKey, source: file };
  }
  if (doc.type === 'authorized_user') {
    const clientId = s('client_id');
    const clientSecret = s('client_secret');
    const refreshToken = s('refresh_token');
    if (!clientId || !clientSecret || !refreshToken) {
      throw new AdcError(`${file}: an authorized_user file needs client_id, client_secret and refresh_token`);
    }
    return { kind: 'authorized_user', clientId, clientSecret, refreshToken, account: s('account'), source: file };
  }
  throw new AdcError(`${file}: credentials of type "${String(doc.type)}" are not supported (service_account or authorized_user)`);
}

export class ApplicationDefaultCredentials implements AccessTokenSource {
  private credential?: Credential;
  private cached?: { token: string; refreshAt: number; expiresAt: number };
  private inflight?: Promise<string>;
  private email?: Promise<string | undefined>;

  constructor(private readonly options: AdcOptions) {}

  /** Which credentials ADC found (no secrets): for logs. */
  describe(): string {
    const credential = this.resolve();
    return credential.kind === 'metadata' ? `metadata server ${this.options.config.metadataHost}` : `${credential.kind} from ${credential.source}`;
  }

  private resolve(): Credential {
    if (this.credential) return this.credential;
    const { credentialsFile, wellKnownCredentialsFile } = this.options.config;
    if (credentialsFile !== undefined) this.credential = readCredentialFile(credentialsFile);
    else if (wellKnownCredentialsFile !== undefined && existsSync(wellKnownCredentialsFile)) {
      this.credential = readCredentialFile(wellKnownCredentialsFile);
    } else this.credential = { kind: 'metadata' };
    return this.credential;
  }

  async getAccessToken(): Promise<string> {
    const now = this.options.clock();
    if (this.cached && now < this.cached.refreshAt) return this.cached.token;
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = undefined;
    });
    try {
      return await this.inflight;
    } catch (err) {
      // A refresh that fails while the old token is still valid does not fail the caller.
      if (this.cached && this.options.clock() < this.cached.expiresAt - 10_000) return this.cached.token;
      throw err;
    }
  }

  accountEmail(): Promise<string | undefined> {
    this.email ??= this.lookUpEmail().catch(() => undefined);
    return this.email;
  }

  private async lookUpEmail(): Promise<string | undefined> {
    const credential = this.resolve();
    if (credential.kind === 'service_account') return credential.clientEmail;
    if (credential.kind === 'authorized_user') return credential.account;
    const { fetch: fetchFn, config } = this.options;
    const response = await fetchFn(`http://${config.metadataHost}/computeMetadata/v1/instance/service-accounts/default/email`, {
      headers: { 'Metadata-Flavor': 'Google' },
      signal: AbortSignal.timeout(config.timeoutMs),
    });
    if (!response.ok) return undefined;
    const text = (await response.text()).trim();
    return /^[^@\s]+@[^@\s]+$/.test(text) ? text : undefined;
  }

  private async fetchToken(): Promise<string> {
    const credential = this.resolve();
    const { fetch: fetchFn, config, clock } = this.options;
    const scopes = this.options.scopes ?? [CLOUD_PLATFORM_SCOPE];
    let body: Record<string, unknown>;
    if (credential.kind === 'metadata') {
      const url = `http://${config.metadataHost}/computeMetadata/v1/instance/service-accounts/default/token?scopes=${encodeURIComponent(scopes.join(' '))}`;
      body = await callGoogleJson(fetchFn, 'metadata server token', url, { headers: { 'Metadata-Flavor': 'Google' } }, config.timeoutMs);
    } else if (credential.kind === 'service_account') {
      body = await requestServiceAccountToken(credential, scopes, { fetch: fetchFn, clock, tokenUrl: config.tokenUrl, timeoutMs: config.timeoutMs });
    } else {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: credential.clientId,
        client_secret: credential.clientSecret,
        refresh_token: credential.refreshToken,
      });
      body = await postTokenForm(form, { fetch: fetchFn, tokenUrl: config.tokenUrl, timeoutMs: config.timeoutMs });
    }
    this.cached = cachedAccessToken(body, clock());
    return this.cached.token;
  }
}

/** Where and how to reach the OAuth 2.0 token endpoint. */
export interface TokenEndpoint {
  fetch: FetchFn;
  tokenUrl: string;
  timeoutMs: number;
}

function postTokenForm(form: URLSearchParams, endpoint: TokenEndpoint): Promise<Record<string, unknown>> {
  return callGoogleJson(
    endpoint.fetch,
    'OAuth token endpoint',
    endpoint.tokenUrl,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() },
    endpoint.timeoutMs,
  );
}

/** The OAuth 2.0 JWT-bearer grant of a service account: an assertion signed with its private key. */
export async function requestServiceAccountToken(
  account: { clientEmail: string; privateKeyId?: string; privateKey: KeyObject },
  scopes: readonly string[],
  endpoint: TokenEndpoint & { clock: Clock },
): Promise<Record<string, unknown>> {
  const iat = Math.floor(endpoint.clock() / 1000);
  const header = account.privateKeyId ? { typ: 'JWT', kid: account.privateKeyId } : { typ: 'JWT' };
  const assertion = await signRs256Jwt(
    header,
    { iss: account.clientEmail, scope: scopes.join(' '), aud: endpoint.tokenUrl, iat, exp: iat + 3600 },
    account.privateKey,
  );
  return postTokenForm(new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }), endpoint);
}

/** A token endpoint's answer as a cache entry, refreshed five minutes (or half its life) before expiry. */
export function cachedAccessToken(body: Record<string, unknown>, now: number): { token: string; refreshAt: number; expiresAt: number } {
  const token = body.access_token;
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in);
  if (typeof token !== 'string' || token === '' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new GoogleApiError('the token endpoint answered without access_token / expires_in');
  }
  const lifetimeMs = expiresIn * 1000;
  return { token, expiresAt: now + lifetimeMs, refreshAt: now + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2) };
}
