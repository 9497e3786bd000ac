import { type KeyObject, createHash, randomBytes } from 'node:crypto';
import { type JWTPayload, SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { Clock } from '../clock';
import { LOCAL_CLIENT_ID } from '../config';
import { CUSTOM_TOKEN_TTL_SECONDS, FIREBASE_AUDIENCE, RESERVED_CLAIMS } from '../auth/custom-token';
import { firebaseIssuer } from '../auth/firebase-id-token-verifier';
import { AuthEmulatorError } from '../errors';
import type { JsonObject } from '../jwt/decode';
import { StaticKeySetSource } from '../jwt/key-set-source';
import type { ServiceAccountKey } from '../keys/service-account-key';
import { selfSignedCertificate } from './local-certificate';
import { type LocalKey, loadOrCreateKey } from './local-keys';

/** Local mode mints and checks its tokens with jose: off the hot path, and independent of the verifiers it feeds. */
function signJwt(payload: JsonObject, key: LocalKey): Promise<string> {
  return new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid }).sign(key.privateKey);
}

export interface LocalIdTokenRequest {
  email?: string;
  sub?: string;
  name?: string;
  emailVerified?: boolean;
  nonce?: string;
}

/** A public key local mode signs with, and its self-signed certificate (minted at start, as Google publishes its keys). */
export interface PublishedKey {
  kid: string;
  publicKey: KeyObject;
  certificate: string;
}

/** Lifetime of local mode's ID tokens (Google and Firebase): an hour, as Google's. */
export const ID_TOKEN_TTL_SECONDS = 3600;

function published(key: LocalKey, commonName: string, now: number): PublishedKey {
  return { kid: key.kid, publicKey: key.publicKey, certificate: selfSignedCertificate(commonName, key.publicKey, key.privateKey, now) };
}

/**
 * Local mode's emulation of the Google side, on throwaway keys in its own folder:
 * - "Google" that mints test Google ID tokens for LOCAL_CLIENT_ID;
 * - a service account of the project (LOCAL_PROJECT_ID, a demo- one) that signs custom tokens;
 * - Identity Toolkit's checks of custom tokens and ID tokens, and the Firebase ID tokens it signs with a local
 *   securetoken key (the accounts live in src/local/local-accounts.ts, the REST calls in local-identity-toolkit.ts);
 * - the certificates of its public keys, minted at start (src/local/local-key-set-routes.ts serves them).
 * Nothing it signs is valid for a real project: the project ID is a demo- one and the keys are
 * its own. It never reads KEYS_DIR.
 */
export class LocalGoogle {
  readonly googleKeys: StaticKeySetSource;
  readonly securetokenKeys: StaticKeySetSource;
  readonly serviceAccount: ServiceAccountKey;
  private readonly serviceAccountPublicKey;
  private readonly googlePublished: PublishedKey;
  private readonly securetokenPublished: PublishedKey;

  private constructor(
    private readonly google: LocalKey,
    private readonly securetoken: LocalKey,
    serviceAccount: LocalKey,
    private readonly project: string,
    private readonly clock: Clock,
    stateDir: string,
  ) {
    this.googleKeys = new StaticKeySetSource('local google keys', new Map([[google.kid, google.publicKey]]));
    this.securetokenKeys = new StaticKeySetSource('local securetoken keys', new Map([[securetoken.kid, securetoken.publicKey]]));
    this.serviceAccount = {
      projectId: project,
      clientEmail: `firebridge-local@${project}.iam.gserviceaccount.com`,
      privateKeyId: serviceAccount.kid,
      privateKey: serviceAccount.privateKey,
      file: stateDir,
    };
    this.serviceAccountPublicKey = serviceAccount.publicKey;
    this.googlePublished = published(google, 'accounts.google.com', clock());
    this.securetokenPublished = published(securetoken, 'securetoken.system.gserviceaccount.com', clock());
  }

  get projectId(): string {
    return this.project;
  }

  static open(stateDir: string, projectId: string, clock: Clock): LocalGoogle {
    return new LocalGoogle(
      loadOrCreateKey(stateDir, 'google-signing-key'),
      loadOrCreateKey(stateDir, 'securetoken-signing-key'),
      loadOrCreateKey(stateDir, 'service-account-key'),
      projectId,
      clock,
      stateDir,
    );
  }

  private nowSeconds(): number {
    return Math.floor(this.clock() / 1000);
  }

  /** A Google ID token as Google would issue it to an app signing in with LOCAL_CLIENT_ID. */
  async mintGoogleIdToken(request: LocalIdTokenRequest): Promise<string> {
    const email = request.email ?? 'dev@example.com';
    // The same email always gets the same Google account ID, so repeated sign-ins keep their uid.
    const sub =
      request.sub ?? BigInt(`0x${createHash('sha256').update(email).digest('hex').slice(0, 16)}`).toString().padStart(21, '1');
    const now = this.nowSeconds();
    const payload: JsonObject = {
      iss: 'https://accounts.google.com',
      azp: LOCAL_CLIENT_ID,
      aud: LOCAL_CLIENT_ID,
      sub,
      email,
      email_verified: request.emailVerified ?? true,
      iat: now,
      exp: now + ID_TOKEN_TTL_SECONDS,
      jti: randomBytes(16).toString('hex'),
    };
    if (request.name !== undefined) payload.name = request.name;
    if (request.nonce !== undefined) payload.nonce = request.nonce;
    return signJwt(payload, this.google);
  }

  /**
   * A custom token as Identity Toolkit's accounts:signInWithCustomToken checks it: RS256 signed by local mode's
   * service account (with its kid, or none: firebase-admin's createCustomToken sends none), its audience, issuer,
   * lifetime, uid and developer claims. Refused: AuthEmulatorError INVALID_CUSTOM_TOKEN.
   */
  async checkCustomToken(customToken: string): Promise<{ uid: string; claims: JsonObject }> {
    const refuse = (detail: string) => new AuthEmulatorError('INVALID_CUSTOM_TOKEN', detail);
    let payload: JWTPayload;
    let kid: unknown;
    try {
      // Signature and algorithm only; the claims are checked below, as Google documents them.
      ({ payload, protectedHeader: { kid } } = await jwtVerify(customToken, this.serviceAccountPublicKey, {
        algorithms: ['RS256'],
        currentDate: new Date(this.clock()),
        clockTolerance: Number.MAX_SAFE_INTEGER,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw refuse('custom token signature is invalid');
      throw refuse('custom token is not a well-formed RS256 JWT');
    }
    if (kid !== undefined && kid !== this.serviceAccount.privateKeyId) throw refuse("custom token kid is not local mode's service account key");
    const email = this.serviceAccount.clientEmail;
    if (payload.aud !== FIREBASE_AUDIENCE) throw refuse('custom token audience is wrong');
    if (payload.iss !== email || payload.sub !== email) throw refuse('custom token issuer is not the service account');
    const { iat, exp, uid, claims } = payload;
    const now = this.nowSeconds();
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= now || iat > now + 60 || exp - iat > CUSTOM_TOKEN_TTL_SECONDS) {
      throw refuse('custom token is expired or has an invalid lifetime');
    }
    if (typeof uid !== 'string' || uid.length === 0 || uid.length > 128) throw refuse('custom token uid is invalid');
    const developerClaims: JsonObject = {};
    if (claims !== undefined) {
      if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw refuse('custom token claims must be an object');
      for (const [claim, value] of Object.entries(claims)) {
        if (RESERVED_CLAIMS.has(claim)) throw refuse(`custom token claim "${claim}" is reserved`);
        developerClaims[claim] = value;
      }
    }
    return { uid, claims: developerClaims };
  }

  /** A Firebase ID token for the project, signed by the local securetoken key, as Identity Toolkit issues it. */
  mintFirebaseIdToken(user: { uid: string; claims: JsonObject; authTime: number; displayName?: string; photoUrl?: string }): Promise<string> {
    const now = this.nowSeconds();
    const profile: JsonObject = {};
    if (user.displayName !== undefined) profile.name = user.displayName;
    if (user.photoUrl !== undefined) profile.picture = user.photoUrl;
    return signJwt(
      {
        ...user.claims,
        ...profile,
        iss: firebaseIssuer(this.project),
        aud: this.project,
        auth_time: user.authTime,
        user_id: user.uid,
        sub: user.uid,
        iat: now,
        exp: now + ID_TOKEN_TTL_SECONDS,
        firebase: { identities: {}, sign_in_provider: 'custom' },
      },
      this.securetoken,
    );
  }

  /**
   * A Firebase ID token local mode issued, as Identity Toolkit checks the `idToken` of accounts:lookup, update and
   * delete: INVALID_ID_TOKEN, or TOKEN_EXPIRED once expired (no leeway).
   */
  async checkFirebaseIdToken(idToken: unknown): Promise<{ uid: string; payload: JsonObject }> {
    if (typeof idToken !== 'string' || idToken === '') throw new AuthEmulatorError('INVALID_ID_TOKEN', '"idToken" is required');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.securetoken.publicKey, {
        algorithms: ['RS256'],
        issuer: firebaseIssuer(this.project),
        audience: this.project,
        currentDate: new Date(this.clock()),
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new AuthEmulatorError('TOKEN_EXPIRED', 'the ID token has expired');
      throw new AuthEmulatorError('INVALID_ID_TOKEN', 'the ID token is not one local mode issued for this project');
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new AuthEmulatorError('INVALID_ID_TOKEN', 'the ID token has no subject');
    return { uid: payload.sub, payload: payload as JsonObject };
  }

  /** The public keys local mode signs with, for publishing (src/local/local-key-sets.ts). */
  publicKeys(): { google: PublishedKey; securetoken: PublishedKey } {
    return { google: this.googlePublished, securetoken: this.securetokenPublished };
  }
}
