import { ERROR_CODES } from '../errors';
import { AUTHZ_RESPONSE_HEADERS } from './routes/authz';
import { CORS_ALLOWED_HEADERS, CORS_ALLOWED_METHODS, CORS_EXPOSED_HEADERS, CORS_MAX_AGE_SECONDS } from './cors';
import { METRICS_PATH } from './routes/metrics';
import { ID_TOKEN_TYPE, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './routes/oauth-token';

/**
 * The OpenAPI 3.1 description of every route the bridge can mount, served at GET /openapi.json. One section per
 * route group below (add a group's paths to PATHS); testkit/openapi-validator.ts checks every response the tests
 * receive against it, and test/http/openapi.test.ts that every route express mounts is described here.
 */

/** A JSON Schema (2020-12 dialect, as OpenAPI 3.1 uses it). */
export type JsonSchema = { [keyword: string]: unknown };

export interface HeaderObject {
  description: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface MediaTypeObject {
  schema: JsonSchema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, MediaTypeObject>;
}

export interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  description: string;
  required?: boolean;
  schema: JsonSchema;
  /** A path parameter that may span segments (forward-auth's `{rest}`: express's `{*rest}`). */
  'x-matches-slashes'?: boolean;
}

export interface OperationObject {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: ParameterObject[];
  requestBody?: { required?: boolean; description?: string; content: Record<string, MediaTypeObject> };
  responses: Record<string, ResponseObject>;
  security?: Array<Record<string, string[]>>;
}

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
export type PathItem = Partial<Record<HttpMethod, OperationObject>> & {
  summary?: string;
  description?: string;
  /** The setting an optional group's path exists under: otherwise every method of it is components.responses.NoSuchRoute. */
  'x-mounted-only-when'?: string;
};

export interface OpenApiDocument {
  openapi: '3.1.0';
  jsonSchemaDialect: string;
  info: { title: string; version: string; description: string; license?: { name: string; identifier?: string } };
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, ResponseObject>;
    securitySchemes: Record<string, Record<string, unknown>>;
  };
}

/** Every `error` value an error body may carry: the HTTP edge's (errors.ts `oauthError`), the push relay's, RFC 6749's. */
export const ERROR_VALUES = [
  'invalid_request',
  'invalid_token',
  'unauthorized',
  'invalid_grant',
  'unsupported_grant_type',
  'access_denied',
  'insufficient_scope',
  'unregistered',
  'not_found',
  'not_linked',
  'method_not_allowed',
  'reauth_required',
  'too_many_requests',
  'invalid_argument',
  'sender_id_mismatch',
  'quota_exceeded',
  'fcm_unavailable',
  'temporarily_unavailable',
  'vault_integrity',
  'server_error',
] as const;

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema): Record<string, MediaTypeObject> => ({ [JSON_TYPE]: { schema } });
const object = (properties: Record<string, JsonSchema>, required: string[] = Object.keys(properties), extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
  ...extra,
});
const str = (description?: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', ...(description ? { description } : {}), ...extra });
const int = (description?: string): JsonSchema => ({ type: 'integer', ...(description ? { description } : {}) });
const jwt = (description: string): JsonSchema => str(description, { pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*$' });

// ---- Headers ----

const HEADERS = {
  wwwAuthenticate: (realm: string, required = true): Record<string, HeaderObject> => ({
    'WWW-Authenticate': {
      description: `RFC 6750 challenge: \`Bearer realm="${realm}"\`, plus \`error\` and \`error_description\` (RFC 7230 quoted-strings) when a credential was presented.`,
      required,
      schema: str(undefined, { pattern: `^Bearer realm="${realm}"` }),
    },
  }),
  retryAfter: (required = true): Record<string, HeaderObject> => ({
    'Retry-After': { description: 'Seconds to wait before retrying.', required, schema: str(undefined, { pattern: '^[0-9]+$' }) },
  }),
  rateLimit: (): Record<string, HeaderObject> => ({
    'RateLimit-Limit': { description: 'Requests allowed per client IP per minute (absent when the limit is off).', schema: str(undefined, { pattern: '^[0-9]+$' }) },
    'RateLimit-Remaining': { description: 'Requests left in this window.', schema: str(undefined, { pattern: '^[0-9]+$' }) },
    'RateLimit-Reset': { description: 'Seconds until the window resets.', schema: str(undefined, { pattern: '^[0-9]+$' }) },
  }),
};

// ---- Error responses: `{error, error_description}` with the `error` values each can carry ----

function errorResponse(description: string, errors: readonly (typeof ERROR_VALUES)[number][], headers?: Record<string, HeaderObject>): ResponseObject {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: json({ allOf: [ref('Error'), { type: 'object', properties: { error: { enum: [...errors] } } }] }),
  };
}

type Responses = Record<string, ResponseObject>;

/** Answers the body parser (express.json, before every route but forward-auth) may give any request with a body. */
const BODY_ERRORS: Responses = {
  '400': errorResponse('The request is malformed (the description says what is wrong); also a body that is not valid JSON.', ['invalid_request']),
  '413': errorResponse('The body is over MAX_BODY_BYTES.', ['invalid_request']),
  '415': errorResponse('An unsupported body encoding or charset.', ['invalid_request']),
};
const SERVER_ERROR: Responses = { '500': errorResponse('A bug: details are logged, never sent.', ['server_error']) };
const UNAVAILABLE = (what: string): Responses => ({
  '503': errorResponse(`${what} cannot answer; retry later.`, ['temporarily_unavailable'], HEADERS.retryAfter()),
});
const RATE_LIMITED: Responses = {
  '429': errorResponse('Over the per-client-IP rate limit.', ['too_many_requests'], { ...HEADERS.retryAfter(), ...HEADERS.rateLimit() }),
};
/** A route behind requireFirebaseAuth (realm "firebridge"). */
const FIREBASE_AUTH_ERRORS: Responses = {
  '400': errorResponse('A malformed `Authorization` header (or body).', ['invalid_request'], HEADERS.wwwAuthenticate('firebridge', false)),
  '401': errorResponse(
    'No Bearer credentials (`unauthorized`, challenge without error) or the Firebase ID token failed verification (`invalid_token`: the description says which check).',
    ['unauthorized', 'invalid_token'],
    HEADERS.wwwAuthenticate('firebridge'),
  ),
  ...UNAVAILABLE("Firebase's keys, or a switched-on revocation check,"),
};
/** A route behind a shared secret (ADMIN_API_TOKEN, PUSH_API_TOKEN): failed authentications are throttled per IP. */
const sharedSecretErrors = (realm: string, what: string): Responses => ({
  '401': errorResponse(`Not the ${what} credential (or none).`, ['invalid_token', 'unauthorized'], HEADERS.wwwAuthenticate(realm)),
  '429': errorResponse('Too many failed authentications from this client IP.', ['too_many_requests'], HEADERS.retryAfter()),
  ...UNAVAILABLE('The shared store counting failed authentications'),
});

// ---- Schemas ----

const CUSTOM_TOKEN_RESULT: Record<string, JsonSchema> = {
  customToken: jwt('A Firebase custom token: pass it to signInWithCustomToken.'),
  uid: str('The Firebase uid (`google:<sub>`, `device:...`).', { minLength: 1, maxLength: 128 }),
  expiresIn: int('Seconds the custom token is valid (3600).'),
};

const SCHEMAS: Record<string, JsonSchema> = {
  Error: object(
    {
      error: { type: 'string', enum: [...ERROR_VALUES], description: 'RFC 6749 / 6750 style error value.' },
      error_description: str('What went wrong, for a human; never a stack trace (5xx descriptions are generic).'),
    },
    ['error', 'error_description'],
    { description: 'Every error: RFC 6750-style JSON.' },
  ),
  ErrorCode: {
    type: 'string',
    enum: [...ERROR_CODES],
    description: "The stable code of every error firebridge throws (src/errors.ts ERROR_CODES). The server logs it with each refusal; the body carries the `error` value it maps to (README's Errors tables).",
  },
  Claims: { type: 'object', description: 'JWT claims.', additionalProperties: true },
  CustomTokenResult: object(CUSTOM_TOKEN_RESULT),
  TokenExchangeResult: object({ ...CUSTOM_TOKEN_RESULT, google: ref('GoogleLinkOutcome') }, Object.keys(CUSTOM_TOKEN_RESULT)),
  GoogleLinkOutcome: {
    oneOf: [
      object({ linked: { const: true }, scopes: { type: 'array', items: str() } }),
      object(
        {
          linked: { const: false },
          reason: { enum: ['no_refresh_token', 'invalid_grant', 'unavailable', 'account_mismatch'] },
          scopes: { type: 'array', items: str() },
        },
        ['linked', 'reason'],
      ),
    ],
  },
  StoreState: object({ backend: { enum: ['memory', 'redis'] }, reachable: { type: 'boolean' } }),
  AuditState: object(
    {
      writable: { type: 'boolean', description: 'False while the last write of the audit log failed (full disk, folder gone, read-only file system).' },
      error: str('The errno code of the failing write (`ENOSPC`), only while it fails.', { pattern: '^[A-Z0-9_]+$' }),
      pending: { type: 'integer', minimum: 0, description: 'Events queued, not yet written.' },
      dropped: { type: 'integer', minimum: 0, description: 'Events dropped because the queue was full, since start.' },
    },
    ['writable', 'pending', 'dropped'],
    { description: "The audit trail's state (never the file's path or line count: /readyz answers anyone)." },
  ),
  GoogleRestError: object(
    {
      error: object({
        code: { enum: [400, 500], description: 'The HTTP status again.' },
        message: str('`CODE : detail` (400), `INTERNAL_ERROR` (500): the client SDKs map CODE to `auth/<code>`.', { pattern: '^[A-Z_]+( : .+)?$' }),
        errors: {
          type: 'array',
          minItems: 1,
          maxItems: 1,
          items: object({ message: str('CODE alone.', { pattern: '^[A-Z_]+$' }), domain: { const: 'global' }, reason: { enum: ['invalid', 'backendError'] } }),
        },
      }),
    },
    ['error'],
    { description: "The Google REST error shape of the emulated Identity Toolkit and securetoken (the Auth Emulator's), which the client SDKs parse." },
  ),
  Jwks: object(
    {
      keys: {
        type: 'array',
        minItems: 1,
        items: object(
          { kty: { const: 'RSA' }, n: str(undefined, { pattern: '^[A-Za-z0-9_-]+$' }), e: str(undefined, { pattern: '^[A-Za-z0-9_-]+$' }), kid: str(undefined, { minLength: 1 }), alg: { const: 'RS256' }, use: { const: 'sig' } },
        ),
      },
    },
    ['keys'],
    { description: "A JWKS (RFC 7517) of RSA public keys, as Google's /oauth2/v3/certs." },
  ),
  X509Map: {
    type: 'object',
    minProperties: 1,
    additionalProperties: str('A PEM X.509 certificate (self-signed; only its public key matters).', { pattern: '^-----BEGIN CERTIFICATE-----\\r?\\n' }),
    description: "`{kid: certificate PEM}`, as Google's /oauth2/v1/certs and the securetoken x509 map.",
  },
  EmulatorUserInfo: object(
    {
      localId: str('The uid.', { minLength: 1, maxLength: 128 }),
      displayName: str(),
      photoUrl: str(),
      emailVerified: { const: false },
      providerUserInfo: { type: 'array', maxItems: 0 },
      validSince: str('Seconds since the epoch.', { pattern: '^[0-9]+$' }),
      createdAt: str('Milliseconds since the epoch.', { pattern: '^[0-9]+$' }),
      lastLoginAt: str('Milliseconds since the epoch.', { pattern: '^[0-9]+$' }),
      lastRefreshAt: str(undefined, { format: 'date-time' }),
    },
    ['localId', 'emailVerified', 'providerUserInfo', 'validSince', 'createdAt', 'lastLoginAt', 'lastRefreshAt'],
    { description: 'A local-mode user as accounts:lookup reports it (the Identity Toolkit v1 UserInfo fields the SDK reads).' },
  ),
};

// ---- Route groups ----

const HEALTH: Record<string, PathItem> = {
  '/healthz': {
    get: {
      operationId: 'healthz',
      summary: 'Liveness: the process is up.',
      tags: ['health'],
      responses: { '200': { description: 'Up.', content: json(object({ status: { const: 'ok' } })) }, ...BODY_ERRORS, ...SERVER_ERROR },
    },
  },
  '/readyz': {
    get: {
      operationId: 'readyz',
      summary: 'Readiness: a signing key is loaded and the shared store answers.',
      tags: ['health'],
      responses: {
        '200': {
          description: 'Ready. `audit` when the server keeps an audit trail (AUDIT_LOG_FILE; a library app without one has none).',
          content: json(object({ status: { const: 'ready' }, store: ref('StoreState'), audit: ref('AuditState') }, ['status', 'store'])),
        },
        ...BODY_ERRORS,
        '503': {
          description: 'Not ready, with the reason, checked in this order: no signing key, the shared store unreachable, the audit log not writable (`audit.writable: false`, `audit.error` the errno).',
          content: json(
            object(
              {
                status: { const: 'not_ready' },
                reason: { enum: ['no signing key loaded', 'shared store unreachable', 'audit log cannot be written'] },
                store: ref('StoreState'),
                audit: ref('AuditState'),
              },
              ['status', 'reason', 'store'],
            ),
          ),
        },
        ...SERVER_ERROR,
      },
    },
  },
};

const DOCUMENT: Record<string, PathItem> = {
  '/openapi.json': {
    get: {
      operationId: 'openapi',
      summary: 'This document.',
      tags: ['meta'],
      responses: {
        '200': {
          description: 'The OpenAPI 3.1 description of every route.',
          content: json({ type: 'object', required: ['openapi', 'info', 'paths'], properties: { openapi: { const: '3.1.0' } } }),
        },
        ...BODY_ERRORS,
        ...SERVER_ERROR,
      },
    },
  },
};

const EXCHANGE: Record<string, PathItem> = {
  '/v1/token/google': {
    post: {
      operationId: 'exchangeGoogleIdToken',
      summary: 'A Google ID token in, a Firebase custom token out.',
      description: 'Optionally with a server auth code, to link the Google account (GOOGLE_OAUTH_CLIENT_ID). Rate limited per client IP (RATE_LIMIT_EXCHANGE_PER_MINUTE, shared with POST /oauth/token).',
      tags: ['exchange'],
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          properties: {
            idToken: jwt('The Google ID token.'),
            serverAuthCode: str('A Google server auth code (account linking).', { minLength: 1, maxLength: 2048 }),
            redirectUri: str('"" for Android and iOS, "postmessage" for the web popup flow.', { maxLength: 2048 }),
          },
          required: ['idToken'],
        }),
      },
      responses: {
        '200': {
          description: 'The custom token; `google` when a serverAuthCode was sent.',
          headers: HEADERS.rateLimit(),
          content: json(ref('TokenExchangeResult')),
        },
        ...BODY_ERRORS,
        '401': errorResponse('The Google ID token failed verification (the description says which check), was replayed, or its nonce was refused.', ['invalid_token']),
        '403': errorResponse('The sign-in policy does not admit this account.', ['access_denied']),
        ...RATE_LIMITED,
        ...SERVER_ERROR,
        ...UNAVAILABLE("Google's keys, the signing key or the shared store"),
      },
    },
  },
  '/oauth/token': {
    post: {
      operationId: 'tokenExchange',
      summary: 'RFC 8693 token exchange: a Google ID token in, a Firebase custom token out (the same exchange as POST /v1/token/google).',
      description:
        'Form-encoded (RFC 6749 §3.2): each parameter at most once; unrecognized parameters are ignored. Errors in the RFC 6749 §5.2 format; a subject token that fails for any reason (verification, replay, nonce, sign-in policy) is `invalid_request`, as RFC 8693 §2.2.2 says. Same rate limit as POST /v1/token/google.',
      tags: ['exchange'],
      requestBody: {
        required: true,
        content: {
          [FORM_TYPE]: {
            schema: {
              type: 'object',
              properties: {
                grant_type: { const: TOKEN_EXCHANGE_GRANT },
                subject_token_type: { const: ID_TOKEN_TYPE },
                subject_token: jwt('The Google ID token.'),
                requested_token_type: { const: JWT_TOKEN_TYPE, description: 'Optional; the only type issued.' },
              },
              required: ['grant_type', 'subject_token_type', 'subject_token'],
            },
          },
        },
      },
      responses: {
        '200': {
          description: 'The Firebase custom token (RFC 8693 §2.2.1).',
          headers: {
            ...HEADERS.rateLimit(),
            'Cache-Control': { description: 'no-store (RFC 6749 §5.1).', required: true, schema: { const: 'no-store' } },
            Pragma: { description: 'no-cache (RFC 6749 §5.1).', required: true, schema: { const: 'no-cache' } },
          },
          content: json(
            object({
              access_token: jwt('The Firebase custom token: pass it to signInWithCustomToken.'),
              issued_token_type: { const: JWT_TOKEN_TYPE },
              token_type: { const: 'N_A' },
              expires_in: int('Seconds the custom token is valid (3600).'),
            }),
          ),
        },
        '400': errorResponse(
          'RFC 6749 §5.2: `invalid_request` (a missing, empty or repeated parameter, a subject_token_type other than id_token, a body that is not form-encoded, a subject token refused for any reason); `unsupported_grant_type`.',
          ['invalid_request', 'unsupported_grant_type'],
          { Pragma: { description: 'no-cache.', schema: { const: 'no-cache' } } },
        ),
        '413': BODY_ERRORS['413'] as ResponseObject,
        '415': BODY_ERRORS['415'] as ResponseObject,
        ...RATE_LIMITED,
        ...SERVER_ERROR,
        ...UNAVAILABLE("Google's keys, the signing key or the shared store"),
      },
    },
  },
  '/v1/nonce': {
    post: {
      operationId: 'issueNonce',
      summary: "A single-use, short-lived nonce for the app's next Google sign-in (REQUIRE_NONCE).",
      tags: ['exchange'],
      responses: {
        '200': { description: 'The nonce.', headers: HEADERS.rateLimit(), content: json(object({ nonce: str(undefined, { minLength: 16 }), expiresIn: int('Seconds.') })) },
        ...BODY_ERRORS,
        ...RATE_LIMITED,
        ...SERVER_ERROR,
        ...UNAVAILABLE('The shared store'),
      },
    },
  },
};

const ME: Record<string, PathItem> = {
  '/v1/me': {
    get: {
      operationId: 'me',
      summary: 'The verified user of the Bearer Firebase ID token, with all its claims.',
      tags: ['protected'],
      security: [{ firebaseIdToken: [] }],
      responses: {
        '200': { description: 'The user.', content: json(object({ uid: str(undefined, { minLength: 1, maxLength: 128 }), claims: ref('Claims') })) },
        ...BODY_ERRORS,
        ...FIREBASE_AUTH_ERRORS,
        ...SERVER_ERROR,
      },
    },
  },
};

/** Forward-auth answers to any method: the same operation under each method OpenAPI names. */
function forwardAuth(idPrefix: string, parameters?: ParameterObject[]): PathItem {
  const methods: HttpMethod[] = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options'];
  const item: PathItem = {
    description: 'Forward-auth for reverse proxies (nginx auth_request, Traefik ForwardAuth, Envoy ext_authz, Caddy forward_auth). Any method. Never reads a body.',
  };
  const headers: Record<string, HeaderObject> = {};
  for (const name of AUTHZ_RESPONSE_HEADERS) {
    headers[name] = {
      description: name === 'X-Auth-Claims' ? 'Every claim, JSON in base64url.' : `Of the verified user (${name === 'X-Auth-Uid' || name === 'X-Auth-Email-Verified' ? 'always' : 'when ASCII and present'}).`,
      required: name === 'X-Auth-Uid' || name === 'X-Auth-Email-Verified' || name === 'X-Auth-Claims',
      schema: name === 'X-Auth-Email-Verified' ? { enum: ['true', 'false'] } : str(),
    };
  }
  for (const method of methods) {
    item[method] = {
      operationId: `${idPrefix}_${method}`,
      summary: 'Allow (200, X-Auth-* headers, no body), challenge (401) or refuse (403) the original request.',
      tags: ['forward-auth'],
      security: [{ firebaseIdToken: [] }, { sessionCookie: [] }],
      ...(parameters ? { parameters } : {}),
      responses: {
        '200': { description: 'The token is valid and meets every rule; the proxy copies the X-Auth-* headers upstream.', headers },
        '401': errorResponse(
          'No token (`unauthorized`) or a bad one (`invalid_token`; a malformed credential too, never 400).',
          ['unauthorized', 'invalid_token'],
          HEADERS.wwwAuthenticate('firebridge'),
        ),
        '400': errorResponse(
          'A malformed rule in the query (`?claim=`, `?email_domain=`: at /v1/authz and /v1/authz/ only), never a pass.',
          ['invalid_request'],
          HEADERS.wwwAuthenticate('firebridge', false),
        ),
        '403': errorResponse('A rule (AUTHZ_REQUIRE_CLAIMS, ?claim=, ?email_domain=, AUTHZ_REQUIRE_EMAIL_VERIFIED) refuses the user.', ['access_denied']),
        ...SERVER_ERROR,
        ...UNAVAILABLE("Firebase's keys, or a switched-on revocation check,"),
      },
    };
  }
  return item;
}

const RULE_PARAMETERS: ParameterObject[] = [
  { name: 'claim', in: 'query', description: 'A claim that must be `true` (repeatable).', schema: str() },
  { name: 'email_domain', in: 'query', description: 'An email domain allowed (repeatable).', schema: str() },
];

const AUTHZ: Record<string, PathItem> = {
  '/v1/authz': forwardAuth('authz', RULE_PARAMETERS),
  '/v1/authz/{rest}': forwardAuth('authzUnder', [
    {
      name: 'rest',
      in: 'path',
      required: true,
      description: "The original request's path (Envoy's path_prefix); may hold slashes, may be empty.",
      schema: str(),
      'x-matches-slashes': true,
    },
  ]),
};

const DEVICE: Record<string, PathItem> = {
  '/v1/device/challenge': {
    post: {
      operationId: 'deviceChallenge',
      summary: 'Push a one-time code to the device (DEVICE_SIGN_IN=true; local mode by default).',
      tags: ['device'],
      security: [{}, { firebaseIdToken: [] }],
      requestBody: { required: true, content: json({ type: 'object', properties: { fcmToken: str('The FCM registration token.') }, required: ['fcmToken'] }) },
      responses: {
        '202': { description: 'The code was sent.', headers: HEADERS.rateLimit(), content: json(object({ challengeId: str(), expiresIn: int('Seconds.') })) },
        '400': errorResponse('A missing or malformed `fcmToken`, FCM calls the token invalid or of another project; a malformed Authorization header.', ['invalid_request'], HEADERS.wwwAuthenticate('firebridge', false)),
        '401': errorResponse(
          'The optional Authorization header is not a valid Firebase ID token (`invalid_token`), or names another scheme (`unauthorized`).',
          ['invalid_token', 'unauthorized'],
          HEADERS.wwwAuthenticate('firebridge'),
        ),
        '404': errorResponse('FCM says the device token is dead.', ['unregistered']),
        '413': BODY_ERRORS['413'] as ResponseObject,
        '415': BODY_ERRORS['415'] as ResponseObject,
        '429': errorResponse('A per-IP or per-device limit, or FCM\'s quota.', ['too_many_requests'], { ...HEADERS.retryAfter(), ...HEADERS.rateLimit() }),
        ...SERVER_ERROR,
        ...UNAVAILABLE('FCM or the shared store'),
      },
    },
  },
  '/v1/device/verify': {
    post: {
      operationId: 'deviceVerify',
      summary: 'Trade the pushed code for a Firebase custom token.',
      tags: ['device'],
      security: [{}, { firebaseIdToken: [] }],
      requestBody: {
        required: true,
        content: json({ type: 'object', properties: { challengeId: str(), code: str(undefined, { pattern: '^[0-9]{6}$' }) }, required: ['challengeId', 'code'] }),
      },
      responses: {
        '200': { description: 'The custom token (developer claim `device_verified: true`).', headers: HEADERS.rateLimit(), content: json(ref('CustomTokenResult')) },
        '400': errorResponse('A missing or malformed `challengeId` or `code`; a malformed Authorization header.', ['invalid_request'], HEADERS.wwwAuthenticate('firebridge', false)),
        '401': errorResponse(
          'A wrong, expired, burnt, used or unknown code (`invalid_grant`, one description for all); or the optional Authorization header is not a valid Firebase ID token (`invalid_token`, `unauthorized` for another scheme), with a challenge.',
          ['invalid_grant', 'invalid_token', 'unauthorized'],
          HEADERS.wwwAuthenticate('firebridge', false),
        ),
        '413': BODY_ERRORS['413'] as ResponseObject,
        '415': BODY_ERRORS['415'] as ResponseObject,
        ...RATE_LIMITED,
        ...SERVER_ERROR,
        ...UNAVAILABLE('The shared store'),
      },
    },
  },
};

const GOOGLE: Record<string, PathItem> = {
  '/v1/google/access-token': {
    get: {
      operationId: 'googleAccessToken',
      summary: "A Google access token for the user's linked account (GOOGLE_OAUTH_CLIENT_ID).",
      tags: ['google'],
      security: [{ firebaseIdToken: [] }],
      parameters: [{ name: 'scope', in: 'query', description: 'One scope the token must carry.', schema: str(undefined, { minLength: 1 }) }],
      responses: {
        '200': {
          description: 'The access token.',
          content: json(object({ accessToken: str(), expiresAt: str('ISO 8601.', { format: 'date-time' }), scopes: { type: 'array', items: str() } })),
        },
        ...BODY_ERRORS,
        ...FIREBASE_AUTH_ERRORS,
        '403': errorResponse('The user did not grant that scope.', ['insufficient_scope']),
        '404': errorResponse('No Google account is linked to the user.', ['not_linked']),
        '409': errorResponse('Google refused the stored refresh token; the link was deleted.', ['reauth_required']),
        '500': errorResponse('A bug (`server_error`) or a vault row that does not decrypt (`vault_integrity`).', ['server_error', 'vault_integrity']),
        ...UNAVAILABLE("Firebase's keys, Google or the vault's database"),
      },
    },
  },
  '/v1/google/link': {
    delete: {
      operationId: 'googleUnlink',
      summary: "Revoke the user's Google grant and delete the link (also when nothing was linked).",
      tags: ['google'],
      security: [{ firebaseIdToken: [] }],
      responses: {
        '204': { description: 'Unlinked.' },
        ...BODY_ERRORS,
        ...FIREBASE_AUTH_ERRORS,
        ...SERVER_ERROR,
        ...UNAVAILABLE("Firebase's keys or the vault's database"),
      },
    },
  },
};

const ADMIN: Record<string, PathItem> = {
  '/v1/admin/revoke': {
    post: {
      operationId: 'adminRevoke',
      summary: "Revoke every session of a user (ADMIN_API_TOKEN).",
      tags: ['admin'],
      security: [{ adminToken: [] }],
      requestBody: { required: true, content: json({ type: 'object', properties: { uid: str(undefined, { minLength: 1, maxLength: 128 }) }, required: ['uid'] }) },
      responses: {
        '200': { description: 'Revoked.', content: json(object({ uid: str(), revoked: { const: true }, validSince: int('Seconds since the epoch.') })) },
        ...BODY_ERRORS,
        ...sharedSecretErrors('firebridge-admin', 'admin'),
        ...SERVER_ERROR,
      },
    },
  },
};

const PUSH: Record<string, PathItem> = {
  '/v1/push/send': {
    post: {
      operationId: 'pushSend',
      summary: 'Relay an FCM HTTP v1 message with the bridge\'s service account (PUSH_API_TOKEN).',
      tags: ['push'],
      security: [{ pushToken: [] }],
      requestBody: {
        required: true,
        content: json(object({ message: { type: 'object', description: 'An FCM v1 Message.' }, validateOnly: { type: 'boolean' } }, ['message'])),
      },
      responses: {
        '200': { description: 'FCM took it.', content: json(object({ name: str('projects/.../messages/...') })) },
        '400': errorResponse('A malformed request (`invalid_request`), or FCM refused the message (`invalid_argument`) or the token is of another project (`sender_id_mismatch`).', ['invalid_request', 'invalid_argument', 'sender_id_mismatch']),
        '404': errorResponse('FCM does not know this device token (any more): delete it.', ['unregistered']),
        '413': BODY_ERRORS['413'] as ResponseObject,
        '415': BODY_ERRORS['415'] as ResponseObject,
        ...sharedSecretErrors('firebridge-push', 'push relay'),
        '429': errorResponse("Too many failed authentications from this client IP (`too_many_requests`), or FCM's quota (`quota_exceeded`).", ['too_many_requests', 'quota_exceeded'], HEADERS.retryAfter()),
        '502': errorResponse('FCM could not take the message; retry later.', ['fcm_unavailable']),
        ...SERVER_ERROR,
      },
    },
  },
};

const METRICS: Record<string, PathItem> = {
  [METRICS_PATH]: {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics (METRICS_ENABLED, on by default).',
      description:
        "On the main port; with METRICS_PORT only on that listener (the same operation, its only route: every other path there is components.responses.NoSuchRoute, without helmet's headers or a body parser), and the main port answers 404. With METRICS_TOKEN a scrape needs `Authorization: Bearer <METRICS_TOKEN>`; failures are not throttled.",
      tags: ['metrics'],
      security: [{}, { metricsToken: [] }],
      responses: {
        '200': {
          description: 'The Prometheus text exposition format, `Content-Type: text/plain; version=0.0.4; charset=utf-8`.',
          content: { 'text/plain': { schema: str('Prometheus text format 0.0.4.') } },
        },
        ...BODY_ERRORS,
        '400': errorResponse(
          'With METRICS_TOKEN: a malformed `Authorization` header (a Bearer header without exactly one token, several headers); on the main port also a malformed body.',
          ['invalid_request'],
          HEADERS.wwwAuthenticate('firebridge-metrics', false),
        ),
        '401': errorResponse(
          'With METRICS_TOKEN: no Bearer credentials (`unauthorized`, a bare challenge) or not the scrape credential (`invalid_token`, ERR_METRICS_CREDENTIAL).',
          ['unauthorized', 'invalid_token'],
          HEADERS.wwwAuthenticate('firebridge-metrics'),
        ),
        ...SERVER_ERROR,
      },
    },
  },
};

/** The Auth Emulator's answers besides 200: its REST error (400, 500), and the app's own body-parser refusals. */
function emulatorErrors(codes: string[]): Responses {
  const restError = (status: 400 | 500, pattern: string): JsonSchema => ({
    allOf: [ref('GoogleRestError'), { type: 'object', properties: { error: { type: 'object', properties: { code: { const: status }, message: { type: 'string', pattern } } } } }],
  });
  return {
    '400': {
      description: `The emulator's refusal, \`{"error": {"code": 400, "message": "CODE : detail", "errors": [...]}}\` with CODE one of ${codes.map((c) => `\`${c}\``).join(', ')}; or the body parser's \`invalid_request\` (a body that is not valid JSON).`,
      content: json({ anyOf: [restError(400, `^(${codes.join('|')}) : `), errorResponse('', ['invalid_request']).content?.[JSON_TYPE]?.schema as JsonSchema] }),
    },
    '413': BODY_ERRORS['413'] as ResponseObject,
    '415': BODY_ERRORS['415'] as ResponseObject,
    '500': {
      description: 'A bug: the emulator\'s `INTERNAL_ERROR` (details logged), or the app\'s `server_error`.',
      content: json({ anyOf: [restError(500, '^INTERNAL_ERROR$'), SERVER_ERROR['500']?.content?.[JSON_TYPE]?.schema as JsonSchema] }),
    },
  };
}

const API_KEY: ParameterObject = { name: 'key', in: 'query', description: 'The API key the client SDKs add (any, or none, is accepted).', schema: str() };
const ID_TOKEN_REFUSALS = ['INVALID_ID_TOKEN', 'TOKEN_EXPIRED', 'USER_NOT_FOUND'];

/** Local mode's public keys, where Google publishes its own; cacheable (the only answers that are). */
function keySet(operationId: string, summary: string, schema: string): PathItem {
  return {
    get: {
      operationId,
      summary,
      tags: LOCAL_TAG,
      responses: {
        '200': {
          description: 'The key set.',
          headers: {
            'Cache-Control': {
              description: 'Cacheable for 300 s (instead of the `no-store` of every other answer).',
              required: true,
              schema: { const: 'public, max-age=300, must-revalidate, no-transform' },
            },
          },
          content: json(ref(schema)),
        },
        ...BODY_ERRORS,
        ...SERVER_ERROR,
      },
    },
  };
}

const LOCAL_TAG = ['local-mode'];
const LOCAL: Record<string, PathItem> = {
  '/local/google/id-token': {
    post: {
      operationId: 'localGoogleIdToken',
      summary: 'Local mode only: a Google ID token of a test user, signed by the emulated Google.',
      tags: LOCAL_TAG,
      requestBody: {
        content: json({
          type: 'object',
          properties: {
            email: str(undefined, { maxLength: 254 }),
            name: str(undefined, { maxLength: 200 }),
            nonce: str(undefined, { maxLength: 512 }),
            sub: str(undefined, { maxLength: 255 }),
            email_verified: { type: 'boolean' },
          },
        }),
      },
      responses: {
        '200': { description: 'The token.', content: json(object({ idToken: jwt('A Google ID token.'), expiresIn: int() })) },
        ...BODY_ERRORS,
        ...SERVER_ERROR,
      },
    },
  },
  '/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken': {
    post: {
      operationId: 'localSignInWithCustomToken',
      summary: "Local mode only: the Auth Emulator's signInWithCustomToken, for connectAuthEmulator.",
      description: "Creates the user on first sight. The custom token must be signed by local mode's service account (with its kid, or none).",
      tags: LOCAL_TAG,
      parameters: [API_KEY],
      requestBody: { required: true, content: json({ type: 'object', properties: { token: jwt('A Firebase custom token.'), returnSecureToken: { type: 'boolean' } }, required: ['token'] }) },
      responses: {
        '200': {
          description: 'Signed in (as the Auth Emulator answers: no localId; the uid is the ID token\'s `sub`).',
          content: json(
            object({
              kind: { const: 'identitytoolkit#VerifyCustomTokenResponse' },
              idToken: jwt('A Firebase ID token, with the custom token\'s claims.'),
              refreshToken: str('For POST /securetoken.googleapis.com/v1/token.', { minLength: 1 }),
              expiresIn: str('Seconds the ID token is valid ("3600").', { pattern: '^[0-9]+$' }),
              isNewUser: { type: 'boolean' },
            }),
          ),
        },
        ...emulatorErrors(['MISSING_CUSTOM_TOKEN', 'INVALID_CUSTOM_TOKEN']),
      },
    },
  },
  '/identitytoolkit.googleapis.com/v1/accounts:lookup': {
    post: {
      operationId: 'localAccountsLookup',
      summary: "Local mode only: the Auth Emulator's accounts:lookup (the SDK's reload, getIdTokenResult).",
      tags: LOCAL_TAG,
      parameters: [API_KEY],
      requestBody: { required: true, content: json({ type: 'object', properties: { idToken: jwt('A Firebase ID token local mode issued.') }, required: ['idToken'] }) },
      responses: {
        '200': {
          description: 'The user.',
          content: json(object({ kind: { const: 'identitytoolkit#GetAccountInfoResponse' }, users: { type: 'array', minItems: 1, maxItems: 1, items: ref('EmulatorUserInfo') } })),
        },
        ...emulatorErrors(ID_TOKEN_REFUSALS),
      },
    },
  },
  '/identitytoolkit.googleapis.com/v1/accounts:update': {
    post: {
      operationId: 'localAccountsUpdate',
      summary: "Local mode only: the Auth Emulator's accounts:update, as the SDK's updateProfile sends it.",
      description: 'displayName and photoUrl (null or "" deletes), deleteAttribute (DISPLAY_NAME, PHOTO_URL); with returnSecureToken a new ID token carrying `name` / `picture`, and a new refresh token. Any other field (email, password, ...) is OPERATION_NOT_ALLOWED.',
      tags: LOCAL_TAG,
      parameters: [API_KEY],
      requestBody: {
        required: true,
        content: json(
          object(
            {
              idToken: jwt('A Firebase ID token local mode issued.'),
              displayName: { type: ['string', 'null'], maxLength: 256 },
              photoUrl: { type: ['string', 'null'], maxLength: 2048 },
              deleteAttribute: { type: 'array', items: { enum: ['DISPLAY_NAME', 'PHOTO_URL'] } },
              returnSecureToken: { type: 'boolean' },
            },
            ['idToken'],
          ),
        ),
      },
      responses: {
        '200': {
          description: 'The updated profile; idToken, refreshToken and expiresIn with returnSecureToken.',
          content: json(
            object(
              {
                kind: { const: 'identitytoolkit#SetAccountInfoResponse' },
                localId: str('The uid.', { minLength: 1, maxLength: 128 }),
                displayName: str(),
                photoUrl: str(),
                emailVerified: { const: false },
                providerUserInfo: { type: 'array', maxItems: 0 },
                idToken: jwt('A new Firebase ID token with the new profile.'),
                refreshToken: str(undefined, { minLength: 1 }),
                expiresIn: str('Seconds ("3600").', { pattern: '^[0-9]+$' }),
              },
              ['kind', 'localId', 'emailVerified', 'providerUserInfo'],
              { dependentRequired: { idToken: ['refreshToken', 'expiresIn'], refreshToken: ['idToken'], expiresIn: ['idToken'] } },
            ),
          ),
        },
        ...emulatorErrors(['OPERATION_NOT_ALLOWED', 'INVALID_ARGUMENT', ...ID_TOKEN_REFUSALS]),
      },
    },
  },
  '/identitytoolkit.googleapis.com/v1/accounts:delete': {
    post: {
      operationId: 'localAccountsDelete',
      summary: "Local mode only: the Auth Emulator's accounts:delete (the SDK's deleteUser); the user's refresh tokens are refused from then on.",
      tags: LOCAL_TAG,
      parameters: [API_KEY],
      requestBody: { required: true, content: json({ type: 'object', properties: { idToken: jwt('A Firebase ID token local mode issued.') }, required: ['idToken'] }) },
      responses: {
        '200': { description: 'Deleted.', content: json(object({ kind: { const: 'identitytoolkit#DeleteAccountResponse' } })) },
        ...emulatorErrors(ID_TOKEN_REFUSALS),
      },
    },
  },
  '/securetoken.googleapis.com/v1/token': {
    post: {
      operationId: 'localSecureTokenRefresh',
      summary: 'Local mode only: securetoken\'s refresh (the SDK\'s getIdToken(true)): a refresh token in, a new Firebase ID token out.',
      tags: LOCAL_TAG,
      parameters: [API_KEY],
      requestBody: {
        required: true,
        description: 'Form-encoded, as the SDK sends it, or JSON.',
        content: Object.fromEntries(
          [FORM_TYPE, JSON_TYPE].map((type) => [
            type,
            { schema: { type: 'object', properties: { grant_type: { const: 'refresh_token' }, refresh_token: str(undefined, { minLength: 1 }) }, required: ['grant_type', 'refresh_token'] } },
          ]),
        ),
      },
      responses: {
        '200': {
          description: 'A new ID token (twice: access_token and id_token); the same refresh token.',
          content: json(
            object({
              access_token: jwt('The Firebase ID token.'),
              expires_in: str('Seconds ("3600").', { pattern: '^[0-9]+$' }),
              token_type: { const: 'Bearer' },
              refresh_token: str(undefined, { minLength: 1 }),
              id_token: jwt('The Firebase ID token.'),
              user_id: str('The uid.', { minLength: 1, maxLength: 128 }),
              project_id: str(),
            }),
          ),
        },
        ...emulatorErrors(['MISSING_GRANT_TYPE', 'INVALID_GRANT_TYPE', 'MISSING_REFRESH_TOKEN', 'INVALID_REFRESH_TOKEN', 'USER_NOT_FOUND']),
      },
    },
  },
  '/oauth2/v3/certs': keySet('localGoogleJwks', "Local mode only: local \"Google\"'s ID-token keys as a JWKS (Google's path).", 'Jwks'),
  '/oauth2/v1/certs': keySet('localGooglePemCerts', "Local mode only: local \"Google\"'s ID-token keys as `{kid: certificate PEM}` (Google's path).", 'X509Map'),
  '/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com': keySet(
    'localSecureTokenX509',
    "Local mode only: the keys of local mode's Firebase ID tokens as `{kid: certificate PEM}` (FIREBASE_CERTS_URL's path).",
    'X509Map',
  ),
  '/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com': keySet(
    'localSecureTokenJwks',
    "Local mode only: the keys of local mode's Firebase ID tokens as a JWKS.",
    'Jwks',
  ),
  '/local/fcm/messages': {
    get: {
      operationId: 'localFcmMessages',
      summary: "Local mode only: what local mode's fake FCM received, newest last.",
      tags: LOCAL_TAG,
      responses: {
        '200': {
          description: 'The messages.',
          content: json(
            object({
              messages: {
                type: 'array',
                items: object(
                  { name: str(), message: { type: 'object' }, validate_only: { const: true }, sentAt: str(undefined, { format: 'date-time' }) },
                  ['name', 'message', 'sentAt'],
                ),
              },
            }),
          ),
        },
        ...BODY_ERRORS,
        ...SERVER_ERROR,
      },
    },
  },
};

const HTML_TYPE = 'text/html';
/** A built file of the playground, or 404 while it is not built. */
function playgroundAsset(operationId: string, what: string, type: string): PathItem {
  return {
    get: {
      operationId,
      summary: `Local mode only: the playground's ${what} (built by npm run build into dist/playground/).`,
      tags: LOCAL_TAG,
      responses: {
        '200': { description: `The ${what}, \`${type}; charset=utf-8\`.`, content: { [type]: { schema: str() } } },
        ...BODY_ERRORS,
        '404': errorResponse('The playground is not built: run npm run build.', ['not_found']),
        ...SERVER_ERROR,
      },
    },
  };
}

const PLAYGROUND: Record<string, PathItem> = {
  '/': {
    get: {
      operationId: 'localPlayground',
      summary: 'Local mode only: the playground page (sign in as a test user, exchange, call /v1/me with the Firebase JS SDK).',
      description: "Under helmet's CSP (`script-src 'self'`): the page has no inline script.",
      tags: LOCAL_TAG,
      responses: {
        '200': { description: 'The page, `text/html; charset=utf-8`.', content: { [HTML_TYPE]: { schema: str() } } },
        ...BODY_ERRORS,
        ...SERVER_ERROR,
        '503': { description: 'The playground is not built: a page saying to run npm run build.', content: { [HTML_TYPE]: { schema: str() } } },
      },
    },
  },
  '/playground/playground.js': playgroundAsset('localPlaygroundScript', 'script', 'text/javascript'),
  '/playground/playground.css': playgroundAsset('localPlaygroundStyles', 'style sheet', 'text/css'),
};

/**
 * A route group mounted only when `when`: otherwise its paths answer 404 not_found like any unknown path (to any
 * method), so each operation's 404 also carries `not_found`, and the path item says so (`x-mounted-only-when`).
 */
function mountedOnlyWhen(when: string, group: Record<string, PathItem>): Record<string, PathItem> {
  for (const item of Object.values(group)) {
    item['x-mounted-only-when'] = when;
    for (const operation of Object.values(item) as unknown[]) {
      if (typeof operation !== 'object' || operation === null) continue;
      const { responses } = operation as OperationObject;
      const existing = responses['404'];
      const description = `Not mounted (${when} only): no such route.`;
      if (existing === undefined) {
        responses['404'] = errorResponse(description, ['not_found']);
        continue;
      }
      const parts = (existing.content?.[JSON_TYPE]?.schema.allOf ?? []) as JsonSchema[];
      const errorEnum = ((parts[1]?.properties as Record<string, JsonSchema> | undefined)?.error?.enum ?? []) as string[];
      if (!errorEnum.includes('not_found')) errorEnum.push('not_found');
      existing.description = `${existing.description} Also: ${description}`;
    }
  }
  return group;
}

/** Every route group. Add a group here (and its tag to TAGS). */
const PATHS: Record<string, PathItem> = {
  ...HEALTH,
  ...DOCUMENT,
  ...EXCHANGE,
  ...ME,
  ...AUTHZ,
  ...mountedOnlyWhen('DEVICE_SIGN_IN=true, or local mode', DEVICE),
  ...mountedOnlyWhen('GOOGLE_OAUTH_CLIENT_ID set', GOOGLE),
  ...mountedOnlyWhen('ADMIN_API_TOKEN set', ADMIN),
  ...mountedOnlyWhen('PUSH_API_TOKEN set', PUSH),
  ...mountedOnlyWhen('METRICS_ENABLED=true, the default, and no METRICS_PORT', METRICS),
  ...mountedOnlyWhen('local mode', LOCAL),
  ...mountedOnlyWhen('local mode', PLAYGROUND),
};

const TAGS = [
  { name: 'exchange', description: 'Google ID token in, Firebase custom token out.' },
  { name: 'protected', description: 'Routes that take a Firebase ID token.' },
  { name: 'forward-auth', description: 'For reverse proxies in front of any app.' },
  { name: 'device', description: 'Device sign-in with a pushed one-time code (DEVICE_SIGN_IN=true).' },
  { name: 'google', description: 'Acting for the user on Google APIs (GOOGLE_OAUTH_CLIENT_ID).' },
  { name: 'admin', description: 'Mounted only when ADMIN_API_TOKEN is set.' },
  { name: 'push', description: 'Mounted only when PUSH_API_TOKEN is set.' },
  { name: 'health', description: 'Probes.' },
  { name: 'metrics', description: 'Prometheus metrics (METRICS_ENABLED; METRICS_PORT moves them to their own listener).' },
  { name: 'meta', description: 'This document.' },
  { name: 'local-mode', description: 'Mounted only in local mode (no FIREBASE_PROJECT_ID / GOOGLE_CLIENT_IDS).' },
];

/**
 * Answers no single path describes: an unknown path (`NoSuchRoute`, 404) and a known path with a method it does not take
 * (`MethodNotAllowed`, 405 with Allow). Paths match exactly: case-sensitive, a trailing slash is another path.
 */
const SHARED_RESPONSES: Record<string, ResponseObject> = {
  /** Node's HTTP server answers these itself, on any path, before the app sees the request (no body). */
  RequestHeaderFieldsTooLarge: { description: "431 from Node's HTTP server: the request's headers are over its 16 KiB limit." },
  MalformedRequest: { description: "400 from Node's HTTP parser: a request it cannot parse (no body, no content type)." },
  RequestTimeout: { description: "408 from Node's HTTP server: headers or body slower than HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS." },
  NoSuchRoute: errorResponse('No such route.', ['not_found']),
  /** The CORS middleware answers before routing, on any path: no operation lists OPTIONS for it. */
  CorsPreflight: {
    description:
      '204 to a CORS preflight (OPTIONS with Access-Control-Request-Method) from an allowed Origin (CORS_ORIGINS; local mode also http://localhost:* and http://127.0.0.1:*), on any path but forward-auth (/v1/authz answers proxies: an OPTIONS there gets its verdict), before routing; no body. A preflight from any other origin goes on to the route like any OPTIONS request (404, 405).',
    headers: {
      'Access-Control-Allow-Origin': { description: 'The request\'s Origin, or `*` for CORS_ORIGINS=* (local mode only).', required: true, schema: str(undefined, { minLength: 1 }) },
      'Access-Control-Allow-Methods': { description: 'The methods a page may use.', required: true, schema: { const: CORS_ALLOWED_METHODS.join(', ') } },
      'Access-Control-Allow-Headers': { description: "The bridge's request headers and the Firebase JS SDK's.", required: true, schema: { const: CORS_ALLOWED_HEADERS.join(', ') } },
      'Access-Control-Max-Age': { description: 'Seconds a browser may cache the answer.', required: true, schema: { const: String(CORS_MAX_AGE_SECONDS) } },
      Vary: { description: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers.', required: true, schema: str(undefined, { pattern: 'Origin' }) },
    },
  },
  MethodNotAllowed: errorResponse('The path exists, not for this method.', ['method_not_allowed'], {
    Allow: { description: 'The methods the path takes (a GET route takes HEAD too).', required: true, schema: str() },
  }),
};

/** The document (a fresh copy each call: nothing shared to mutate). */
export function openApiDocument(version = '0.1.0'): OpenApiDocument {
  const document: OpenApiDocument = {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'firebridge',
      version,
      description:
        'Self-hosted auth bridge: Google ID token in, Firebase custom token out; Firebase ID tokens verified on protected routes. Every error is `{"error", "error_description"}` (components.schemas.Error); an unknown path answers components.responses.NoSuchRoute (404), a known path with another method components.responses.MethodNotAllowed (405 with Allow). Every response carries `Cache-Control: no-store` (local mode\'s key sets excepted) and helmet\'s security headers. With CORS on (CORS_ORIGINS; local mode\'s loopback origins), an answer to an allowed Origin carries `Access-Control-Allow-Origin` and `Access-Control-Expose-Headers: ' + CORS_EXPOSED_HEADERS.join(', ') + '` (and `Vary: Origin` to any), and its preflight is components.responses.CorsPreflight (204) on any path but /v1/authz (forward-auth answers proxies, never with CORS). Optional route groups exist only when their setting is (see each tag).',
    },
    tags: TAGS,
    paths: PATHS,
    components: {
      schemas: SCHEMAS,
      responses: SHARED_RESPONSES,
      securitySchemes: {
        firebaseIdToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A Firebase ID token.' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'AUTHZ_COOKIE_NAME', description: 'Forward-auth: the Firebase ID token in the cookie AUTHZ_COOKIE_NAME names.' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_API_TOKEN.' },
        pushToken: { type: 'http', scheme: 'bearer', description: 'PUSH_API_TOKEN.' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN (GET /metrics, when set).' },
      },
    },
  };
  return JSON.parse(JSON.stringify(document)) as OpenApiDocument;
}
