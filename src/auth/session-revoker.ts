import type { Clock } from '../clock';
import { DependencyUnavailableError } from '../errors';
import type { AccountDirectory } from './account-directory';
import type { RevocationChecker } from './revocation';

/**
 * The admin revoke use case: every session of a user ends now (Firebase's validSince), and the
 * revocation check here forgets what it knew of the user, so the next request asks again.
 */
export class SessionRevoker {
  constructor(
    private readonly directory: Pick<AccountDirectory, 'revokeSessions'>,
    private readonly clock: Clock,
    /** The revocation check, when CHECK_REVOKED is on. */
    private readonly revocation?: Pick<RevocationChecker, 'invalidate'>,
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
    return validSince;
  }
}
