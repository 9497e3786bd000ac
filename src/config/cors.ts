import { ConfigError } from '../errors';
import { type Env, list } from './parse';

/**
 * CORS_ORIGINS: the web origins a browser may call the bridge from (src/http/cors.ts applies them). Exact origins
 * only (`scheme://host[:port]`, as a browser sends them in `Origin`); none by default. `*` (any origin) only in
 * local mode. Local mode also allows `http://localhost:<any port>` and `http://127.0.0.1:<any port>`, so a web app
 * on a dev server can use it.
 */
export interface CorsSettings {
  /** Allowed origins, exactly as a browser sends them. */
  origins: readonly string[];
  /** `*`: any origin (local mode only). */
  anyOrigin: boolean;
  /** Local mode: `http://localhost:<port>` and `http://127.0.0.1:<port>` for any port. */
  loopbackAnyPort: boolean;
}

/** `raw` as an origin (`https://app.example.com`, `http://localhost:5173`), or a ConfigError naming CORS_ORIGINS. */
function checkOrigin(raw: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== raw) {
    throw new ConfigError(
      'CORS_ORIGINS',
      `"${raw}" is not an origin: write it as a browser sends it, scheme://host[:port] in lowercase with no path or ` +
        'trailing slash (e.g. https://app.example.com, http://localhost:5173)',
    );
  }
  return raw;
}

export function corsSettings(env: Env, local: boolean): CorsSettings {
  const entries = list(env, 'CORS_ORIGINS') ?? [];
  const anyOrigin = entries.includes('*');
  if (anyOrigin && !local) {
    throw new ConfigError('CORS_ORIGINS', '"*" (any origin) is allowed only in local mode; list the origins of your web apps');
  }
  return {
    origins: entries.filter((entry) => entry !== '*').map(checkOrigin),
    anyOrigin,
    loopbackAnyPort: local,
  };
}
