import type { AccountDirectory, AccountState } from '../auth/account-directory';
import type { GoogleApiClient } from './client';

/**
 * The two Identity Toolkit calls the bridge makes, as firebase-admin makes them:
 * accounts:lookup (is the user disabled, since when are sessions valid) and accounts:update with
 * validSince (revoke every session). Both are safe to repeat: the client retries transient
 * failures within one deadline, and its circuit breaker stops calls while the API keeps failing.
 */
export class IdentityToolkitClient implements AccountDirectory {
  constructor(
    private readonly client: GoogleApiClient,
    /** tenantId (FIREBASE_TENANT_ID): the tenant's users, at projects/<p>/tenants/<t>/accounts, as TenantAwareAuth calls. */
    private readonly options: { baseUrl: string; projectId: string; tenantId?: string },
  ) {}

  private call(method: string, body: unknown): Promise<Record<string, unknown>> {
    const { baseUrl, projectId, tenantId } = this.options;
    const tenant = tenantId === undefined ? '' : `/tenants/${encodeURIComponent(tenantId)}`;
    const url = `${baseUrl}/v1/projects/${encodeURIComponent(projectId)}${tenant}/accounts:${method}`;
    return this.client.call('identitytoolkit', `Identity Toolkit accounts:${method}`, url, { method: 'POST', body });
  }

  async lookup(uid: string): Promise<AccountState> {
    const body = await this.call('lookup', { localId: [uid] });
    const users = Array.isArray(body.users) ? (body.users as Array<Record<string, unknown>>) : [];
    const user = users.find((u) => u.localId === uid);
    if (!user) return { exists: false, disabled: false };
    const validSince = Number(user.validSince);
    return { exists: true, disabled: user.disabled === true, validSince: Number.isFinite(validSince) ? validSince : undefined };
  }

  async revokeSessions(uid: string, validSinceSeconds: number): Promise<void> {
    await this.call('update', { localId: uid, validSince: String(validSinceSeconds) });
  }
}
