/**
 * Domains and emails as the sign-in policy compares them: ASCII only. Unicode case folding maps
 * look-alikes onto ASCII letters ("\u212Aodak.example", with KELVIN SIGN, lower-cases to "kodak.example",
 * and IDNA mapping folds it the same way), so a value with any character outside visible ASCII never
 * matches, and only A-Z are lower-cased. An email has exactly one @: with several, "the domain" is
 * ambiguous ("a@evil.com@kodak.example").
 */

const VISIBLE_ASCII = /^[\x21-\x7E]+$/;
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/** Lower-cases A-Z and nothing else. */
export function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (letter) => String.fromCharCode(letter.charCodeAt(0) + 32));
}

/** The first character outside visible ASCII, as U+XXXX, or undefined when there is none. */
export function firstNonAscii(value: string): string | undefined {
  for (const char of value) {
    const code = char.codePointAt(0) as number;
    if (code < 0x21 || code > 0x7e) return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return undefined;
}

/** A lower-cased ASCII domain name (letters, digits, hyphens; dot-separated labels; at most 253 characters). */
export function isAsciiDomainName(value: string): boolean {
  return value.length <= 253 && DOMAIN_NAME.test(value);
}

/** A claim (`hd`) lower-cased for comparison; undefined when it is not visible ASCII (it then matches nothing). */
export function asciiIdentifier(value: string): string | undefined {
  return VISIBLE_ASCII.test(value) ? asciiLower(value) : undefined;
}

/**
 * An email lower-cased for comparison, and its domain; undefined unless it is visible ASCII with exactly one
 * @ between a non-empty name and a non-empty domain (it then matches nothing).
 */
export function asciiEmail(value: string): { email: string; domain: string } | undefined {
  if (!VISIBLE_ASCII.test(value)) return undefined;
  const at = value.indexOf('@');
  if (at <= 0 || at === value.length - 1 || value.indexOf('@', at + 1) !== -1) return undefined;
  const email = asciiLower(value);
  return { email, domain: email.slice(at + 1) };
}
