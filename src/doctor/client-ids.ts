import { type DoctorCheck, type Verdict, notApplicable, ok, warn } from './check';

/** What Google's OAuth client IDs look like: `<project number>-<id>.apps.googleusercontent.com`. */
export const OAUTH_CLIENT_ID = /^\d+-[A-Za-z0-9]+\.apps\.googleusercontent\.com$/;

/**
 * GOOGLE_CLIENT_IDS (and GOOGLE_AZP_ALLOWLIST, GOOGLE_OAUTH_CLIENT_ID) look like OAuth client IDs. The
 * server accepts any string, so a typo, a project ID or a pasted secret only shows as every exchange
 * being refused with a wrong audience.
 */
export const clientIdsCheck: DoctorCheck = {
  id: 'client-ids',
  name: 'OAuth client IDs',
  async run({ config }): Promise<Verdict> {
    if (config.mode === 'local') return notApplicable('local mode: the emulated Google\'s own client ID');
    const settings: Array<[string, readonly string[]]> = [
      ['GOOGLE_CLIENT_IDS', config.googleClientIds],
      ['GOOGLE_AZP_ALLOWLIST', config.hardening.signInPolicy.azpAllowlist ?? []],
      ['GOOGLE_OAUTH_CLIENT_ID', config.vault ? [config.vault.clientId] : []],
    ];
    const odd = settings.flatMap(([name, ids]) => ids.filter((id) => !OAUTH_CLIENT_ID.test(id)).map((id) => `${name} "${id}"`));
    if (odd.length > 0) {
      return warn(
        `not shaped like an OAuth client ID (<digits>-<id>.apps.googleusercontent.com): ${odd.join(', ')}`,
        'copy the client IDs from Google Cloud console → APIs & Services → Credentials (Android and iOS apps use the web client ID)',
      );
    }
    const count = config.googleClientIds.length;
    return ok(`${count} client ID${count === 1 ? '' : 's'} in GOOGLE_CLIENT_IDS, each shaped like an OAuth client ID`);
  },
};
