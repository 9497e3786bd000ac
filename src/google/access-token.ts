import type { Clock } from '../clock';
import { GoogleApiError } from '../errors';

/** An OAuth 2.0 access token for Google APIs, and whose it is. */
export interface AccessTokenSource {
  getAccessToken(): Promise<string>;
  /** The account the credentials act as, when known (audit trail). */
  accountEmail(): Promise<string | undefined>;
  /**
   * Drops `token` from the cache when it is the one cached (the API refused it: expired or
   * revoked early), so the next getAccessToken fetches a fresh one. A token already replaced is
   * left alone: many callers refused with the same old token cause one refresh, not one each.
   */
  invalidate?(token: string): void;
}

/** A token as a token endpoint answered it. */
export interface IssuedToken {
  token: string;
  /** Lifetime from now, in milliseconds. */
  expiresInMs: number;
}

/** Refresh this long before expiry (less for short-lived tokens: half their life). */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** A failed refresh may still serve the old token while it has this much life left. */
const STALE_SERVE_MARGIN_MS = 10_000;

/** An endpoint's answer (`access_token`, `expires_in` in seconds) as an IssuedToken; throws when either is missing. */
export function issuedToken(body: Record<string, unknown>): IssuedToken {
  const token = body.access_token;
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in);
  if (typeof token !== 'string' || token === '' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new GoogleApiError('the token endpoint answered without access_token / expires_in');
  }
  return { token, expiresInMs: expiresIn * 1000 };
}

/**
 * The one cache of access tokens every credential type shares: the token is kept until five
 * minutes (or half its life) before it expires, by the injected clock; concurrent callers share
 * one refresh; a refresh that fails while the old token is still valid does not fail the caller.
 * `key` names what the token belongs to (the signing key's kid): a new key means a new token.
 */
export class CachedAccessToken {
  private cached?: { token: string; refreshAt: number; expiresAt: number; key: string | undefined };
  private inFlight?: Promise<string>;

  constructor(
    private readonly clock: Clock,
    private readonly fetchToken: () => Promise<IssuedToken>,
    private readonly key: () => string | undefined = () => undefined,
  ) {}

  async get(): Promise<string> {
    const now = this.clock();
    const key = this.key();
    const cached = this.cached?.key === key ? this.cached : undefined;
    if (cached && now < cached.refreshAt) return cached.token;
    this.inFlight ??= this.refresh(key).finally(() => {
      this.inFlight = undefined;
    });
    try {
      return await this.inFlight;
    } catch (err) {
      if (cached && this.clock() < cached.expiresAt - STALE_SERVE_MARGIN_MS) return cached.token;
      throw err;
    }
  }

  /** Forgets the cached token if it is `token` (see AccessTokenSource.invalidate); a refresh in flight is kept. */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async refresh(key: string | undefined): Promise<string> {
    const { token, expiresInMs } = await this.fetchToken();
    const now = this.clock();
    this.cached = {
      token,
      key,
      expiresAt: now + expiresInMs,
      refreshAt: now + expiresInMs - Math.min(REFRESH_MARGIN_MS, expiresInMs / 2),
    };
    return token;
  }
}
