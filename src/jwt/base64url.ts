const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Strict base64url decode: rejects padding, '+', '/', whitespace, impossible lengths, and
 * non-canonical encodings (unused low bits set in the last character), so each token has
 * exactly one spelling.
 */
/** The 6-bit value of each base64url character (-1 for anything else). */
const SEXTET = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('').forEach((c, i) => (SEXTET[c.charCodeAt(0)] = i));

/**
 * Whether the last character of an unpadded base64url string of this length leaves its unused low bits zero: the
 * only way two spellings of the same bytes can differ once every character is in the alphabet and the length is
 * possible (2 characters carry 1 byte and 4 spare bits, 3 carry 2 bytes and 2 spare bits). O(1), where encoding the
 * bytes again to compare would be O(n) on every token.
 */
function canonicalTail(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 0) return true;
  const last = SEXTET[segment.charCodeAt(segment.length - 1)] as number;
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0;
}

export function decodeBase64Url(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1 || !canonicalTail(segment)) return undefined;
  return Buffer.from(segment, 'base64url');
}

export function encodeBase64Url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}
