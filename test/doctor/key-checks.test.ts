import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { keyActiveCheck, x509UrlRefusal } from '../../src/doctor/key-active';
import { keyAgeCheck } from '../../src/doctor/key-age';
import { keyFilesCheck } from '../../src/doctor/key-files';
import { type DoctorFakes, chmod, runCheck, startDoctorFakes } from '../../testkit/doctor';
import { keysDirWith } from '../../testkit/harness';

const DAY = 86_400_000;

/** The key checks of `npm run doctor` against the fake Google: each with the fault it looks for, and healthy. */
describe('doctor: key files, key age, key active at Google', () => {
  let fakes: DoctorFakes;
  beforeAll(async () => {
    fakes = await startDoctorFakes();
  });
  afterAll(() => fakes.close());

  const keyFileOf = (dir: string) => path.join(dir, `${fakes.account.key.kid}.json`);

  describe('key files', () => {
    it('healthy: the key parses, is 0600 and belongs to FIREBASE_PROJECT_ID', async () => {
      const verdict = await runCheck(keyFilesCheck, fakes.env());
      expect(verdict).toEqual({ status: 'ok', message: expect.stringContaining(`signing key ${fakes.account.key.kid}`) });
      expect(verdict.message).toContain('0600');
    });

    it('a key file of mode 0644: ⚠ naming the file and chmod 600', async () => {
      const dir = keysDirWith(fakes.account);
      chmod(keyFileOf(dir), 0o644);
      const verdict = await runCheck(keyFilesCheck, fakes.env({}, dir));
      expect(verdict.status).toBe('warn');
      expect(verdict.message).toContain(`${keyFileOf(dir)} is 0644`);
      expect(verdict.fix).toContain('chmod 600');
    });

    it('a key of another project: ✗ naming both projects', async () => {
      const other = fakes.google.createServiceAccount('other-project-1');
      const verdict = await runCheck(keyFilesCheck, fakes.env({}, keysDirWith(other)));
      expect(verdict.status).toBe('error');
      expect(verdict.message).toMatch(/belongs to project "other-project-1".*not FIREBASE_PROJECT_ID "fb-test-project"/);
    });

    it('every bad file is named, not only the first; the key material never is', async () => {
      const dir = keysDirWith(fakes.account);
      writeFileSync(path.join(dir, 'broken.json'), '{"type": "service_account", ', { mode: 0o600 });
      writeFileSync(path.join(dir, 'user.json'), JSON.stringify({ type: 'authorized_user' }), { mode: 0o600 });
      const verdict = await runCheck(keyFilesCheck, fakes.env({}, dir));
      expect(verdict.status).toBe('error');
      expect(verdict.message).toContain('broken.json: is not valid JSON');
      expect(verdict.message).toContain('user.json: "type" is not "service_account"');
      expect(JSON.stringify(verdict)).not.toContain('PRIVATE KEY');
    });

    it('an empty KEYS_DIR without SERVICE_ACCOUNT_EMAIL: ✗ saying how to install a key', async () => {
      const verdict = await runCheck(keyFilesCheck, fakes.env({}, keysDirWith()));
      expect(verdict.status).toBe('error');
      expect(verdict.fix).toContain('npm run keys -- rotate --from');
    });

    it('keyless mode: does not apply (✓, skipped)', async () => {
      expect(await runCheck(keyFilesCheck, fakes.keylessEnv())).toMatchObject({ status: 'ok', skipped: true });
    });
  });

  describe('signing key age', () => {
    it('healthy: a key installed today', async () => {
      const verdict = await runCheck(keyAgeCheck, fakes.env());
      expect(verdict.status).toBe('ok');
      expect(verdict.message).toMatch(/installed 0 days ago .*from the file's modification time/);
    });

    it('over 90 days by the keyring manifest: ⚠ rotate', async () => {
      const dir = keysDirWith(fakes.account);
      const kid = fakes.account.key.kid;
      const addedAt = new Date(Date.now() - 120 * DAY).toISOString();
      writeFileSync(path.join(dir, 'keyring.json'), JSON.stringify({ version: 1, active: kid, keys: { [kid]: { file: `${kid}.json`, addedAt } } }));
      const verdict = await runCheck(keyAgeCheck, fakes.env({}, dir));
      expect(verdict.status).toBe('warn');
      expect(verdict.message).toContain(`installed 120 days ago (${addedAt}, from keyring.json): over 90 days`);
      expect(verdict.fix).toContain('npm run keys -- rotate');
    });

    it('over 90 days by the file\'s mtime, on the injected clock', async () => {
      const verdict = await runCheck(keyAgeCheck, fakes.env(), { clock: () => Date.now() + 91 * DAY });
      expect(verdict.status).toBe('warn');
      expect(await runCheck(keyAgeCheck, fakes.env(), { clock: () => Date.now() + 89 * DAY })).toMatchObject({ status: 'ok' });
    });

    it('broken key files: not checked (⚠, skipped), the key files check names the fault', async () => {
      const verdict = await runCheck(keyAgeCheck, fakes.env({}, keysDirWith()));
      expect(verdict).toMatchObject({ status: 'warn', skipped: true });
    });
  });

  describe('key active at Google', () => {
    it('healthy: the kid is in the service account\'s x509 map at its client_x509_cert_url', async () => {
      fakes.google.x509Hits.length = 0;
      const verdict = await runCheck(keyActiveCheck, fakes.env());
      expect(verdict.status).toBe('ok');
      expect(fakes.google.x509Hits).toEqual([fakes.account.clientEmail]);
    });

    it('the signing key deleted in IAM (gone from the x509 map): ✗', async () => {
      const account = fakes.google.createServiceAccount(fakes.google.projectId, 'deleted-key');
      fakes.google.serviceAccounts.get(account.clientEmail)?.delete(account.key.kid);
      const verdict = await runCheck(keyActiveCheck, fakes.env({}, keysDirWith(account)));
      expect(verdict.status).toBe('error');
      expect(verdict.message).toContain(`the signing key ${account.key.kid}`);
      expect(verdict.message).toContain('Firebase refuses every custom token it signs');
    });

    it('another installed key deleted at Google (not the signing key): ⚠ retire it', async () => {
      const first = fakes.google.createServiceAccount(fakes.google.projectId, 'two-keys');
      const second = fakes.google.createServiceAccount(fakes.google.projectId, 'two-keys');
      const dir = keysDirWith(first, second);
      const entry = (kid: string) => ({ file: `${kid}.json`, addedAt: new Date().toISOString() });
      writeFileSync(
        path.join(dir, 'keyring.json'),
        JSON.stringify({ version: 1, active: first.key.kid, keys: { [first.key.kid]: entry(first.key.kid), [second.key.kid]: entry(second.key.kid) } }),
      );
      fakes.google.x509Hits.length = 0;
      expect(await runCheck(keyActiveCheck, fakes.env({}, dir))).toMatchObject({ status: 'ok', message: expect.stringContaining('all 2 keys') });
      expect(fakes.google.x509Hits).toEqual([first.clientEmail]); // one fetch for the account's two keys
      fakes.google.serviceAccounts.get(second.clientEmail)?.delete(second.key.kid);
      const verdict = await runCheck(keyActiveCheck, fakes.env({}, dir));
      expect(verdict.status).toBe('warn');
      expect(verdict.message).toContain(second.key.kid);
      expect(verdict.fix).toContain('npm run keys -- retire');
    });

    it('a service account unknown at Google (404): ✗', async () => {
      const account = fakes.google.createServiceAccount(fakes.google.projectId, 'deleted-account');
      fakes.google.serviceAccounts.delete(account.clientEmail);
      expect(await runCheck(keyActiveCheck, fakes.env({}, keysDirWith(account)))).toMatchObject({ status: 'error', message: expect.stringContaining('HTTP 404') });
    });

    it('a client_x509_cert_url elsewhere is refused, never fetched', async () => {
      let fetched = 0;
      const account = fakes.google.createServiceAccount(fakes.google.projectId, 'elsewhere');
      account.json.client_x509_cert_url = 'https://attacker.example/robot/v1/metadata/x509/x';
      const verdict = await runCheck(keyActiveCheck, fakes.env({}, keysDirWith(account)), {
        fetch: (async (...args: Parameters<typeof fetch>) => {
          fetched += 1;
          return fetch(...args);
        }) as typeof fetch,
      });
      expect(verdict.status).toBe('error');
      expect(verdict.message).toContain('is not Google\'s (https://attacker.example)');
      expect(fetched).toBe(0);
    });

    it('x509UrlRefusal: Google\'s robot path over https, or FIREBASE_CERTS_URL\'s origin; nothing else', () => {
      const config = { firebaseCertsUrl: 'https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com' };
      expect(x509UrlRefusal('https://www.googleapis.com/robot/v1/metadata/x509/a%40p.iam.gserviceaccount.com', config)).toBeUndefined();
      for (const bad of [
        'http://www.googleapis.com/robot/v1/metadata/x509/a',
        'https://www.googleapis.com:8443/robot/v1/metadata/x509/a',
        'https://www.googleapis.com.evil.example/robot/v1/metadata/x509/a',
        'https://www.googleapis.com/oauth2/v3/certs',
        'https://www.googleapis.com/robot/v1/metadata/x509/a?redirect=x',
        'http://169.254.169.254/robot/v1/metadata/x509/a',
        'not a url',
      ]) {
        expect({ bad, refused: typeof x509UrlRefusal(bad, config) }).toEqual({ bad, refused: 'string' });
      }
    });
  });
});
