/**
 * Error classes with stable codes. Every layer throws these; the HTTP edge maps them once
 * (src/http/send-error.ts) to a status, `{error, error_description}` and, on protected
 * routes, `WWW-Authenticate: Bearer ...`. A description never contains a token or key.
 */
export abstract class FirebridgeError extends Error {
  /** Stable machine-readable code, e.g. ERR_TOKEN_EXPIRED. */
  abstract readonly code: string;
  /** HTTP status the edge responds with. */
  abstract readonly status: number;
  /** RFC 6749 / 6750 error value for the JSON body. */
  abstract readonly oauthError: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** 400: the request itself is malformed (RFC 6750 invalid_request). */
export class InvalidRequestError extends FirebridgeError {
  readonly code: string;
  readonly status = 400;
  readonly oauthError = 'invalid_request';
  constructor(message: string, code = 'ERR_INVALID_REQUEST') {
    super(message);
    this.code = code;
  }
}

/** 401: a token failed verification, for whatever reason (RFC 6750 invalid_token). */
export class InvalidTokenError extends FirebridgeError {
  readonly code: string;
  readonly status = 401;
  readonly oauthError = 'invalid_token';
  constructor(message: string, code = 'ERR_INVALID_TOKEN', options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** 403: the token is valid but the sign-in policy does not admit this account. */
export class AccessDeniedError extends FirebridgeError {
  readonly code: string;
  readonly status = 403;
  readonly oauthError = 'access_denied';
  constructor(message: string, code = 'ERR_ACCESS_DENIED') {
    super(message);
    this.code = code;
  }
}

/** 405: the route exists, but not for this method; `allow` lists the methods it takes (the Allow header). */
export class MethodNotAllowedError extends FirebridgeError {
  readonly code = 'ERR_METHOD_NOT_ALLOWED';
  readonly status = 405;
  readonly oauthError = 'method_not_allowed';
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
  readonly status = 429;
  readonly oauthError = 'too_many_requests';
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
  readonly status = 503;
  readonly oauthError = 'temporarily_unavailable';
}

/** 401 without an error code: the request carried no bearer credentials at all (RFC 6750 §3.1). */
export class MissingCredentialsError extends FirebridgeError {
  readonly code = 'ERR_NO_CREDENTIALS';
  readonly status = 401;
  readonly oauthError = 'unauthorized';
}

/** 503: the verification keys could not be obtained (and no usable stale copy exists). */
export class KeysUnavailableError extends FirebridgeError {
  readonly code = 'ERR_KEYS_UNAVAILABLE';
  readonly status = 503;
  readonly oauthError = 'temporarily_unavailable';
}

/** 503: no signing key is loaded, so no custom token can be minted. */
export class SigningUnavailableError extends FirebridgeError {
  readonly code = 'ERR_SIGNING_UNAVAILABLE';
  readonly status = 503;
  readonly oauthError = 'temporarily_unavailable';
}

/** A setting is missing or invalid. Thrown only at start-up; names the setting. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** A service-account key file is unusable. Never carries key material in its message. */
export class KeyFileError extends Error {
  readonly code = 'ERR_KEY_FILE';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'KeyFileError';
  }
}

/** A `keys` admin command was refused or failed. A one-line reason; never key material. */
export class KeyAdminError extends Error {
  readonly code = 'ERR_KEY_ADMIN';
  constructor(message: string) {
    super(message);
    this.name = 'KeyAdminError';
  }
}
