import pino from 'pino';
import type { AccountState } from '../../src/auth/account-directory';
import type { FirebaseUser } from '../../src/auth/firebase-id-token-verifier';
import { RevocationChecker, type RevocationAnnouncements } from '../../src/auth/revocation';
import { SessionRevoker } from '../../src/auth/session-revoker';
import { DependencyUnavailableError } from '../../src/errors';
import { manualClock } from '../../testkit/harness';

/** The port, in memory: what the Redis bus does, without Redis (its own test: test/store/redis-connection.test.ts). */
class Announcements implements RevocationAnnouncements {
  private readonly listeners: Array<(uid: string | undefined) => void> = [];
  live = true;
  failWith?: Error;
  async announce(uid: string): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.emit(uid);
  }
  onRevoked(listener: (uid: string | undefined) => void): void {
    this.listeners.push(listener);
  }
  listening(): boolean {
    return this.live;
  }
  emit(uid: string | undefined): void {
    for (const listener of this.listeners) listener(uid);
  }
}

describe('revocations announced by other instances (the RevocationAnnouncements port)', () => {
  const clock = manualClock();
  const authTime = Math.floor(clock() / 1000) - 10;
  const user = (uid: string): FirebaseUser => ({ uid, claims: { auth_time: authTime }, exp: authTime + 3600 });

  function checker(announcements: Announcements, lookup: (uid: string) => Promise<AccountState>) {
    return new RevocationChecker({ client: { lookup }, clock, logger: pino({ level: 'silent' }), cacheSeconds: 3600, announcements });
  }

  it('an announced uid is forgotten: the next check asks again and sees the revocation', async () => {
    const bus = new Announcements();
    let state: AccountState = { exists: true, disabled: false };
    let lookups = 0;
    const check = checker(bus, async () => {
      lookups += 1;
      return state;
    });
    await check.check(user('u'));
    await check.check(user('u'));
    expect(lookups).toBe(1);
    state = { exists: true, disabled: false, validSince: authTime + 1 };
    bus.emit('other-user');
    await check.check(user('u')); // another user's revocation changes nothing for u
    expect(lookups).toBe(1);
    bus.emit('u');
    await expect(check.check(user('u'))).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' });
    expect(lookups).toBe(2);
  });

  it('"anything may have changed" (undefined) forgets every user and detaches lookups under way', async () => {
    const bus = new Announcements();
    let state: AccountState = { exists: true, disabled: false };
    let hold: ((s: AccountState) => void) | undefined;
    let lookups = 0;
    const check = checker(bus, (uid) => {
      lookups += 1;
      if (uid === 'slow' && !hold) return new Promise((resolve) => (hold = resolve));
      return Promise.resolve(state);
    });
    await check.check(user('a'));
    await check.check(user('b'));
    expect(lookups).toBe(2);
    const slow = check.check(user('slow')); // its lookup reads the state before the revocation...
    const stale = state;
    state = { exists: true, disabled: true };
    bus.emit(undefined); // ...then a reconnect: announcements may have been missed
    hold?.(stale);
    await expect(slow).rejects.toMatchObject({ code: 'ERR_USER_DISABLED' }); // asked again, not the stale answer
    await expect(check.check(user('a'))).rejects.toMatchObject({ code: 'ERR_USER_DISABLED' });
    await expect(check.check(user('b'))).rejects.toMatchObject({ code: 'ERR_USER_DISABLED' });
    expect(lookups).toBe(6); // slow twice (the held answer was discarded), a and b again
  });

  it('while not listening, no cached state is trusted; once listening again, the cache serves', async () => {
    const bus = new Announcements();
    let lookups = 0;
    const check = checker(bus, async () => {
      lookups += 1;
      return { exists: true, disabled: false };
    });
    await check.check(user('u'));
    bus.live = false;
    await check.check(user('u'));
    await check.check(user('u'));
    expect(lookups).toBe(3);
    bus.live = true;
    await check.check(user('u'));
    expect(lookups).toBe(3);
  });

  it('SessionRevoker announces the revoke; when it cannot, 503 (retry), after the sessions were revoked', async () => {
    const bus = new Announcements();
    const heard: Array<string | undefined> = [];
    bus.onRevoked((uid) => heard.push(uid));
    const revoked: string[] = [];
    const local = { invalidate: jest.fn() };
    const revoker = new SessionRevoker({ revokeSessions: async (uid) => void revoked.push(uid) }, clock, local, bus);
    await revoker.revoke('u1');
    expect(heard).toEqual(['u1']);
    expect(local.invalidate).toHaveBeenCalledWith('u1');

    bus.failWith = new Error('Connection is closed.');
    const failed = revoker.revoke('u2');
    await expect(failed).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(failed).rejects.toThrow(/sessions are revoked, but the other instances could not be told/);
    expect(revoked).toEqual(['u1', 'u2']);
  });
});

describe('announcements without pause', () => {
  it('a check detached by every lookup asks MAX_LOOKUP_ATTEMPTS times, then 503: never a loop, never the old answer', async () => {
    const { MAX_LOOKUP_ATTEMPTS } = await import('../../src/auth/revocation');
    const bus = new Announcements();
    let lookups = 0;
    const clock = manualClock();
    const check = new RevocationChecker({
      client: {
        lookup: async () => {
          lookups += 1;
          bus.emit('u'); // an announcement lands during every lookup
          return { exists: true, disabled: false };
        },
      },
      clock,
      logger: pino({ level: 'silent' }),
      cacheSeconds: 3600,
      announcements: bus,
    });
    const authTime = Math.floor(clock() / 1000) - 10;
    await expect(check.check({ uid: 'u', claims: { auth_time: authTime }, exp: authTime + 3600 })).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    expect(lookups).toBe(MAX_LOOKUP_ATTEMPTS);
  });
});
