import { ConfigError } from '../errors';

/**
 * A simple strength estimate for a shared secret set by hand (ADMIN_API_TOKEN). It cannot prove a
 * secret random, but it refuses the obviously guessable: one character repeated, a short pattern
 * repeated, too few bits for its length and alphabet, or characters that repeat too much.
 */

/** The least estimated entropy, in bits, of an acceptable secret. */
export const MIN_SECRET_BITS = 128;
/** The least Shannon entropy per character: random hex averages 3.6, base64 4.9; "abcd" repeated is 2. */
export const MIN_BITS_PER_CHARACTER = 2.5;

/** Bits per character if each were drawn at random from the character classes the secret uses. */
function classBits(secret: string): number {
  let pool = 0;
  if (/[a-z]/.test(secret)) pool += 26;
  if (/[A-Z]/.test(secret)) pool += 26;
  if (/[0-9]/.test(secret)) pool += 10;
  if (/[^A-Za-z0-9]/.test(secret)) pool += 7; // - . _ ~ + / = (all a Bearer token may hold)
  return Math.log2(Math.max(pool, 1));
}

/** Shannon entropy per character of the secret's own character frequencies. */
function shannonBits(secret: string): number {
  const counts = new Map<string, number>();
  for (const ch of secret) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const length = [...secret].length;
  let bits = 0;
  for (const count of counts.values()) bits -= (count / length) * Math.log2(count / length);
  return bits;
}

/** The length of the shortest unit the secret repeats (its length when it repeats none). */
function repeatedUnit(secret: string): number {
  const n = secret.length;
  for (let unit = 1; unit <= n / 2; unit++) {
    if (n % unit === 0 && secret.slice(0, unit).repeat(n / unit) === secret) return unit;
  }
  return n;
}

/** Why the secret is too weak, or undefined when it passes the estimate. */
export function secretWeakness(secret: string): string | undefined {
  const unit = repeatedUnit(secret);
  if (unit === 1) return 'is one character repeated, which anyone can guess';
  if (unit < secret.length) return `is a ${unit}-character pattern repeated, which anyone can guess`;
  const estimate = Math.floor(secret.length * classBits(secret));
  if (estimate < MIN_SECRET_BITS) {
    return `has about ${estimate} bits of entropy by a simple estimate (length × log2 of the character classes it uses); at least ${MIN_SECRET_BITS} are needed`;
  }
  const perCharacter = shannonBits(secret);
  if (perCharacter < MIN_BITS_PER_CHARACTER) {
    return `repeats its characters too much (${perCharacter.toFixed(1)} bits of entropy per character; at least ${MIN_BITS_PER_CHARACTER} are needed)`;
  }
  return undefined;
}

/**
 * Why a shared Bearer secret set by hand (ADMIN_API_TOKEN, PUSH_API_TOKEN) is unusable, naming the
 * setting; undefined when it is fine: at least 32 characters, only what a Bearer token can hold
 * (RFC 6750 b64token: any other character could never authenticate), and past `secretWeakness`.
 */
export function bearerSecretProblem(name: string, value: string): ConfigError | undefined {
  if (value.length < 32) return new ConfigError(name, 'must be at least 32 characters (e.g. openssl rand -base64 32)');
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(value)) {
    return new ConfigError(name, 'may contain only letters, digits and - . _ ~ + / (and trailing =)');
  }
  const weakness = secretWeakness(value);
  return weakness === undefined ? undefined : new ConfigError(name, `${weakness} (generate one with e.g. openssl rand -base64 32)`);
}
