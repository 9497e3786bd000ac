import { type DoctorCheck, type Verdict, blocked, notApplicable, ok, warn } from './check';
import { loadServerKeyring, signingSetup } from './signing-setup';

/** Google recommends rotating service-account keys at least every 90 days. */
export const MAX_KEY_AGE_DAYS = 90;
const DAY_MS = 86_400_000;

/**
 * The signing key's age: from the keyring manifest's `addedAt` (written by `npm run keys -- rotate`),
 * else the key file's modification time (a key copied by hand). Over 90 days: rotate.
 */
export const keyAgeCheck: DoctorCheck = {
  id: 'key-age',
  name: 'signing key age',
  async run({ config, clock }): Promise<Verdict> {
    const setup = signingSetup(config);
    if (setup.mode === 'local') return notApplicable('local mode: throwaway keys');
    if (setup.mode === 'keyless') return notApplicable('keyless signing: Google holds and rotates the keys');
    const loaded = loadServerKeyring(setup.config);
    if ('problem' in loaded) return blocked('not checked: the key files have problems (see "key files")');
    const { active, manifest } = loaded.keyring;
    const source = manifest?.keys[active.kid] ? 'keyring.json' : 'the file\'s modification time';
    const days = Math.floor((clock() - Date.parse(active.addedAt)) / DAY_MS);
    const age = `signing key ${active.kid} was installed ${Math.max(0, days)} day${days === 1 ? '' : 's'} ago (${active.addedAt}, from ${source})`;
    if (days > MAX_KEY_AGE_DAYS) {
      return warn(`${age}: over ${MAX_KEY_AGE_DAYS} days`, 'rotate it: `npm run keys -- rotate --create` (or --from <new key file>), then retire the old key once no token it signed is in use');
    }
    return ok(age);
  },
};
