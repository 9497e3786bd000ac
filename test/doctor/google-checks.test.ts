import { clientIdsCheck } from '../../src/doctor/client-ids';
import { clockSkewCheck } from '../../src/doctor/clock-skew';
import { DOCTOR_FCM_TOPIC, fcmCheck } from '../../src/doctor/fcm';
import { firebaseKeySetCheck, googleKeySetCheck } from '../../src/doctor/key-sets';
import { keylessSigningCheck } from '../../src/doctor/keyless-signing';
import { DOCTOR_CLIENT_ID, type DoctorFakes, runCheck, startDoctorFakes } from '../../testkit/doctor';

/** The Google-facing checks of `npm run doctor` against the fakes: each with the fault it looks for, and healthy. */
describe('doctor: client IDs, key sets, clock, keyless signing, FCM', () => {
  let fakes: DoctorFakes;
  beforeAll(async () => {
    fakes = await startDoctorFakes();
  });
  afterAll(() => fakes.close());
  afterEach(() => {
    const { google, iam, fcm } = fakes;
    google.google.mode = 'ok';
    google.google.maxAgeSeconds = 3600;
    google.securetoken.mode = 'ok';
    google.dateOffsetMs = 0;
    iam.failing = {};
    fcm.faults.length = 0;
    fcm.requests.length = 0;
  });

  describe('OAuth client IDs', () => {
    it('healthy: <digits>-<alnum>.apps.googleusercontent.com', async () => {
      expect(await runCheck(clientIdsCheck, fakes.env())).toMatchObject({ status: 'ok' });
    });

    it('a bad client ID (a project ID, a secret pasted): ⚠ naming the setting and the value', async () => {
      const verdict = await runCheck(clientIdsCheck, fakes.env({ GOOGLE_CLIENT_IDS: `${DOCTOR_CLIENT_ID},my-project-123`, GOOGLE_AZP_ALLOWLIST: 'GOCSPX-abc' }));
      expect(verdict.status).toBe('warn');
      expect(verdict.message).toContain('GOOGLE_CLIENT_IDS "my-project-123"');
      expect(verdict.message).toContain('GOOGLE_AZP_ALLOWLIST "GOCSPX-abc"');
      expect(verdict.message).not.toContain(DOCTOR_CLIENT_ID);
    });
  });

  describe('key sets', () => {
    it('healthy: both URLs answer usable keys with Cache-Control max-age', async () => {
      expect(await runCheck(googleKeySetCheck, fakes.env())).toMatchObject({ status: 'ok', message: expect.stringContaining('cacheable for 3600 s') });
      expect(await runCheck(firebaseKeySetCheck, fakes.env())).toMatchObject({ status: 'ok', message: expect.stringContaining('1 usable key') });
    });

    it('without Cache-Control: ⚠', async () => {
      fakes.google.google.maxAgeSeconds = undefined;
      const verdict = await runCheck(googleKeySetCheck, fakes.env());
      expect(verdict.status).toBe('warn');
      expect(verdict.message).toContain('no Cache-Control max-age');
    });

    it('an empty key set, garbage, or an outage: ✗', async () => {
      const keys = fakes.google.google.keys;
      fakes.google.google.keys = [];
      try {
        expect(await runCheck(googleKeySetCheck, fakes.env())).toMatchObject({ status: 'error', message: expect.stringContaining('no usable RS256 key') });
      } finally {
        fakes.google.google.keys = keys;
      }
      fakes.google.securetoken.mode = 'garbage';
      expect(await runCheck(firebaseKeySetCheck, fakes.env())).toMatchObject({ status: 'error', message: expect.stringContaining('not JSON') });
      fakes.google.securetoken.mode = 'fail';
      expect(await runCheck(firebaseKeySetCheck, fakes.env())).toMatchObject({ status: 'error', message: expect.stringContaining('HTTP 503') });
    });

    it('a hanging URL: ✗ after CERTS_FETCH_TIMEOUT_MS', async () => {
      fakes.google.google.mode = 'hang';
      const verdict = await runCheck(googleKeySetCheck, fakes.env({ CERTS_FETCH_TIMEOUT_MS: '200' }));
      expect(verdict).toMatchObject({ status: 'error', message: expect.stringContaining('timed out after 200 ms') });
    });
  });

  describe('clock', () => {
    it('healthy: agrees with Google\'s Date header', async () => {
      expect(await runCheck(clockSkewCheck, fakes.env())).toMatchObject({ status: 'ok' });
    });

    it('Google\'s clock 10 minutes ahead: ✗ (this clock is behind), past CLOCK_SKEW_SECONDS', async () => {
      fakes.google.dateOffsetMs = 600_000;
      const verdict = await runCheck(clockSkewCheck, fakes.env());
      expect(verdict.status).toBe('error');
      // The Date header has whole seconds: 599.x or 600.x s, whatever the millisecond of the request.
      expect(verdict.message).toMatch(/this clock is (59\d|60\d)\.\d s behind Google's \(CLOCK_SKEW_SECONDS=60\)/);
    });

    it('this (injected) clock 40 s ahead with a 60 s leeway: ⚠; with a 30 s leeway: ✗', async () => {
      const clock = () => Date.now() + 40_000;
      const warned = await runCheck(clockSkewCheck, fakes.env(), { clock });
      expect(warned.status).toBe('warn');
      expect(warned.message).toContain('ahead of Google\'s');
      expect(await runCheck(clockSkewCheck, fakes.env({ CLOCK_SKEW_SECONDS: '30' }), { clock })).toMatchObject({ status: 'error' });
    });
  });

  describe('keyless signing', () => {
    it('healthy: ADC gives an access token and signBlob signs', async () => {
      const verdict = await runCheck(keylessSigningCheck, fakes.keylessEnv());
      expect(verdict.status).toBe('ok');
      expect(verdict.message).toContain(`signs as ${fakes.account.clientEmail}`);
      expect(fakes.iam.requests.some((r) => r.path.endsWith(`${fakes.account.clientEmail}:signBlob`))).toBe(true);
    });

    it('signBlob refused: ✗ quoting IAM\'s answer, with the role to grant', async () => {
      fakes.iam.failing.signBlob = 403;
      const verdict = await runCheck(keylessSigningCheck, fakes.keylessEnv());
      expect(verdict.status).toBe('error');
      expect(verdict.message).toContain('IAM Credentials signBlob: HTTP 403');
      expect(verdict.fix).toContain('roles/iam.serviceAccountTokenCreator');
    });

    it('no access token: ✗', async () => {
      fakes.iam.failing.token = 400;
      expect(await runCheck(keylessSigningCheck, fakes.keylessEnv())).toMatchObject({ status: 'error', message: expect.stringContaining('no access token') });
    });

    it('key-file mode: does not apply', async () => {
      expect(await runCheck(keylessSigningCheck, fakes.env())).toMatchObject({ status: 'ok', skipped: true });
    });
  });

  describe('FCM', () => {
    it('healthy: FCM accepts a validate_only message to a topic (no device token), key-file and keyless', async () => {
      expect(await runCheck(fcmCheck, fakes.env())).toMatchObject({ status: 'ok', message: expect.stringContaining('fake_message_id') });
      expect(fakes.fcm.requests.map((r) => r.body)).toEqual([{ message: { topic: DOCTOR_FCM_TOPIC, data: { doctor: 'validate_only' } }, validate_only: true }]);
      expect(await runCheck(fcmCheck, fakes.keylessEnv())).toMatchObject({ status: 'ok' });
    });

    it('FCM refusing (another project\'s sender, a permission): ✗ with what to do', async () => {
      fakes.fcm.faults.push('SENDER_ID_MISMATCH');
      const verdict = await runCheck(fcmCheck, fakes.env());
      expect(verdict.status).toBe('error');
      expect(verdict.message).toContain('SENDER_ID_MISMATCH');
      expect(verdict.fix).toContain('another project');
      fakes.fcm.faults.push({ status: 503 });
      expect(await runCheck(fcmCheck, fakes.env())).toMatchObject({ status: 'error', message: expect.stringContaining('UNAVAILABLE') });
    });

    it('broken key files: not checked (⚠, skipped)', async () => {
      expect(await runCheck(fcmCheck, fakes.env({ KEYS_DIR: '/nonexistent-keys' }))).toMatchObject({ status: 'warn', skipped: true });
    });
  });
});
