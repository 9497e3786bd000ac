import path from 'node:path';
import type { ConfiguredConfig } from '../config';
import { callGoogleJson } from '../google/client';
import { readKeyFileSync } from '../keys/keyring';
import { type DoctorCheck, type Verdict, blocked, fail, notApplicable, ok, reasonOf, warn } from './check';
import { loadServerKeyring, signingSetup } from './signing-setup';

const X509_PATH = '/robot/v1/metadata/x509/';
const GOOGLE_X509_BASE = `https://www.googleapis.com${X509_PATH}`;

/**
 * Where a service account's public x509 map may be fetched from: Google's robot metadata path at
 * https://www.googleapis.com, or at the origin FIREBASE_CERTS_URL names (the same endpoint's, behind a
 * proxy, or the fake Google in tests). A key file is data someone downloaded: its URL alone must never make
 * the doctor fetch anything else. Returns why a URL is refused, or undefined.
 */
export function x509UrlRefusal(raw: string, config: Pick<ConfiguredConfig, 'firebaseCertsUrl'>): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  const google = url.protocol === 'https:' && url.hostname === 'www.googleapis.com' && url.port === '';
  const configured = url.origin === new URL(config.firebaseCertsUrl).origin;
  if (!google && !configured) return `is not Google's (${url.origin}); only https://www.googleapis.com or FIREBASE_CERTS_URL's origin is fetched`;
  if (!url.pathname.startsWith(X509_PATH) || url.search !== '' || url.username !== '' || url.password !== '') {
    return `is not a service account's x509 metadata URL (${X509_PATH}<email>)`;
  }
  return undefined;
}

/** The key file's client_x509_cert_url; without one, the account's map beside FIREBASE_CERTS_URL's (Google's by default). */
function x509UrlOf(file: string, clientEmail: string, config: ConfiguredConfig): string {
  let declared: unknown;
  try {
    declared = (JSON.parse(readKeyFileSync(file)) as Record<string, unknown>).client_x509_cert_url;
  } catch {
    declared = undefined;
  }
  if (typeof declared === 'string' && declared !== '') return declared;
  const certs = config.firebaseCertsUrl;
  const at = certs.indexOf(X509_PATH);
  const base = at >= 0 ? certs.slice(0, at + X509_PATH.length) : GOOGLE_X509_BASE;
  return `${base}${encodeURIComponent(clientEmail)}`;
}

/**
 * Each installed key is still active at Google: the service account's public x509 map (the key file's
 * client_x509_cert_url) lists its kid. A key deleted in IAM (or disabled) is missing there, and every
 * custom token it signs is refused by Firebase. The signing key missing is an error, another key a warning.
 */
export const keyActiveCheck: DoctorCheck = {
  id: 'key-active',
  name: 'key active at Google',
  async run({ config, fetch }): Promise<Verdict> {
    const setup = signingSetup(config);
    if (setup.mode === 'local') return notApplicable('local mode: no Google');
    if (setup.mode === 'keyless') return notApplicable('keyless signing: Google picks one of the account\'s own keys');
    const loaded = loadServerKeyring(setup.config);
    if ('problem' in loaded) return blocked('not checked: the key files have problems (see "key files")');
    const { keyring } = loaded;
    const cfg = setup.config;
    const entries = [keyring.active, ...keyring.entries.filter((e) => e !== keyring.active)];
    const gone: string[] = [];
    const goneOther: string[] = [];
    const problems: string[] = [];
    // Keys of one account share its map: fetched once per URL (at most one call per distinct account).
    const maps = new Map<string, Promise<Record<string, unknown>>>();
    const mapAt = (url: string, email: string) => {
      let map = maps.get(url);
      if (!map) {
        map = callGoogleJson(fetch, `x509 map of ${email}`, url, { method: 'GET', headers: { accept: 'application/json' } }, cfg.googleApis.timeoutMs);
        maps.set(url, map);
      }
      return map;
    };
    for (const entry of entries) {
      const url = x509UrlOf(path.join(keyring.dir, entry.file), entry.key.clientEmail, cfg);
      const refusal = x509UrlRefusal(url, cfg);
      if (refusal !== undefined) {
        problems.push(`${entry.file}: client_x509_cert_url ${refusal}; not fetched`);
        continue;
      }
      let map: Record<string, unknown>;
      try {
        map = await mapAt(url, entry.key.clientEmail);
      } catch (err) {
        const reason = reasonOf(err);
        if (!problems.includes(reason)) problems.push(reason);
        continue;
      }
      if (!Object.hasOwn(map, entry.kid)) (entry === keyring.active ? gone : goneOther).push(`${entry.kid} (${entry.file})`);
    }
    if (gone.length > 0) {
      return fail(
        `the signing key ${gone.join(', ')} is not among ${keyring.active.key.clientEmail}'s public keys at Google: it was deleted or disabled, and Firebase refuses every custom token it signs`,
        'install a live key: `npm run keys -- rotate --create` (or --from <file>)',
      );
    }
    if (problems.length > 0) return fail(problems.join('; '), 'check GOOGLE_API_TIMEOUT_MS and the network path to www.googleapis.com, or the key file');
    if (goneOther.length > 0) {
      return warn(`installed but deleted at Google: ${goneOther.join(', ')}`, 'retire them: `npm run keys -- retire <kid>`');
    }
    return ok(`${entries.length === 1 ? 'the signing key is' : `all ${entries.length} keys are`} listed in the service account's x509 map at Google`);
  },
};
