import type { JsonObject } from '../jwt/decode';
import type { PublishedKey } from './local-google';

/** Where Google publishes the key sets local mode publishes too (the same paths, on local mode's origin). */
export const GOOGLE_JWKS_PATH = '/oauth2/v3/certs';
export const GOOGLE_PEM_CERTS_PATH = '/oauth2/v1/certs';
export const SECURETOKEN_X509_PATH = '/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com';
export const SECURETOKEN_JWKS_PATH = '/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com';

/**
 * How long verifiers may cache local mode's key sets. Shorter than Google's (hours): local keys change only when
 * the state folder is deleted, and then a verifier should notice within minutes.
 */
export const KEY_SET_MAX_AGE_SECONDS = 300;

/** A JWKS (RFC 7517) of the keys, as Google's oauth2/v3/certs. */
export function jwks(keys: readonly PublishedKey[]): JsonObject {
  return {
    keys: keys.map(({ kid, publicKey }) => ({ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' })),
  };
}

/** `{kid: PEM certificate}`, as Google's oauth2/v1/certs and securetoken x509 map. */
export function x509Map(keys: readonly PublishedKey[]): JsonObject {
  return Object.fromEntries(keys.map(({ kid, certificate }) => [kid, certificate]));
}
