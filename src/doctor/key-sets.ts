import type { Config } from '../config';
import { HttpKeySetSource } from '../jwt/key-set-source';
import { type DoctorCheck, type Verdict, fail, notApplicable, ok, reasonOf, warn } from './check';

/**
 * A key-set URL answers, as the server fetches it (src/jwt/key-set-source.ts: timeout, no redirect, capped
 * body), with at least one usable RS256 key and a Cache-Control max-age (without one the server's cache
 * can only refetch every CERTS_REFETCH_COOLDOWN_MS).
 */
function keySetCheck(id: string, setting: string, urlOf: (config: Config) => string): DoctorCheck {
  return {
    id,
    name: `key set (${setting})`,
    async run({ config, fetch }): Promise<Verdict> {
      if (config.mode === 'local') return notApplicable('local mode: the emulated Google\'s keys');
      const url = urlOf(config);
      const fix = `check ${setting} (unset it for Google's) and the network path to it`;
      let loaded;
      try {
        loaded = await new HttpKeySetSource(url, { fetch, timeoutMs: config.certsFetchTimeoutMs }).load();
      } catch (err) {
        return fail(`${url}: ${reasonOf(err)}`, fix);
      }
      const keys = `${loaded.keys.size} usable key${loaded.keys.size === 1 ? '' : 's'}`;
      if (loaded.maxAgeMs === undefined) {
        return warn(`${url}: ${keys}, but no Cache-Control max-age: the key cache cannot know how long they hold`, `${fix}; Google's own URL sends one`);
      }
      if (loaded.maxAgeMs === 0) {
        return warn(`${url}: ${keys}, but Cache-Control forbids caching (or max-age is used up by Age)`, `${fix}; Google's own URL allows caching for hours`);
      }
      return ok(`${url}: ${keys}, cacheable for ${Math.round(loaded.maxAgeMs / 1000)} s`);
    },
  };
}

export const googleKeySetCheck = keySetCheck('google-key-set', 'GOOGLE_CERTS_URL', (config) => config.googleCertsUrl);
export const firebaseKeySetCheck = keySetCheck('firebase-key-set', 'FIREBASE_CERTS_URL', (config) => config.firebaseCertsUrl);
