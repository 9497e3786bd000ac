const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Strict base64url decode: rejects padding, '+', '/', whitespace, impossible lengths, and
 * non-canonical encodings (unused low bits set in the last character), so each token has
 * exactly one spelling.
 */
export function decodeBase64Url(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) return undefined;
  return bytes;
}

export function encodeBase64Url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}
