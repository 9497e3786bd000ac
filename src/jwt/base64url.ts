const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Strict base64url decode: rejects padding, '+', '/', whitespace and impossible lengths. */
export function decodeBase64Url(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return undefined;
  return Buffer.from(segment, 'base64url');
}

export function encodeBase64Url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}
