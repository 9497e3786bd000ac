import pino from 'pino';
import type { FirebaseUser } from '../../src/auth/firebase-id-token-verifier';
import type { AccountState } from '../../src/auth/account-directory';
import { RevocationChecker } from '../../src/auth/revocation';
import { manualClock } from '../../testkit/harness';

describe('RevocationChecker.invalidate against a lookup already under way', () => {
  it('an answer read before the revocation is neither cached nor served', async () => {
    const clock = manualClock();
    const authTime = Math.floor(clock() / 1000) - 10;
    // Identity Toolkit's truth; the first lookup is held and answers with what it read before the revoke.
    let current: AccountState = { exists: true, disabled: false };
    let releaseStale!: () => void;
    let lookups = 0;
    const checker = new RevocationChecker({
      client: {
        lookup: () => {
          lookups += 1;
          if (lookups === 1) {
            const stale = current;
            return new Promise<AccountState>((resolve) => (releaseStale = () => resolve(stale)));
          }
          return Promise.resolve(current);
        },
      },
      clock,
      logger: pino({ level: 'silent' }),
      cacheSeconds: 30,
    });
    const user: FirebaseUser = { uid: 'u', claims: { auth_time: authTime }, exp: authTime + 3600 };

    const before = checker.check(user); // lookup #1 reads the pre-revocation state
    current = { exists: true, disabled: false, validSince: authTime + 5 }; // the admin revokes...
    checker.invalidate('u'); // ...and this instance forgets the user
    const after = checker.check(user); // must not join lookup #1
    releaseStale();
    await expect(after).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' });
    await expect(before).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' });
    // The stale answer was not cached: later requests are refused from the fresh state, without a new lookup.
    const count = lookups;
    await expect(checker.check(user)).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' });
    expect(lookups).toBe(count);
  });
});
