import { existsSync, readFileSync } from 'node:fs';
import { type AuthClient, ExternalAccountClient, Impersonated, JWT, UserRefreshClient } from 'google-auth-library';
import type { Clock } from '../clock';
import type { GoogleApiConfig } from '../config';
import { GoogleApiError, GoogleCredentialsError } from '../errors';
import type { FetchFn } from '../outbound/fetch';
import { type AccessTokenSource, CachedAccessToken, type IssuedToken, issuedToken } from './access-token';
import { callGoogleJson, googleReason } from './client';
import { googleTransport } from './transport';

/*
 * Application Default Credentials, on google-auth-library: every credential file type it knows
 * (service_account, authorized_user, impersonated_service_account, external_account: workload
 * identity federation from AWS, Azure, GitHub Actions, Kubernetes...) is built with its own
 * client class, given a transport on the injected fetch (google/transport.ts).
 *
 * Two things stay here:
 * - The order ADC looks in (GOOGLE_APPLICATION_CREDENTIALS, gcloud's well-known file, the metadata
 *   server), because only src/config/ reads the environment: GoogleAuth would read it itself.
 * - The metadata server client: the library's (gcp-metadata) reads GCE_METADATA_HOST from the
 *   environment and uses gaxios' global instance, so it cannot be given the injected fetch.
 *
 * When a token is fetched is decided by CachedAccessToken on the injected clock; the library
 * clients are built with an eager-refresh threshold that makes them fetch whenever asked.
 */

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const DEFAULT_IAM_CREDENTIALS_URL = 'https://iamcredentials.googleapis.com';

/** Makes a google-auth-library client treat its cached token as always expiring: CachedAccessToken owns the caching. */
export const ALWAYS_REFRESH = { eagerRefreshThresholdMillis: Number.MAX_SAFE_INTEGER } as const;

export interface AdcOptions {
  config: Pick<GoogleApiConfig, 'credentialsFile' | 'wellKnownCredentialsFile' | 'tokenUrl' | 'metadataHost' | 'timeoutMs'> &
    Partial<Pick<GoogleApiConfig, 'iamCredentialsUrl'>>;
  fetch: FetchFn;
  clock: Clock;
  scopes?: readonly string[];
}

type JsonRecord = Record<string, unknown>;

/** What ADC found: a library client and what to call it in logs and errors. */
interface Resolved {
  /** For logs: the credential type and where it came from; no secret. */
  description: string;
  /** Fetches a new token (never from a cache). */
  fetchToken(): Promise<IssuedToken>;
  accountEmail(): Promise<string | undefined>;
}

function readJsonFile(file: string): JsonRecord {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GoogleCredentialsError(`${file}: ${code ? `cannot be read (${code})` : 'is not valid JSON'}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new GoogleCredentialsError(`${file}: is not a JSON object`);
  return doc as JsonRecord;
}

function field(doc: JsonRecord, name: string): string | undefined {
  const value = doc[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * A library error as a GoogleApiError: the endpoint and Google's reason (its answers never echo
 * credentials), never the request (an assertion, a refresh token, a subject token).
 */
export function libraryError(err: unknown, what: string, timeoutMs: number): GoogleApiError {
  if (err instanceof GoogleApiError) return err;
  const e = err as { response?: { status?: number; data?: unknown }; status?: number; code?: unknown; name?: string; cause?: unknown };
  const status = typeof e?.response?.status === 'number' ? e.response.status : undefined;
  if (status !== undefined) return new GoogleApiError(`${what}: HTTP ${status}${googleReason(e.response?.data)}`, status);
  const text = `${String((err as Error)?.message ?? '')} ${String((e?.cause as Error | undefined)?.message ?? '')}`;
  if (/too large/i.test(text)) return new GoogleApiError(`${what}: response too large`);
  if (/abort|timeout|timed out/i.test(text) || e?.name === 'TimeoutError') return new GoogleApiError(`${what}: timed out after ${timeoutMs} ms`);
  return new GoogleApiError(`${what}: request failed`);
}

/** The token a library client holds right after it fetched one, and how long it lives. */
export async function tokenFrom(client: AuthClient, what: string, timeoutMs: number): Promise<IssuedToken> {
  let token: string | null | undefined;
  try {
    ({ token } = await client.getAccessToken());
  } catch (err) {
    throw libraryError(err, what, timeoutMs);
  }
  if (!token) throw new GoogleApiError(`${what}: answered without an access token`);
  const expiry = client.credentials.expiry_date;
  // The library records expiry as an absolute time on the system clock: turn it back into a lifetime.
  const expiresInMs = typeof expiry === 'number' && expiry > Date.now() ? expiry - Date.now() : 0;
  if (expiresInMs <= 0) throw new GoogleApiError(`${what}: answered without an expiry`);
  return { token, expiresInMs };
}

export class ApplicationDefaultCredentials implements AccessTokenSource {
  private resolved?: Resolved;
  private readonly cache: CachedAccessToken;
  private email?: Promise<string | undefined>;

  constructor(private readonly options: AdcOptions) {
    this.cache = new CachedAccessToken(options.clock, () => this.resolve().fetchToken());
  }

  private get scopes(): string[] {
    return [...(this.options.scopes ?? [CLOUD_PLATFORM_SCOPE])];
  }

  /** Which credentials ADC found (no secrets): for logs. Throws GoogleCredentialsError when they are unusable. */
  describe(): string {
    return this.resolve().description;
  }

  getAccessToken(): Promise<string> {
    return this.cache.get();
  }

  invalidate(token: string): void {
    this.cache.invalidate(token);
  }

  accountEmail(): Promise<string | undefined> {
    this.email ??= Promise.resolve()
      .then(() => this.resolve().accountEmail())
      .catch(() => undefined);
    return this.email;
  }

  private resolve(): Resolved {
    if (this.resolved) return this.resolved;
    const { credentialsFile, wellKnownCredentialsFile } = this.options.config;
    if (credentialsFile !== undefined) this.resolved = this.fromFile(credentialsFile);
    else if (wellKnownCredentialsFile !== undefined && existsSync(wellKnownCredentialsFile)) {
      this.resolved = this.fromFile(wellKnownCredentialsFile);
    } else this.resolved = this.metadataServer();
    return this.resolved;
  }

  private transport() {
    const { fetch, config } = this.options;
    return googleTransport({ fetch, tokenUrl: config.tokenUrl, timeoutMs: config.timeoutMs });
  }

  private fromFile(file: string): Resolved {
    const doc = readJsonFile(file);
    const type = String(doc.type);
    const client = this.clientFor(doc, file);
    const what = type === 'external_account' ? 'STS token exchange' : type === 'impersonated_service_account' ? 'IAM Credentials generateAccessToken' : 'OAuth token endpoint';
    const { timeoutMs } = this.options.config;
    return {
      description: `${type} from ${file}`,
      fetchToken: () => tokenFrom(client, what, timeoutMs),
      accountEmail: async () => accountOf(doc, client),
    };
  }

  /**
   * The library client for one credential document (recursively for an impersonation's source,
   * which keeps the library's own caching: Impersonated asks it for a token twice per refresh).
   */
  private clientFor(doc: JsonRecord, file: string, source = false): AuthClient {
    const { config } = this.options;
    const common = { transporter: this.transport(), ...(source ? {} : ALWAYS_REFRESH) };
    switch (doc.type) {
      case 'service_account': {
        const email = field(doc, 'client_email');
        const key = field(doc, 'private_key');
        if (!email || !key) throw new GoogleCredentialsError(`${file}: a service_account file needs client_email and private_key`);
        return new JWT({ ...common, email, key, keyId: field(doc, 'private_key_id'), scopes: this.scopes });
      }
      case 'authorized_user': {
        const clientId = field(doc, 'client_id');
        const clientSecret = field(doc, 'client_secret');
        const refreshToken = field(doc, 'refresh_token');
        if (!clientId || !clientSecret || !refreshToken) {
          throw new GoogleCredentialsError(`${file}: an authorized_user file needs client_id, client_secret and refresh_token`);
        }
        return new UserRefreshClient({ ...common, clientId, clientSecret, refreshToken, endpoints: { oauth2TokenUrl: config.tokenUrl } });
      }
      case 'impersonated_service_account': {
        const source = doc.source_credentials;
        const url = field(doc, 'service_account_impersonation_url');
        const target = url ? /\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(url)?.[1] : undefined;
        if (typeof source !== 'object' || source === null || Array.isArray(source) || !target) {
          throw new GoogleCredentialsError(
            `${file}: an impersonated_service_account file needs source_credentials and a service_account_impersonation_url ending in :generateAccessToken`,
          );
        }
        const sourceType = (source as JsonRecord).type;
        if (sourceType !== 'service_account' && sourceType !== 'authorized_user') {
          throw new GoogleCredentialsError(`${file}: impersonation's source_credentials must be service_account or authorized_user`);
        }
        const delegates = Array.isArray(doc.delegates) ? doc.delegates.filter((d): d is string => typeof d === 'string') : [];
        return new Impersonated({
          ...common,
          sourceClient: this.clientFor(source as JsonRecord, file, true),
          targetPrincipal: decodeURIComponent(target),
          targetScopes: this.scopes,
          delegates,
          lifetime: 3600,
          // IAM_CREDENTIALS_API_URL, as for signBlob; the library takes only the account from the file's URL.
          endpoint: config.iamCredentialsUrl ?? DEFAULT_IAM_CREDENTIALS_URL,
        });
      }
      case 'external_account': {
        let client: AuthClient | null;
        try {
          client = ExternalAccountClient.fromJSON({ ...(doc as object), ...common, scopes: this.scopes } as Parameters<typeof ExternalAccountClient.fromJSON>[0]);
        } catch (err) {
          throw new GoogleCredentialsError(`${file}: not a usable external_account file (${(err as Error).message.slice(0, 200)})`);
        }
        if (!client) throw new GoogleCredentialsError(`${file}: not a usable external_account file`);
        // google-auth-library 10 builds the STS client with a gaxios of its own (baseexternalclient.js):
        // give it this transport too, so the token exchange also goes through the injected fetch.
        const sts = (client as unknown as { stsCredential?: { transporter?: unknown } }).stsCredential;
        if (sts && 'transporter' in sts) sts.transporter = common.transporter;
        return client;
      }
      default:
        throw new GoogleCredentialsError(
          `${file}: credentials of type "${String(doc.type)}" are not supported (service_account, authorized_user, impersonated_service_account or external_account)`,
        );
    }
  }

  /** The metadata server of Google Cloud (plain http, Metadata-Flavor: Google). */
  private metadataServer(): Resolved {
    const { fetch: fetchFn, config } = this.options;
    const base = `http://${config.metadataHost}/computeMetadata/v1/instance/service-accounts/default`;
    const headers = { 'Metadata-Flavor': 'Google' };
    return {
      description: `metadata server ${config.metadataHost}`,
      fetchToken: async () =>
        issuedToken(
          await callGoogleJson(fetchFn, 'metadata server token', `${base}/token?scopes=${encodeURIComponent(this.scopes.join(' '))}`, { headers }, config.timeoutMs),
        ),
      accountEmail: async () => {
        const response = await fetchFn(`${base}/email`, { headers, redirect: 'error', signal: AbortSignal.timeout(config.timeoutMs) });
        if (!response.ok) return undefined;
        const text = (await response.text()).trim();
        return /^[^@\s]+@[^@\s]+$/.test(text) ? text : undefined;
      },
    };
  }
}

/** The account a credential file acts as, when it says (audit trail). */
function accountOf(doc: JsonRecord, client: AuthClient): string | undefined {
  switch (doc.type) {
    case 'service_account':
      return field(doc, 'client_email');
    case 'authorized_user':
      return field(doc, 'account');
    case 'impersonated_service_account':
      return (client as Impersonated).getTargetPrincipal();
    case 'external_account':
      return (client as unknown as { getServiceAccountEmail?: () => string | null }).getServiceAccountEmail?.() ?? undefined;
    default:
      return undefined;
  }
}

