import type { Clock } from '../clock';
import type { FetchFn } from '../jwt/key-set-source';
import type { AccessTokenSource } from '../keys/adc';
import { callGoogleJson } from '../keys/google-http';
import { ResilientEndpoint } from '../outbound/resilient-endpoint';

export interface AccountState {
  /** false when Identity Toolkit has no such user (deleted). */
  exists: boolean;
  disabled: boolean;
  /** Sessions whose auth_time is before this (seconds) are revoked. */
  validSince?: number;
}

export interface IdentityToolkitClientOptions {
  baseUrl: string;
  projectId: string;
  tokens: AccessTokenSource;
  fetch: FetchFn;
  clock: Clock;
  timeoutMs: number;
  /** FIREBASE_TENANT_ID: the tenant's users (projects/<p>/tenants/<t>/accounts, as TenantAwareAuth calls). */
  tenantId?: string;
}

/**
 * The two Identity Toolkit calls the bridge makes, as firebase-admin makes them:
 * accounts:lookup (is the user disabled, since when are sessions valid) and accounts:update with
 * validSince (revoke every session). Both are safe to repeat, so transient failures are retried
 * twice with jitter; a circuit breaker stops calls while the API keeps failing.
 */
export class IdentityToolkitClient {
  private readonly endpoint: ResilientEndpoint;

  constructor(private readonly options: IdentityToolkitClientOptions) {
    this.endpoint = new ResilientEndpoint('identitytoolkit', options.clock);
  }

  private async call(method: string, body: unknown): Promise<Record<string, unknown>> {
    const { baseUrl, projectId, tokens, fetch: fetchFn, timeoutMs, tenantId } = this.options;
    const tenant = tenantId === undefined ? '' : `/tenants/${encodeURIComponent(tenantId)}`;
    const url = `${baseUrl}/v1/projects/${encodeURIComponent(projectId)}${tenant}/accounts:${method}`;
    return this.endpoint.call(async () =>
      callGoogleJson(
        fetchFn,
        `Identity Toolkit accounts:${method}`,
        url,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${await tokens.getAccessToken()}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
        timeoutMs,
      ),
    );
  }

  async lookup(uid: string): Promise<AccountState> {
    const body = await this.call('lookup', { localId: [uid] });
    const users = Array.isArray(body.users) ? (body.users as Array<Record<string, unknown>>) : [];
    const user = users.find((u) => u.localId === uid);
    if (!user) return { exists: false, disabled: false };
    const validSince = Number(user.validSince);
    return { exists: true, disabled: user.disabled === true, validSince: Number.isFinite(validSince) ? validSince : undefined };
  }

  /** Revokes every session of the user: ID tokens issued before `validSinceSeconds` stop passing. */
  async revokeSessions(uid: string, validSinceSeconds: number): Promise<void> {
    await this.call('update', { localId: uid, validSince: String(validSinceSeconds) });
  }
}
