/** base64url's alphabet; VALUE holds each ASCII character's 6-bit value, or -1. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i += 1) VALUE[ALPHABET.charCodeAt(i)] = i;

/** Whether a string is ASCII: its UTF-8 length is its length (then its latin1 bytes are its UTF-8 bytes). */
export function isAscii(text: string): boolean {
  return Buffer.byteLength(text, 'utf8') === text.length;
}

/**
 * Whether `decoded` bytes are all a segment can mean, and the segment is their one spelling: what Node's lenient
 * decoder leaves unchecked. Node's decoder takes base64's `+` and `/` (refused here), skips or stops at every other
 * character it does not know (so fewer bytes come out than the length promises: `(length * 3) >> 2`, which drops by
 * at least one for every character not decoded, whatever the length mod 4), and reads a non-ASCII code unit by its
 * low byte (refused: the UTF-8 length of an ASCII string is its length). A length of 1 mod 4 is no encoding, and the
 * last character of a short group must leave its unused low bits zero (else a second spelling of the same bytes).
 */
function canonical(segment: string, decoded: number): boolean {
  const length = segment.length;
  const rest = length & 3;
  if (rest === 1 || decoded !== (length * 3) >> 2) return false;
  if (rest !== 0) {
    const value = VALUE[segment.charCodeAt(length - 1) & 0x7f] as number;
    if (value < 0 || (value & (rest === 2 ? 0x0f : 0x03)) !== 0) return false;
  }
  return segment.indexOf('+') === -1 && segment.indexOf('/') === -1 && isAscii(segment);
}

/**
 * Strict base64url decode: rejects padding, '+', '/', whitespace, impossible lengths, non-ASCII, and non-canonical
 * encodings (unused low bits set in the last character), so each token has exactly one spelling. Node decodes; the
 * checks above refuse what its leniency would let through, without encoding the bytes again to compare (measured:
 * 2.5 vs 3.4 µs for a 11,000-character segment; BENCHMARKS.md, token size). test/jwt/key-set.test.ts holds it to
 * "decode, encode again, compare" on every substitution of the first 384 code units, far ones and surrogates.
 */
export function decodeBase64Url(segment: string): Buffer | undefined {
  const bytes = Buffer.from(segment, 'base64url');
  return canonical(segment, bytes.length) ? bytes : undefined;
}

/**
 * decodeBase64Url into `scratch` instead of a new Buffer: the number of bytes decoded, or undefined when the segment
 * is not canonical base64url (or does not fit). For bytes read at once and then let go (a token's header and
 * payload, parsed as JSON at once), so no allocation grows with the token's size (BENCHMARKS.md, token size).
 */
export function decodeBase64UrlInto(segment: string, scratch: Buffer): number | undefined {
  if ((segment.length * 3) >> 2 > scratch.length) return undefined;
  const length = scratch.write(segment, 0, scratch.length, 'base64url');
  return canonical(segment, length) ? length : undefined;
}

export function encodeBase64Url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}
