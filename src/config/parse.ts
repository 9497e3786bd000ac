import { isIP } from 'node:net';
import { ConfigError } from '../errors';

/** Small validators for environment settings. Each error names the setting. */
export type Env = Readonly<Record<string, string | undefined>>;

export function str(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  return checkInt(name, Number(raw), min, max);
}

/** A whole number within bounds: the rule of `int`, for a value given in code (library options). */
export function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value)) throw new ConfigError(name, `must be a whole number, got "${String(value)}"`);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function oneOf<T extends string>(env: Env, name: string, def: T, allowed: readonly T[]): T {
  const raw = str(env, name);
  if (raw === undefined) return def;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** An http(s) URL; plain http only for loopback hosts, so keys are never fetched in the clear. */
export function url(env: Env, name: string, def: string): string {
  return checkUrl(name, str(env, name) ?? def);
}

/** The rule of `url`, for a value given in code (library options). */
export function checkUrl(name: string, raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got "${raw}"`);
  }
  if (parsed.protocol === 'https:') return parsed.toString();
  const loopbackIp = isIP(parsed.hostname) === 4 && parsed.hostname.startsWith('127.');
  if (parsed.protocol === 'http:' && (LOOPBACK.has(parsed.hostname) || loopbackIp)) {
    return parsed.toString();
  }
  throw new ConfigError(name, `must use https (plain http is allowed only for loopback hosts), got "${raw}"`);
}

export function list(env: Env, name: string): string[] | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  const items = raw.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new ConfigError(name, 'has an empty entry (check the commas)');
  if (items.some((item) => /\s/.test(item))) throw new ConfigError(name, 'entries must not contain spaces');
  return [...new Set(items)];
}
