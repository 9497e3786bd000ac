/**
 * Every error firebridge throws, and the one list of their codes. Every layer throws these; the
 * HTTP edge maps them once (src/http/send-error.ts) to a status, `{error, error_description}`
 * and, on protected routes, `WWW-Authenticate: Bearer ...`. A message never contains a token or
 * key. Library users switch on `err.code` (an `ErrorCode`) or on the class.
 */

/** Every error code, in one place (README.md's table lists each; a test holds the two together). */
export const ERROR_CODES = [
  // Requests (400)
  'ERR_INVALID_REQUEST',
  'ERR_UNSUPPORTED_GRANT_TYPE',
  // Tokens (401)
  'ERR_NO_CREDENTIALS',
  'ERR_INVALID_TOKEN',
  'ERR_JWT_MALFORMED',
  'ERR_JWT_ALG',
  'ERR_JWT_KID',
  'ERR_KID_UNKNOWN',
  'ERR_JWS_SIGNATURE',
  'ERR_CLAIM_INVALID',
  'ERR_CLAIM_ISS',
  'ERR_CLAIM_AUD',
  'ERR_CLAIM_AZP',
  'ERR_CLAIM_SUB',
  'ERR_CLAIM_TENANT',
  'ERR_CLAIM_IN_FUTURE',
  'ERR_TOKEN_EXPIRED',
  'ERR_TOKEN_TOO_OLD',
  'ERR_TOKEN_REPLAYED',
  'ERR_TOKEN_BEFORE_EPOCH',
  'ERR_TOKEN_REVOKED',
  'ERR_NONCE_MISSING',
  'ERR_NONCE_INVALID',
  'ERR_USER_NOT_FOUND',
  'ERR_USER_DISABLED',
  'ERR_ADMIN_CREDENTIAL',
  'ERR_PUSH_CREDENTIAL',
  'ERR_METRICS_CREDENTIAL',
  'ERR_DEVICE_CODE_INVALID',
  // Not found (404)
  'ERR_DEVICE_UNREGISTERED',
  // Google account linking (src/vault): answered as their `error` value
  'ERR_NOT_LINKED',
  'ERR_INSUFFICIENT_SCOPE',
  'ERR_REAUTH_REQUIRED',
  'ERR_VAULT_INTEGRITY',
  // Method (405)
  'ERR_METHOD_NOT_ALLOWED',
  // Policy (403)
  'ERR_ACCESS_DENIED',
  'ERR_POLICY_HD',
  'ERR_POLICY_EMAIL',
  'ERR_POLICY_EMAIL_UNVERIFIED',
  'ERR_POLICY_CLAIM',
  'ERR_POLICY_EMAIL_DOMAIN',
  // Throttling (429)
  'ERR_RATE_LIMITED',
  // Unavailable (503)
  'ERR_DEPENDENCY_UNAVAILABLE',
  'ERR_KEYS_UNAVAILABLE',
  'ERR_SIGNING_UNAVAILABLE',
  // Push (FCM HTTP v1): the route that sent decides the answer from `reason`
  'ERR_PUSH_FAILED',
  // Internal: never sent to a client as such (the edge answers 500 or a 503 above)
  'ERR_CONFIG',
  'ERR_KEY_FILE',
  'ERR_KEY_ADMIN',
  'ERR_USAGE',
  'ERR_KEY_SET_FETCH',
  'ERR_KEY_SET_FORMAT',
  'ERR_RESPONSE_TOO_LARGE',
  'ERR_CIRCUIT_OPEN',
  'ERR_GOOGLE_API',
  'ERR_GOOGLE_CREDENTIALS',
  'ERR_GOOGLE_GRANT',
  'ERR_VAULT_KEY',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The codes an InvalidTokenError may carry (401). */
export type TokenErrorCode = Extract<
  ErrorCode,
  | 'ERR_INVALID_TOKEN'
  | `ERR_JWT_${string}`
  | 'ERR_KID_UNKNOWN'
  | 'ERR_JWS_SIGNATURE'
  | `ERR_CLAIM_${string}`
  | `ERR_TOKEN_${string}`
  | `ERR_NONCE_${string}`
  | `ERR_USER_${string}`
  | 'ERR_ADMIN_CREDENTIAL'
  | 'ERR_PUSH_CREDENTIAL'
  | 'ERR_METRICS_CREDENTIAL'
>;

/** The codes an AccessDeniedError may carry (403). */
export type PolicyErrorCode = Extract<ErrorCode, 'ERR_ACCESS_DENIED' | `ERR_POLICY_${string}`>;

/**
 * The base of every error here. `status` and `oauthError` are what the HTTP edge answers; errors
 * that are not about the request (a bad setting, a failed Google call) keep 500 / server_error,
 * so if one ever reached the edge it would answer a generic 500.
 */
export abstract class FirebridgeError extends Error {
  /** Stable machine-readable code, e.g. ERR_TOKEN_EXPIRED. */
  abstract readonly code: ErrorCode;
  /** HTTP status the edge responds with. */
  readonly status: number = 500;
  /** RFC 6749 / 6750 error value for the JSON body. */
  readonly oauthError: string = 'server_error';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

// ---- Answered to the client ----

/** 400: the request itself is malformed (RFC 6750 invalid_request). */
export class InvalidRequestError extends FirebridgeError {
  readonly code = 'ERR_INVALID_REQUEST';
  override readonly status = 400;
  override readonly oauthError = 'invalid_request';
}

/** 400 unsupported_grant_type (RFC 6749 §5.2): POST /oauth/token with a grant_type other than token exchange. */
export class UnsupportedGrantTypeError extends FirebridgeError {
  readonly code = 'ERR_UNSUPPORTED_GRANT_TYPE';
  override readonly status = 400;
  override readonly oauthError = 'unsupported_grant_type';
}

/** 401: a token failed verification, for whatever reason (RFC 6750 invalid_token). */
export class InvalidTokenError extends FirebridgeError {
  override readonly status = 401;
  override readonly oauthError = 'invalid_token';
  constructor(
    message: string,
    readonly code: TokenErrorCode = 'ERR_INVALID_TOKEN',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * 400 in the Auth Emulator's dialect (local mode's Identity Toolkit and securetoken routes): `reason` is the
 * emulator's code (INVALID_CUSTOM_TOKEN, INVALID_ID_TOKEN, TOKEN_EXPIRED, USER_NOT_FOUND, INVALID_REFRESH_TOKEN,
 * OPERATION_NOT_ALLOWED, ...), answered as `{"error": {"message": "<reason> : <detail>"}}` so the client SDKs map it
 * to `auth/<reason>`.
 */
export class AuthEmulatorError extends FirebridgeError {
  readonly code = 'ERR_INVALID_REQUEST';
  override readonly status = 400;
  override readonly oauthError = 'invalid_request';
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * 401 invalid_grant (RFC 6749 §5.2): a device sign-in code is wrong, expired, burnt, already used or unknown.
 * One description for every case, so the answer tells an attacker nothing.
 */
export class InvalidGrantError extends FirebridgeError {
  readonly code = 'ERR_DEVICE_CODE_INVALID';
  override readonly status = 401;
  override readonly oauthError = 'invalid_grant';
}

/** 404 unregistered: FCM says the device token is dead (the app was uninstalled, or the token rotated). */
export class DeviceUnregisteredError extends FirebridgeError {
  readonly code = 'ERR_DEVICE_UNREGISTERED';
  override readonly status = 404;
  override readonly oauthError = 'unregistered';
}

/** 403: the token is valid but the sign-in policy does not admit this account. */
export class AccessDeniedError extends FirebridgeError {
  override readonly status = 403;
  override readonly oauthError = 'access_denied';
  constructor(
    message: string,
    readonly code: PolicyErrorCode = 'ERR_ACCESS_DENIED',
  ) {
    super(message);
  }
}

/** 405: the route exists, but not for this method; `allow` lists the methods it takes (the Allow header). */
export class MethodNotAllowedError extends FirebridgeError {
  readonly code = 'ERR_METHOD_NOT_ALLOWED';
  override readonly status = 405;
  override readonly oauthError = 'method_not_allowed';
  constructor(
    message: string,
    readonly allow: readonly string[],
  ) {
    super(message);
  }
}

/** 429: too many requests from one client; retry after `retryAfterSeconds`. */
export class RateLimitedError extends FirebridgeError {
  readonly code = 'ERR_RATE_LIMITED';
  override readonly status = 429;
  override readonly oauthError = 'too_many_requests';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** 503: shared state (Redis) or another dependency the request cannot do without is unavailable. */
export class DependencyUnavailableError extends FirebridgeError {
  readonly code = 'ERR_DEPENDENCY_UNAVAILABLE';
  override readonly status = 503;
  override readonly oauthError = 'temporarily_unavailable';
}

/** 401 without an error code: the request carried no bearer credentials at all (RFC 6750 §3.1). */
export class MissingCredentialsError extends FirebridgeError {
  readonly code = 'ERR_NO_CREDENTIALS';
  override readonly status = 401;
  override readonly oauthError = 'unauthorized';
}

/** 503: the verification keys could not be obtained (and no usable stale copy exists). */
export class KeysUnavailableError extends FirebridgeError {
  readonly code = 'ERR_KEYS_UNAVAILABLE';
  override readonly status = 503;
  override readonly oauthError = 'temporarily_unavailable';
}

/** 503: no signing key is loaded, so no custom token can be minted. */
export class SigningUnavailableError extends FirebridgeError {
  readonly code = 'ERR_SIGNING_UNAVAILABLE';
  override readonly status = 503;
  override readonly oauthError = 'temporarily_unavailable';
}

/** Why FCM did not take a message, from its `error.details[].errorCode` and HTTP status. */
export type PushFailureReason =
  | 'unregistered'
  | 'invalid_argument'
  | 'sender_id_mismatch'
  | 'quota_exceeded'
  | 'unavailable'
  | 'third_party_auth_error';

/**
 * FCM refused or could not take a message. `reason` says why; the route that sent it maps it to
 * its answer (the push relay and device challenges document theirs). `retryAfterSeconds` when FCM
 * said (quota). Never carries a device token or a message's content.
 */
export class PushFailedError extends FirebridgeError {
  readonly code = 'ERR_PUSH_FAILED';
  override readonly status = 502;
  override readonly oauthError = 'fcm_unavailable';
  constructor(
    message: string,
    readonly reason: PushFailureReason,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** 404: the user has no Google refresh token in the vault (GET /v1/google/access-token). */
export class NotLinkedError extends FirebridgeError {
  readonly code = 'ERR_NOT_LINKED';
  override readonly status = 404;
  override readonly oauthError = 'not_linked';
}

/** 403: the user's Google grant does not include the scope asked for. */
export class InsufficientScopeError extends FirebridgeError {
  readonly code = 'ERR_INSUFFICIENT_SCOPE';
  override readonly status = 403;
  override readonly oauthError = 'insufficient_scope';
}

/** 409: Google refused the stored refresh token (revoked, expired); the link was deleted, the user must sign in with a code again. */
export class ReauthRequiredError extends FirebridgeError {
  readonly code = 'ERR_REAUTH_REQUIRED';
  override readonly status = 409;
  override readonly oauthError = 'reauth_required';
}

/** 500: a vault row did not decrypt (tampered, or moved onto another uid); it is never served. */
export class VaultIntegrityError extends FirebridgeError {
  readonly code = 'ERR_VAULT_INTEGRITY';
  override readonly oauthError = 'vault_integrity';
}

// ---- Internal: start-up, admin commands, outbound calls ----

/**
 * A setting is missing or invalid. Thrown only at start-up (or by a library factory); names the setting.
 * Start-up reports every bad setting at once: `problems` lists them all (one error per setting; an error
 * of one setting lists itself), `setting` is the first one's, and the message has one `SETTING: reason`
 * line per problem.
 */
export class ConfigError extends FirebridgeError {
  readonly code = 'ERR_CONFIG';
  readonly problems: readonly ConfigError[];
  /** With `problems` (see ConfigError.all), `message` is the whole text, not prefixed with the setting. */
  constructor(
    readonly setting: string,
    message: string,
    problems?: readonly ConfigError[],
  ) {
    super(problems === undefined ? `${setting}: ${message}` : message);
    this.problems = problems ?? [this];
  }

  /** One error listing every problem (each still naming its setting); the problem itself when there is one. */
  static all(problems: readonly ConfigError[]): ConfigError {
    const flat = problems.flatMap((problem) => problem.problems);
    const [first] = flat;
    if (first === undefined) throw new Error('ConfigError.all needs at least one problem');
    if (flat.length === 1) return first;
    return new ConfigError(first.setting, flat.map((problem) => problem.message).join('\n'), flat);
  }
}

/** A service-account key file is unusable. Never carries key material in its message. */
export class KeyFileError extends FirebridgeError {
  readonly code = 'ERR_KEY_FILE';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** A `keys` admin command was refused or failed. A one-line reason; never key material. */
export class KeyAdminError extends FirebridgeError {
  readonly code = 'ERR_KEY_ADMIN';
}

/** A command line could not be understood (the CLI prints its usage). */
export class UsageError extends FirebridgeError {
  readonly code = 'ERR_USAGE';
}

/** A key set could not be fetched (network, timeout, HTTP status). */
export class KeySetFetchError extends FirebridgeError {
  readonly code = 'ERR_KEY_SET_FETCH';
}

/** A key set was fetched but is not a usable JWKS or x509 map. */
export class KeySetFormatError extends FirebridgeError {
  readonly code = 'ERR_KEY_SET_FORMAT';
}

/** A response body passed its size cap while being read. */
export class ResponseTooLargeError extends FirebridgeError {
  readonly code = 'ERR_RESPONSE_TOO_LARGE';
}

/** A circuit breaker is open: the endpoint kept failing, so it is not called for a while. */
export class CircuitOpenError extends FirebridgeError {
  readonly code = 'ERR_CIRCUIT_OPEN';
}

/** A call to a Google API failed. The message names the call and Google's reason, never a secret. */
export class GoogleApiError extends FirebridgeError {
  readonly code = 'ERR_GOOGLE_API';
  constructor(
    message: string,
    /** The HTTP status Google answered, when it answered. */
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

/** Application Default Credentials (or another Google credential) are missing or unusable. */
export class GoogleCredentialsError extends FirebridgeError {
  readonly code = 'ERR_GOOGLE_CREDENTIALS';
}

/** Google's token endpoint answered `invalid_grant`: the code or refresh token is spent, revoked or expired. */
export class GoogleGrantError extends FirebridgeError {
  readonly code = 'ERR_GOOGLE_GRANT';
}

/** The vault's data keys (VAULT_KEYS_FILE) are missing, unreadable, or do not match the database. Never key material. */
export class VaultKeyError extends FirebridgeError {
  readonly code = 'ERR_VAULT_KEY';
}

// ---- Metrics labels ----

/**
 * How a failure is counted in the metrics: `refused` when the caller is at fault (a FirebridgeError
 * answered with a 4xx: a bad token, a policy refusal, a rate limit), `error` when firebridge or a
 * dependency is (a 5xx, or anything that is not a FirebridgeError).
 */
export function failureOutcome(err: unknown): 'refused' | 'error' {
  return err instanceof FirebridgeError && err.status < 500 ? 'refused' : 'error';
}

/**
 * The reason label of a failure: its code (one of ERROR_CODES), or `internal` for anything that is not a
 * FirebridgeError. Never a message: label values stay a fixed small set.
 */
export function failureReason(err: unknown): ErrorCode | 'internal' {
  return err instanceof FirebridgeError ? err.code : 'internal';
}
