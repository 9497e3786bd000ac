import { createHash, randomBytes } from 'node:crypto';
import { type JWTPayload, SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { Clock } from '../clock';
import { LOCAL_CLIENT_ID } from '../config';
import { CUSTOM_TOKEN_TTL_SECONDS, FIREBASE_AUDIENCE, RESERVED_CLAIMS } from '../auth/custom-token';
import { firebaseIssuer } from '../auth/firebase-id-token-verifier';
import { InvalidRequestError, InvalidTokenError } from '../errors';
import type { JsonObject } from '../jwt/decode';
import { StaticKeySetSource } from '../jwt/key-set-source';
import type { ServiceAccountKey } from '../keys/service-account-key';
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

export interface LocalSignInResult {
  kind: string;
  idToken: string;
  refreshToken: string;
  expiresIn: string;
  localId: string;
  isNewUser: boolean;
}

const ID_TOKEN_TTL_SECONDS = 3600;

/**
 * Local mode's emulation of the Google side, on throwaway keys in its own folder:
 * - "Google" that mints test Google ID tokens for LOCAL_CLIENT_ID;
 * - a service account (demo-firebridge) that signs custom tokens;
 * - Identity Toolkit's signInWithCustomToken: checks the custom token's signature and claims,
 *   returns a Firebase ID token signed by a local securetoken key.
 * Nothing it signs is valid for a real project: the project ID is a demo- one and the keys are
 * its own. It never reads KEYS_DIR.
 */
export class LocalGoogle {
  readonly googleKeys: StaticKeySetSource;
  readonly securetokenKeys: StaticKeySetSource;
  readonly serviceAccount: ServiceAccountKey;
  private readonly serviceAccountPublicKey;
  private readonly knownUids = new Set<string>();

  private constructor(
    private readonly google: LocalKey,
    private readonly securetoken: LocalKey,
    serviceAccount: LocalKey,
    private readonly projectId: string,
    private readonly clock: Clock,
    stateDir: string,
  ) {
    this.googleKeys = new StaticKeySetSource('local google keys', new Map([[google.kid, google.publicKey]]));
    this.securetokenKeys = new StaticKeySetSource('local securetoken keys', new Map([[securetoken.kid, securetoken.publicKey]]));
    this.serviceAccount = {
      projectId,
      clientEmail: `firebridge-local@${projectId}.iam.gserviceaccount.com`,
      privateKeyId: serviceAccount.kid,
      privateKey: serviceAccount.privateKey,
      file: stateDir,
    };
    this.serviceAccountPublicKey = serviceAccount.publicKey;
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

  /** Identity Toolkit's accounts:signInWithCustomToken, checking the token as Google does. */
  async signInWithCustomToken(customToken: unknown): Promise<LocalSignInResult> {
    if (typeof customToken !== 'string') throw new InvalidTokenError('custom token is not a string', 'ERR_JWT_MALFORMED');
    let payload: JWTPayload;
    try {
      // Signature and algorithm only; the claims are checked below, as Google documents them.
      ({ payload } = await jwtVerify(customToken, this.serviceAccountPublicKey, {
        algorithms: ['RS256'],
        currentDate: new Date(this.clock()),
        clockTolerance: Number.MAX_SAFE_INTEGER,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
        throw new InvalidTokenError('custom token signature is invalid', 'ERR_JWS_SIGNATURE');
      }
      throw new InvalidTokenError('custom token is not a well-formed RS256 JWT', 'ERR_JWT_MALFORMED');
    }
    const email = this.serviceAccount.clientEmail;
    if (payload.aud !== FIREBASE_AUDIENCE) throw new InvalidTokenError('custom token audience is wrong', 'ERR_CLAIM_AUD');
    if (payload.iss !== email || payload.sub !== email) {
      throw new InvalidTokenError('custom token issuer is not the service account', 'ERR_CLAIM_ISS');
    }
    const { iat, exp, uid, claims } = payload;
    const now = this.nowSeconds();
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= now || iat > now + 60 || exp - iat > CUSTOM_TOKEN_TTL_SECONDS) {
      throw new InvalidTokenError('custom token is expired or has an invalid lifetime', 'ERR_TOKEN_EXPIRED');
    }
    if (typeof uid !== 'string' || uid.length === 0 || uid.length > 128) {
      throw new InvalidTokenError('custom token uid is invalid', 'ERR_CLAIM_SUB');
    }
    const developerClaims: JsonObject = {};
    if (claims !== undefined) {
      if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
        throw new InvalidRequestError('custom token claims must be an object');
      }
      for (const [name, value] of Object.entries(claims)) {
        if (RESERVED_CLAIMS.has(name)) throw new InvalidRequestError(`custom token claim "${name}" is reserved`);
        developerClaims[name] = value;
      }
    }
    const idToken = await signJwt(
      {
        ...developerClaims,
        iss: firebaseIssuer(this.projectId),
        aud: this.projectId,
        auth_time: now,
        user_id: uid,
        sub: uid,
        iat: now,
        exp: now + ID_TOKEN_TTL_SECONDS,
        firebase: { identities: {}, sign_in_provider: 'custom' },
      },
      this.securetoken,
    );
    const isNewUser = !this.knownUids.has(uid);
    this.knownUids.add(uid);
    return {
      kind: 'identitytoolkit#VerifyCustomTokenResponse',
      idToken,
      refreshToken: randomBytes(32).toString('base64url'),
      expiresIn: String(ID_TOKEN_TTL_SECONDS),
      localId: uid,
      isNewUser,
    };
  }
}
