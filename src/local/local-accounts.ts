import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock';
import { ConfigError } from '../errors';
import type { JsonObject } from '../jwt/decode';
import { writeFileAtomic } from '../keys/atomic-write';

/** A user of local mode's emulated Identity Toolkit, as accounts:lookup reports it. */
export interface LocalUser {
  uid: string;
  displayName?: string;
  photoUrl?: string;
  /** The developer claims of the user's latest sign-in (from the custom token). */
  claims: JsonObject;
  /** Milliseconds since the epoch. */
  createdAt: number;
  lastLoginAt: number;
}

/** What a refresh token stands for: a user's sign-in, with the developer claims its ID tokens carry. */
export interface LocalSession {
  uid: string;
  claims: JsonObject;
  /** The user's createdAt when the session began: a session outlives neither its user nor a deleted-then-recreated one. */
  userCreatedAt: number;
  /** auth_time of the session's ID tokens (seconds). */
  authTime: number;
}

/** At most this many users and refresh tokens are kept; beyond, the least recently used goes. */
export const MAX_LOCAL_USERS = 10_000;
export const MAX_LOCAL_SESSIONS = 10_000;

/** How long changes gather before one write (a burst of sign-ins is one write of the file, not one each). */
export const LOCAL_ACCOUNTS_SAVE_DELAY_MS = 100;

export interface LocalAccountOptions {
  /** Lower bounds than the defaults (tests). */
  maxUsers?: number;
  maxSessions?: number;
  saveDelayMs?: number;
  /** A write that failed (the change stays in memory and is written with the next one). */
  onSaveError?: (err: Error) => void;
}

export const LOCAL_ACCOUNTS_FILE = 'accounts.json';
const VERSION = 1;

interface StoredState {
  version: number;
  users: LocalUser[];
  /** Keyed by the SHA-256 of the refresh token (hex): the file never holds a usable refresh token. */
  sessions: Array<LocalSession & { hash: string }>;
}

function hashOf(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('hex');
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isUser(value: unknown): value is LocalUser {
  return (
    isObject(value) &&
    typeof value.uid === 'string' &&
    isObject(value.claims) &&
    typeof value.createdAt === 'number' &&
    typeof value.lastLoginAt === 'number' &&
    (value.displayName === undefined || typeof value.displayName === 'string') &&
    (value.photoUrl === undefined || typeof value.photoUrl === 'string')
  );
}

function isSession(value: unknown): value is LocalSession & { hash: string } {
  return (
    isObject(value) &&
    typeof value.hash === 'string' &&
    typeof value.uid === 'string' &&
    isObject(value.claims) &&
    typeof value.userCreatedAt === 'number' &&
    typeof value.authTime === 'number'
  );
}

/** Map insertion order is the eviction order: touching an entry moves it to the end. */
function touch<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done) break;
    map.delete(oldest.value);
  }
}

/**
 * Local mode's users and refresh tokens, in `<LOCAL_STATE_DIR>/accounts.json` (0600, written atomically within
 * LOCAL_ACCOUNTS_SAVE_DELAY_MS of a change, and at shutdown), so a restart keeps signed-in SDK clients signed in. Bounded: MAX_LOCAL_USERS users and
 * MAX_LOCAL_SESSIONS refresh tokens, the least recently used dropped first. Refresh tokens are stored hashed.
 */
export class LocalAccounts {
  private readonly users = new Map<string, LocalUser>();
  private readonly sessions = new Map<string, LocalSession>();

  private readonly maxUsers: number;
  private readonly maxSessions: number;
  private dirty = false;
  private saveTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly file: string,
    private readonly clock: Clock,
    private readonly options: LocalAccountOptions,
  ) {
    this.maxUsers = options.maxUsers ?? MAX_LOCAL_USERS;
    this.maxSessions = options.maxSessions ?? MAX_LOCAL_SESSIONS;
  }

  static open(stateDir: string, clock: Clock, options: LocalAccountOptions = {}): LocalAccounts {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const accounts = new LocalAccounts(path.join(stateDir, LOCAL_ACCOUNTS_FILE), clock, options);
    accounts.load();
    return accounts;
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    chmodSync(this.file, 0o600);
    let state: unknown;
    try {
      state = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch {
      state = undefined;
    }
    if (
      !isObject(state) ||
      state.version !== VERSION ||
      !Array.isArray(state.users) ||
      !Array.isArray(state.sessions) ||
      !state.users.every(isUser) ||
      !state.sessions.every(isSession)
    ) {
      throw new ConfigError(
        'LOCAL_STATE_DIR',
        `${this.file} is not local mode's accounts file (version ${VERSION}); delete it to start with no users`,
      );
    }
    for (const user of state.users as LocalUser[]) touch(this.users, user.uid, user, this.maxUsers);
    for (const { hash, ...session } of state.sessions as Array<LocalSession & { hash: string }>) {
      touch(this.sessions, hash, session, this.maxSessions);
    }
  }

  /** Writes the file soon (LOCAL_ACCOUNTS_SAVE_DELAY_MS), once for every change made until then. */
  private save(): void {
    this.dirty = true;
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      try {
        this.flush();
      } catch (err) {
        this.options.onSaveError?.(err as Error);
      }
    }, this.options.saveDelayMs ?? LOCAL_ACCOUNTS_SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  /** Writes pending changes now (the server's shutdown does, so a restart loses nothing). */
  flush(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    try {
      this.write();
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }

  private write(): void {
    const state: StoredState = {
      version: VERSION,
      users: [...this.users.values()],
      sessions: [...this.sessions.entries()].map(([hash, session]) => ({ hash, ...session })),
    };
    writeFileAtomic(this.file, `${JSON.stringify(state)}\n`);
  }

  get(uid: string): LocalUser | undefined {
    return this.users.get(uid);
  }

  /** A sign-in with a custom token: creates the user on first sight; returns the user, a new refresh token, and whether it is new. */
  signIn(uid: string, claims: JsonObject): { user: LocalUser; refreshToken: string; isNewUser: boolean } {
    const now = this.clock();
    const existing = this.users.get(uid);
    const user: LocalUser = existing ? { ...existing, claims, lastLoginAt: now } : { uid, claims, createdAt: now, lastLoginAt: now };
    touch(this.users, uid, user, this.maxUsers);
    const refreshToken = this.addSession(user, claims, Math.floor(now / 1000));
    return { user, refreshToken, isNewUser: existing === undefined };
  }

  /** A new refresh token for the user's session (after a profile change, say). */
  addSession(user: LocalUser, claims: JsonObject, authTime: number): string {
    const refreshToken = randomBytes(32).toString('base64url');
    touch(this.sessions, hashOf(refreshToken), { uid: user.uid, claims, userCreatedAt: user.createdAt, authTime }, this.maxSessions);
    this.save();
    return refreshToken;
  }

  /**
   * The session of a refresh token: `unknown` if it was never issued (or was dropped), `user-gone` if its user was
   * deleted since (a user of the same uid created later does not revive it).
   */
  session(refreshToken: string): { session: LocalSession; user: LocalUser } | 'unknown' | 'user-gone' {
    const hash = hashOf(refreshToken);
    const session = this.sessions.get(hash);
    if (session === undefined) return 'unknown';
    const user = this.users.get(session.uid);
    if (user === undefined || user.createdAt !== session.userCreatedAt) return 'user-gone';
    touch(this.sessions, hash, session, this.maxSessions);
    return { session, user };
  }

  updateProfile(uid: string, changes: { displayName?: string | null; photoUrl?: string | null }): LocalUser | undefined {
    const user = this.users.get(uid);
    if (user === undefined) return undefined;
    const next: LocalUser = { ...user };
    for (const field of ['displayName', 'photoUrl'] as const) {
      const value = changes[field];
      if (value === null) delete next[field];
      else if (value !== undefined) next[field] = value;
    }
    touch(this.users, uid, next, this.maxUsers);
    this.save();
    return next;
  }

  /** Deletes the user; its refresh tokens are refused from now on (USER_NOT_FOUND), until dropped as the oldest. */
  delete(uid: string): boolean {
    if (!this.users.delete(uid)) return false;
    this.save();
    return true;
  }
}
