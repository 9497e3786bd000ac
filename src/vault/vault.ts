import type { Logger } from 'pino';
import type { AccountLinker, GoogleLinkOutcome, GoogleOAuthPort } from '../auth/google-link';
import type { Clock } from '../clock';
import { DependencyUnavailableError, GoogleGrantError, InsufficientScopeError, NotLinkedError, ReauthRequiredError, VaultIntegrityError, VaultKeyError } from '../errors';
import { decodeJwt } from '../jwt/decode';
import type { DataKeys } from './data-keys';
import { type DataKey, keyCheck, open, seal } from './envelope';
import { OutcomeCounts } from '../outcomes';
import type { VaultListing, VaultRepository, VaultRow } from './repository';

/** What GET /v1/google/access-token and accessTokenFor answer. */
export interface GoogleAccessToken {
  accessToken: string;
  /** ISO 8601. */
  expiresAt: string;
  scopes: string[];
}

export interface GoogleVaultDeps {
  repository: VaultRepository;
  keys: DataKeys;
  oauth: GoogleOAuthPort;
  /** GOOGLE_OAUTH_CLIENT_ID: the `aud` of the ID token that comes back with a code. */
  clientId: string;
  clock: Clock;
  logger: Logger;
  /** Most users whose access token is cached (oldest dropped first). */
  maxCachedUsers?: number;
}

interface CachedToken {
  accessToken: string;
  expiresAt: number;
  scopes: string[];
}

/** A cached access token is served until this long before it expires. */
export const ACCESS_TOKEN_EARLY_REFRESH_MS = 2 * 60_000;

/**
 * The refresh-token vault's rules: link at sign-in from a server auth code, mint access tokens
 * (cached per user, one refresh per user in flight), unlink (revoke at Google, then delete).
 * Refresh tokens are sealed with AES-256-GCM under the active data key, the uid bound as additional
 * data; a row that does not open is never served (VaultIntegrityError). Never logs a token.
 */
export class GoogleVault implements AccountLinker {
  private readonly cache = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<CachedToken>>();
  private readonly maxCachedUsers: number;
  private readonly checked = new Set<string>();
  /** Users unlinked (or re-linked) while a refresh of theirs was in flight: its token must not be cached. */
  private readonly supersededRefreshes = new Set<string>();
  /** Refreshes at Google by outcome and error code (firebridge_vault_refreshes_total); cached answers are not refreshes. */
  readonly refreshes = new OutcomeCounts();

  constructor(private readonly deps: GoogleVaultDeps) {
    this.maxCachedUsers = deps.maxCachedUsers ?? 10_000;
  }

  /** Migrations, then the data key checks (verifyKeys). */
  async start(keysFile: string): Promise<void> {
    await this.deps.repository.migrate();
    await this.verifyKeys(keysFile);
  }

  /**
   * Start-up check: every data key the rows are sealed under is in the key file, and no key of the
   * file has another check value than the one the database recorded (a wrong key file). VaultKeyError otherwise.
   */
  async verifyKeys(keysFile: string): Promise<void> {
    const { repository, keys } = this.deps;
    const checks = await repository.keyChecks();
    for (const id of keys.ids()) {
      const recorded = checks.get(id);
      if (recorded !== undefined && recorded !== keyCheck(keys.byId(id) as DataKey)) {
        throw new VaultKeyError(`${keysFile}: data key ${id} is not the key the vault's rows were sealed with (a wrong or altered key file)`);
      }
    }
    const missing = (await repository.keyIdsInUse()).filter((id) => keys.byId(id) === undefined);
    if (missing.length > 0) {
      throw new VaultKeyError(`${keysFile} lacks data key ${missing.join(', ')}, which vault rows are sealed under (a wrong or outdated key file)`);
    }
    await this.recordActiveCheck();
  }

  private async recordActiveCheck(): Promise<DataKey> {
    const key = this.deps.keys.active();
    if (!this.checked.has(key.id)) {
      await this.deps.repository.recordKeyCheck(key.id, keyCheck(key));
      this.checked.add(key.id);
    }
    return key;
  }

  /** AccountLinker: never throws; the outcome goes into the sign-in reply. */
  async link(uid: string, googleSub: string, serverAuthCode: string, redirectUri: string): Promise<GoogleLinkOutcome> {
    const { deps } = this;
    let grant;
    try {
      grant = await deps.oauth.exchangeCode(serverAuthCode, redirectUri);
    } catch (err) {
      const invalid = err instanceof GoogleGrantError;
      deps.logger.warn({ uid, err: (err as Error).message }, 'server auth code not exchanged');
      return { linked: false, reason: invalid ? 'invalid_grant' : 'unavailable' };
    }
    if (!this.idTokenNames(grant.idToken, googleSub)) {
      deps.logger.warn({ uid }, 'server auth code belongs to another Google account (or came without an ID token): not linked');
      return { linked: false, reason: 'account_mismatch' };
    }
    try {
      const now = deps.clock();
      const existing = await deps.repository.get(uid);
      if (grant.refreshToken === undefined) {
        if (existing && existing.googleSub === googleSub) {
          // The access token carries what this consent granted; the link keeps its refresh token's scopes.
          const scopes = grant.scopes.length > 0 ? grant.scopes : existing.scopes;
          this.remember(uid, { accessToken: grant.accessToken, expiresAt: grant.expiresAt, scopes });
          return { linked: true, scopes: existing.scopes };
        }
        return { linked: false, reason: 'no_refresh_token' };
      }
      const key = await this.recordActiveCheck();
      if (this.inFlight.has(uid)) this.supersededRefreshes.add(uid);
      await deps.repository.put({
        uid,
        googleSub,
        scopes: grant.scopes,
        envelope: seal(key, uid, grant.refreshToken),
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
        lastUsedAt: now,
      });
      this.remember(uid, { accessToken: grant.accessToken, expiresAt: grant.expiresAt, scopes: grant.scopes });
      deps.logger.info({ uid, scopes: grant.scopes, keyId: key.id }, 'google account linked');
      return { linked: true, scopes: grant.scopes };
    } catch (err) {
      deps.logger.error({ uid, err: (err as Error).message }, 'google account not linked: the vault failed');
      return { linked: false, reason: 'unavailable' };
    }
  }

  private idTokenNames(idToken: string | undefined, googleSub: string): boolean {
    if (idToken === undefined) return false;
    try {
      // Straight from Google's token endpoint (TLS): OpenID Connect Core 3.1.3.7 lets the signature go unchecked.
      const { payload } = decodeJwt(idToken);
      const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      return payload.sub === googleSub && aud.includes(this.deps.clientId);
    } catch {
      return false;
    }
  }

  private remember(uid: string, token: CachedToken): void {
    this.cache.delete(uid);
    this.cache.set(uid, token);
    while (this.cache.size > this.maxCachedUsers) this.cache.delete(this.cache.keys().next().value as string);
  }

  /** An access token for the user (cached until 2 minutes before it expires; one refresh per user in flight). */
  async accessTokenFor(uid: string, options: { scope?: string } = {}): Promise<GoogleAccessToken> {
    const now = this.deps.clock();
    const cached = this.cache.get(uid);
    const token = cached && now < cached.expiresAt - ACCESS_TOKEN_EARLY_REFRESH_MS ? cached : await this.refreshOnce(uid);
    if (options.scope !== undefined && !token.scopes.includes(options.scope)) {
      throw new InsufficientScopeError(`the user did not grant ${options.scope}`);
    }
    return { accessToken: token.accessToken, expiresAt: new Date(token.expiresAt).toISOString(), scopes: token.scopes };
  }

  private refreshOnce(uid: string): Promise<CachedToken> {
    let pending = this.inFlight.get(uid);
    if (!pending) {
      pending = this.refresh(uid).then(
        (token) => {
          this.refreshes.succeeded();
          return token;
        },
        (err: unknown) => {
          this.refreshes.failed(err);
          throw err;
        },
      ).finally(() => {
        this.inFlight.delete(uid);
        this.supersededRefreshes.delete(uid);
      });
      this.inFlight.set(uid, pending);
    }
    return pending;
  }

  private async refresh(uid: string): Promise<CachedToken> {
    const { deps } = this;
    const row = await deps.repository.get(uid);
    if (!row) throw new NotLinkedError('no Google account is linked to this user');
    const refreshToken = this.openRow(row);
    let refreshed;
    try {
      refreshed = await deps.oauth.refresh(refreshToken);
    } catch (err) {
      if (err instanceof GoogleGrantError) {
        // Revoked by the user, expired, or a password change: the link is gone; no retry loop. Only this
        // refresh token's row: a link made meanwhile holds a new one.
        await deps.repository.delete(uid, row.envelope);
        this.cache.delete(uid);
        deps.logger.warn({ uid }, 'google refused the refresh token: link deleted, re-authorization required');
        throw new ReauthRequiredError('Google no longer accepts this link; sign in again with a server auth code');
      }
      deps.logger.warn({ uid, err: (err as Error).message }, 'access token not refreshed');
      throw new DependencyUnavailableError('Google could not refresh the access token');
    }
    const token = { accessToken: refreshed.accessToken, expiresAt: refreshed.expiresAt, scopes: refreshed.scopes.length > 0 ? refreshed.scopes : row.scopes };
    // Unlinked or re-linked while this refresh ran: its token answers the requests that waited, but is not kept.
    if (!this.supersededRefreshes.delete(uid)) this.remember(uid, token);
    await deps.repository.touch(uid, deps.clock()).catch((err: unknown) => {
      deps.logger.warn({ uid, err: (err as Error).message }, 'last-used time not recorded');
    });
    return token;
  }

  private openRow(row: VaultRow): string {
    const key = this.deps.keys.byId(row.envelope.keyId);
    try {
      if (!key) throw new VaultIntegrityError(`the vault row of ${row.uid} is sealed under data key ${row.envelope.keyId}, which VAULT_KEYS_FILE lacks`);
      return open(key, row.uid, row.envelope);
    } catch (err) {
      this.deps.logger.error({ uid: row.uid, keyId: row.envelope.keyId }, 'vault integrity: a row does not decrypt; not served');
      throw err;
    }
  }

  /** The scopes the user granted; undefined when not linked. */
  async linkedScopes(uid: string): Promise<string[] | undefined> {
    return (await this.deps.repository.get(uid))?.scopes;
  }

  /**
   * Revokes the refresh token at Google, then deletes the row. True when a link existed. A row that
   * does not decrypt is deleted without a revoke (there is nothing to send); Google unreachable: 503, row kept.
   */
  async unlink(uid: string): Promise<boolean> {
    const { deps } = this;
    const row = await deps.repository.get(uid);
    this.cache.delete(uid);
    if (this.inFlight.has(uid)) this.supersededRefreshes.add(uid);
    if (!row) return false;
    let refreshToken: string | undefined;
    try {
      refreshToken = this.openRow(row);
    } catch (err) {
      if (!(err instanceof VaultIntegrityError)) throw err;
    }
    if (refreshToken !== undefined) {
      try {
        await deps.oauth.revoke(refreshToken);
      } catch (err) {
        deps.logger.warn({ uid, err: (err as Error).message }, 'refresh token not revoked at Google: link kept');
        throw new DependencyUnavailableError('Google could not be reached to revoke the link; retry later');
      }
    }
    await deps.repository.delete(uid);
    this.cache.delete(uid);
    deps.logger.info({ uid }, 'google account unlinked');
    return true;
  }

  list(limit: number, afterUid?: string): Promise<VaultListing[]> {
    return this.deps.repository.list(limit, afterUid);
  }

  close(): Promise<void> {
    return this.deps.repository.close();
  }
}
