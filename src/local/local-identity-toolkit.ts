import { AuthEmulatorError } from '../errors';
import type { JsonObject } from '../jwt/decode';
import type { LocalAccounts, LocalUser } from './local-accounts';
import { ID_TOKEN_TTL_SECONDS, type LocalGoogle } from './local-google';

/** Longest displayName / photoUrl accepted by accounts:update (Identity Toolkit's own limits are near these). */
const MAX_DISPLAY_NAME = 256;
const MAX_PHOTO_URL = 2048;
/** Longest refresh token looked up (local ones are 43 characters). */
const MAX_REFRESH_TOKEN = 1024;

/** The fields of accounts:update the SDK's updateProfile sends, besides which only the request's bookkeeping may appear. */
const UPDATE_FIELDS = new Set(['idToken', 'displayName', 'photoUrl', 'deleteAttribute', 'returnSecureToken']);
const DELETABLE_ATTRIBUTES: Record<string, 'displayName' | 'photoUrl'> = { DISPLAY_NAME: 'displayName', PHOTO_URL: 'photoUrl' };
/** Claims of an ID token that are not the developer's (a new token from accounts:update carries only the developer's). */
const TOKEN_CLAIMS = new Set(['iss', 'aud', 'auth_time', 'user_id', 'sub', 'iat', 'exp', 'firebase', 'name', 'picture']);

export type Body = Record<string, unknown>;

/** The user as accounts:lookup reports it (the Identity Toolkit v1 UserInfo fields the SDK reads). */
function userInfo(user: LocalUser): JsonObject {
  return {
    localId: user.uid,
    ...(user.displayName !== undefined ? { displayName: user.displayName } : {}),
    ...(user.photoUrl !== undefined ? { photoUrl: user.photoUrl } : {}),
    emailVerified: false,
    providerUserInfo: [],
    validSince: String(Math.floor(user.createdAt / 1000)),
    createdAt: String(user.createdAt),
    lastLoginAt: String(user.lastLoginAt),
    lastRefreshAt: new Date(user.lastLoginAt).toISOString(),
  };
}

function optionalProfileField(body: Body, field: 'displayName' | 'photoUrl', max: number): string | null | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  // The SDK's updateProfile({displayName: null}) sends null: delete it, as "" does.
  if (value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > max) {
    throw new AuthEmulatorError('INVALID_ARGUMENT', `"${field}" must be a string of at most ${max} characters`);
  }
  return value;
}

/**
 * Local mode's Identity Toolkit and securetoken REST calls, answered as the Firebase Auth Emulator answers them
 * (bodies and error codes), so the Firebase client SDKs work against local mode with connectAuthEmulator.
 * Custom-token users only: what else the SDK may ask (passwords, email links, providers) is OPERATION_NOT_ALLOWED.
 */
export class LocalIdentityToolkit {
  constructor(
    private readonly google: LocalGoogle,
    private readonly accounts: LocalAccounts,
  ) {}

  /** Writes the accounts' pending changes (at shutdown). */
  flush(): void {
    this.accounts.flush();
  }

  /** A user the ID token names, or USER_NOT_FOUND (deleted, or never signed in here). */
  private async userOf(body: Body): Promise<{ user: LocalUser; payload: JsonObject }> {
    const { uid, payload } = await this.google.checkFirebaseIdToken(body.idToken);
    const user = this.accounts.get(uid);
    if (user === undefined) throw new AuthEmulatorError('USER_NOT_FOUND', 'no user with this ID token (was it deleted?)');
    return { user, payload };
  }

  private idTokenOf(user: LocalUser, claims: JsonObject, authTime: number): Promise<string> {
    return this.google.mintFirebaseIdToken({ uid: user.uid, claims, authTime, displayName: user.displayName, photoUrl: user.photoUrl });
  }

  /** POST /identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken */
  async signInWithCustomToken(body: Body): Promise<JsonObject> {
    const token = body.token;
    if (typeof token !== 'string' || token === '') throw new AuthEmulatorError('MISSING_CUSTOM_TOKEN', '"token" is required');
    const { uid, claims } = await this.google.checkCustomToken(token);
    const { user, refreshToken, isNewUser } = this.accounts.signIn(uid, claims);
    return {
      kind: 'identitytoolkit#VerifyCustomTokenResponse',
      idToken: await this.idTokenOf(user, claims, Math.floor(user.lastLoginAt / 1000)),
      refreshToken,
      expiresIn: String(ID_TOKEN_TTL_SECONDS),
      isNewUser,
    };
  }

  /** POST /identitytoolkit.googleapis.com/v1/accounts:lookup ({idToken}) */
  async lookup(body: Body): Promise<JsonObject> {
    const { user } = await this.userOf(body);
    return { kind: 'identitytoolkit#GetAccountInfoResponse', users: [userInfo(user)] };
  }

  /** POST /identitytoolkit.googleapis.com/v1/accounts:delete ({idToken}) */
  async delete(body: Body): Promise<JsonObject> {
    const { user } = await this.userOf(body);
    this.accounts.delete(user.uid);
    return { kind: 'identitytoolkit#DeleteAccountResponse' };
  }

  /**
   * POST /identitytoolkit.googleapis.com/v1/accounts:update: displayName, photoUrl and deleteAttribute
   * (DISPLAY_NAME, PHOTO_URL), as the SDK's updateProfile sends them; with returnSecureToken, a new ID token
   * (carrying the new profile) and refresh token. Any other field is OPERATION_NOT_ALLOWED.
   */
  async update(body: Body): Promise<JsonObject> {
    const unsupported = Object.keys(body).filter((field) => !UPDATE_FIELDS.has(field));
    if (unsupported.length > 0) {
      throw new AuthEmulatorError(
        'OPERATION_NOT_ALLOWED',
        `local mode's accounts:update changes only displayName and photoUrl, not ${unsupported.slice(0, 5).join(', ')}`,
      );
    }
    const changes = {
      displayName: optionalProfileField(body, 'displayName', MAX_DISPLAY_NAME),
      photoUrl: optionalProfileField(body, 'photoUrl', MAX_PHOTO_URL),
    };
    const { deleteAttribute } = body;
    if (deleteAttribute !== undefined) {
      if (!Array.isArray(deleteAttribute)) throw new AuthEmulatorError('INVALID_ARGUMENT', '"deleteAttribute" must be an array');
      for (const attribute of deleteAttribute) {
        const field = typeof attribute === 'string' ? DELETABLE_ATTRIBUTES[attribute] : undefined;
        if (field === undefined) {
          throw new AuthEmulatorError('OPERATION_NOT_ALLOWED', `local mode deletes only DISPLAY_NAME and PHOTO_URL, not ${String(attribute).slice(0, 40)}`);
        }
        changes[field] = null;
      }
    }
    const { user, payload } = await this.userOf(body);
    const updated = this.accounts.updateProfile(user.uid, changes) as LocalUser;
    const response: JsonObject = {
      kind: 'identitytoolkit#SetAccountInfoResponse',
      localId: updated.uid,
      ...(updated.displayName !== undefined ? { displayName: updated.displayName } : {}),
      ...(updated.photoUrl !== undefined ? { photoUrl: updated.photoUrl } : {}),
      emailVerified: false,
      providerUserInfo: [],
    };
    if (body.returnSecureToken === true) {
      const claims = Object.fromEntries(Object.entries(payload).filter(([claim]) => !TOKEN_CLAIMS.has(claim)));
      const authTime = typeof payload.auth_time === 'number' ? payload.auth_time : Math.floor(updated.lastLoginAt / 1000);
      response.idToken = await this.idTokenOf(updated, claims, authTime);
      response.refreshToken = this.accounts.addSession(updated, claims, authTime);
      response.expiresIn = String(ID_TOKEN_TTL_SECONDS);
    }
    return response;
  }

  /** POST /securetoken.googleapis.com/v1/token (grant_type=refresh_token, form-encoded or JSON) */
  async refresh(body: Body): Promise<JsonObject> {
    const grantType = body.grant_type;
    const refreshToken = body.refresh_token;
    if (grantType === undefined || grantType === '') throw new AuthEmulatorError('MISSING_GRANT_TYPE', '"grant_type" is required');
    if (grantType !== 'refresh_token') throw new AuthEmulatorError('INVALID_GRANT_TYPE', 'grant_type must be refresh_token');
    if (typeof refreshToken !== 'string' || refreshToken === '') {
      throw new AuthEmulatorError('MISSING_REFRESH_TOKEN', '"refresh_token" is required');
    }
    const found = refreshToken.length > MAX_REFRESH_TOKEN ? 'unknown' : this.accounts.session(refreshToken);
    if (found === 'unknown') throw new AuthEmulatorError('INVALID_REFRESH_TOKEN', 'local mode never issued this refresh token');
    if (found === 'user-gone') throw new AuthEmulatorError('USER_NOT_FOUND', "the refresh token's user was deleted");
    const { session, user } = found;
    const idToken = await this.idTokenOf(user, session.claims, session.authTime);
    return {
      access_token: idToken,
      expires_in: String(ID_TOKEN_TTL_SECONDS),
      token_type: 'Bearer',
      refresh_token: refreshToken,
      id_token: idToken,
      user_id: user.uid,
      project_id: this.google.projectId,
    };
  }
}
