import { isIP } from 'node:net';
import { ConfigError } from '../errors';
import { type Env, str } from './parse';

/**
 * FIREBASE_AUTH_EMULATOR_HOST: the official Firebase Auth Emulator (firebase-tools), as firebase-admin
 * uses it. Set (host:port, e.g. 127.0.0.1:9099), the configured server accepts the emulator's unsigned
 * (`alg: none`) Firebase ID tokens for FIREBASE_PROJECT_ID (every claim still checked), which may then
 * be a demo- project; mints unsigned custom tokens, as firebase-admin's EmulatedSigner does; and sends
 * CHECK_REVOKED lookups and admin revokes to the emulator's Identity Toolkit with the bearer `owner`.
 * Never with NODE_ENV=production, never in local mode (which is its own emulator).
 */
export interface AuthEmulatorSettings {
  /** host:port as set. */
  host: string;
  /** Base of the emulator's Identity Toolkit: http://<host>/identitytoolkit.googleapis.com (firebase-admin's URL). */
  identityToolkitUrl: string;
}

/** The variable firebase-admin and the Firebase CLI use: the same name, so one shell serves both. */
export const AUTH_EMULATOR_HOST_SETTING = 'FIREBASE_AUTH_EMULATOR_HOST';

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)):(\d{1,5})$/;

/** host:port (a name, an IPv4 address, or an IPv6 address in brackets), as firebase-admin reads it. */
function hostPort(raw: string): string {
  const match = HOST_PORT.exec(raw);
  const port = Number(match?.[3]);
  if (!match || (match[1] !== undefined && isIP(match[1]) !== 6) || port < 1 || port > 65535) {
    throw new ConfigError(
      AUTH_EMULATOR_HOST_SETTING,
      `must be host:port of the Auth Emulator, e.g. 127.0.0.1:9099 (no scheme, no path), got "${raw}"`,
    );
  }
  return raw;
}

/**
 * The Auth Emulator settings, or undefined when FIREBASE_AUTH_EMULATOR_HOST is unset. Throws a
 * ConfigError naming the setting when it is set where it must not be: with NODE_ENV=production
 * (unsigned tokens would sign anyone in as anyone), or in local mode (local mode is its own emulator).
 */
export function authEmulatorSettings(env: Env, mode: { local: boolean; production: boolean }): AuthEmulatorSettings | undefined {
  if (env[AUTH_EMULATOR_HOST_SETTING] === undefined) return undefined;
  const raw = str(env, AUTH_EMULATOR_HOST_SETTING);
  if (raw === undefined) throw new ConfigError(AUTH_EMULATOR_HOST_SETTING, 'is set but empty (unset it, or give host:port, e.g. 127.0.0.1:9099)');
  if (mode.production) {
    throw new ConfigError(
      AUTH_EMULATOR_HOST_SETTING,
      'must not be set with NODE_ENV=production: the Auth Emulator\'s ID tokens are unsigned, so accepting them would let ' +
        'anyone sign in as anyone. It is for local development only; unset it in production',
    );
  }
  if (mode.local) {
    throw new ConfigError(
      AUTH_EMULATOR_HOST_SETTING,
      'is not used in local mode: local mode is its own Auth Emulator (point the SDK\'s connectAuthEmulator at this server). ' +
        'To run the bridge with the official emulator, set FIREBASE_PROJECT_ID (a demo- project will do) and GOOGLE_CLIENT_IDS; ' +
        'otherwise unset it',
    );
  }
  const host = hostPort(raw);
  return { host, identityToolkitUrl: `http://${host}/identitytoolkit.googleapis.com` };
}
