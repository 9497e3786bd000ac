import type { Clock } from '../clock';
import { DependencyUnavailableError } from '../errors';
import type { AccountDirectory } from './account-directory';
import type { RevocationAnnouncements, RevocationChecker } from './revocation';

/**
 * The admin revoke use case: every session of a user ends now (Firebase's validSince), and the
 * revocation check here forgets what it knew of the user, so the next request asks again; with several
 * instances, the revocation is announced to the others, whose checks forget the user too.
 */
export class SessionRevoker {
  constructor(
    private readonly directory: Pick<AccountDirectory, 'revokeSessions'>,
    private readonly clock: Clock,
    /** The revocation check, when CHECK_REVOKED is on. */
    private readonly revocation?: Pick<RevocationChecker, 'invalidate'>,
    /** Several instances (Redis): tells the others, whose revocation checks forget the user too. */
    private readonly announcements?: Pick<RevocationAnnouncements, 'announce'>,
  ) {}

  /** Revokes the user's sessions; returns the new validSince (seconds). 503 when Identity Toolkit cannot do it. */
  async revoke(uid: string): Promise<number> {
    const validSince = Math.floor(this.clock() / 1000);
    try {
      await this.directory.revokeSessions(uid, validSince);
    } catch (err) {
      throw new DependencyUnavailableError(`Identity Toolkit could not revoke the sessions: ${(err as Error).message}`);
    }
    this.revocation?.invalidate(uid);
    try {
      await this.announcements?.announce(uid);
    } catch (err) {
      // The sessions are revoked; other instances may serve their cached state until REVOCATION_CACHE_SECONDS.
      throw new DependencyUnavailableError(
        `the sessions are revoked, but the other instances could not be told (retry the revoke): ${(err as Error).message}`,
      );
    }
    return validSince;
  }
}
