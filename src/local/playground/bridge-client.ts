/**
 * firebridge from a web app: a Google ID token in, a Firebase session out, then Bearer calls to the bridge.
 *
 *   nonce()            POST /v1/nonce            a single-use nonce for the next Google sign-in
 *   signIn(idToken)    POST /v1/token/google     Google ID token -> Firebase custom token
 *                      signInWithCustomToken     custom token -> Firebase user (ID and refresh token)
 *   me()               GET /v1/me                a protected route, with the Firebase ID token as Bearer
 *   refresh()          getIdToken(true)          a new Firebase ID token now (the SDK also refreshes by itself)
 *   signOut()
 *
 * docs/clients/web.md shows this file as it is, and the playground at / in local mode runs it (a test checks both).
 */
import { type FirebaseApp, type FirebaseOptions, initializeApp } from 'firebase/app';
import {
  type Auth,
  type User,
  browserLocalPersistence,
  connectAuthEmulator,
  indexedDBLocalPersistence,
  initializeAuth,
  onAuthStateChanged,
  signInWithCustomToken,
  signOut,
} from 'firebase/auth';

export interface BridgeClientOptions {
  /** The bridge's origin: `https://bridge.example.com`, or local mode's `http://127.0.0.1:8080`. */
  bridgeUrl: string;
  /** Your Firebase web app's config (Firebase console, Project settings). Local mode takes any `apiKey`. */
  firebase: FirebaseOptions;
  /**
   * Local mode: the bridge is also the Auth Emulator, so the Firebase SDK signs in there (connectAuthEmulator).
   * Never set it in production: the SDK would send your users' tokens to that URL.
   */
  emulator?: boolean;
  /** Milliseconds each call to the bridge may take (default 10 s). */
  timeoutMs?: number;
}

/** What POST /v1/token/google answers. */
export interface Exchange {
  customToken: string;
  uid: string;
  expiresIn: number;
}

/** What GET /v1/me answers: the uid and every claim of the Firebase ID token. */
export interface Me {
  uid: string;
  claims: Record<string, unknown>;
}

/** A refusal by the bridge: an Error with the status and the JSON error (`error`, `error_description`) it sent. */
export interface BridgeError extends Error {
  name: 'BridgeError';
  status: number;
  code: string;
  description: string;
}

export function isBridgeError(err: unknown): err is BridgeError {
  return err instanceof Error && err.name === 'BridgeError';
}

function bridgeError(status: number, code: string, description: string): BridgeError {
  const err = new Error(`${status} ${code}: ${description}`);
  return Object.assign(err, { name: 'BridgeError' as const, status, code, description });
}

export class BridgeClient {
  readonly app: FirebaseApp;
  readonly auth: Auth;
  private readonly bridgeUrl: string;
  private readonly timeoutMs: number;

  constructor(options: BridgeClientOptions) {
    this.bridgeUrl = options.bridgeUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.app = initializeApp(options.firebase);
    // No popup/redirect resolver: the Google sign-in is Google Identity Services', not Firebase's.
    this.auth = initializeAuth(this.app, { persistence: [indexedDBLocalPersistence, browserLocalPersistence] });
    if (options.emulator) connectAuthEmulator(this.auth, this.bridgeUrl);
  }

  /** Calls back with the signed-in user, or null, now and on every change (a reload keeps the session). */
  onUserChanged(callback: (user: User | null) => void): () => void {
    return onAuthStateChanged(this.auth, callback);
  }

  /** A single-use nonce: pass it to Google's sign-in, so the bridge can check the ID token was made for it. */
  async nonce(): Promise<string> {
    const body = await this.post<{ nonce: string }>('/v1/nonce', {});
    return body.nonce;
  }

  /** The Google ID token for a Firebase custom token (POST /v1/token/google). */
  async exchange(googleIdToken: string): Promise<Exchange> {
    return this.post<Exchange>('/v1/token/google', { idToken: googleIdToken });
  }

  /** The custom token for a Firebase session: the SDK keeps its ID token and refresh token from here on. */
  async signInWithCustomToken(customToken: string): Promise<User> {
    const credential = await signInWithCustomToken(this.auth, customToken);
    return credential.user;
  }

  /** Google ID token -> custom token -> Firebase user: what your Google sign-in callback calls. */
  async signIn(googleIdToken: string): Promise<User> {
    const { customToken } = await this.exchange(googleIdToken);
    return this.signInWithCustomToken(customToken);
  }

  /** The current Firebase ID token (refreshed by the SDK when it is about to expire). */
  async idToken(forceRefresh = false): Promise<string> {
    const user = this.auth.currentUser;
    if (!user) throw new Error('not signed in');
    return user.getIdToken(forceRefresh);
  }

  /** A new Firebase ID token now, from the refresh token (the SDK does this by itself before expiry). */
  async refresh(): Promise<string> {
    return this.idToken(true);
  }

  /** A call to a route the bridge protects, with the Firebase ID token as Bearer. */
  async fetchWithAuth(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${await this.idToken()}`);
    return fetch(`${this.bridgeUrl}${path}`, { ...init, headers, signal: AbortSignal.timeout(this.timeoutMs) });
  }

  /** GET /v1/me: who the bridge says the signed-in user is. */
  async me(): Promise<Me> {
    return readJson<Me>(await this.fetchWithAuth('/v1/me'));
  }

  async signOut(): Promise<void> {
    await signOut(this.auth);
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(`${this.bridgeUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return readJson<T>(res);
  }
}

async function readJson<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    throw bridgeError(res.status, String(body.error ?? 'error'), String(body.error_description ?? res.statusText));
  }
  return body as T;
}
