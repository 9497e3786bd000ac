import { InvalidRequestError, MissingCredentialsError } from '../errors';

/** A b64token (RFC 6750 §2.1): the only shape a bearer token can have. */
export const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The bearer token of an Authorization header (RFC 6750 §2.1; the scheme is case-insensitive).
 * No header, or another scheme: MissingCredentialsError (401 with a bare challenge).
 * A Bearer header without exactly one token: InvalidRequestError.
 */
export function bearerToken(header: string | string[] | undefined): string {
  if (header === undefined || header === '') throw new MissingCredentialsError('a Bearer token is required');
  if (Array.isArray(header)) throw new InvalidRequestError('several Authorization headers');
  // credentials = auth-scheme [ 1*SP token68 ] (RFC 7235): only spaces separate the two.
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') throw new MissingCredentialsError('a Bearer token is required');
  const token = space < 0 ? '' : header.slice(space + 1).replace(/^ +/, '');
  if (!BEARER_TOKEN.test(token)) {
    throw new InvalidRequestError('the Authorization header must be "Bearer <token>"');
  }
  return token;
}
