import { unsafeSettingsCheck } from '../../src/doctor/unsafe-settings';
import { type DoctorFakes, runCheck, startDoctorFakes } from '../../testkit/doctor';

/**
 * FIREBASE_AUTH_EMULATOR_HOST makes the server accept unsigned (alg none) Firebase ID tokens: anyone who reaches it
 * can write one for any uid. It is refused only with NODE_ENV=production, and configured mode listens on 0.0.0.0 by
 * default, so a staging box with the setting left in serves forged identities to its whole network. doctor says so.
 */
describe('doctor unsafe settings: FIREBASE_AUTH_EMULATOR_HOST', () => {
  let fakes: DoctorFakes;
  beforeAll(async () => {
    fakes = await startDoctorFakes();
  });
  afterAll(() => fakes.close());

  it.each(['0.0.0.0', '::', '10.0.0.5', '203.0.113.10', 'bridge.internal'])('on HOST=%s (not loopback): ✗', async (host) => {
    const verdict = await runCheck(unsafeSettingsCheck, fakes.env({ FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099', HOST: host }));
    expect(verdict.status).toBe('error');
    expect(verdict.message).toContain('FIREBASE_AUTH_EMULATOR_HOST');
    expect(verdict.message).toContain(`HOST=${host}`);
    expect(verdict.fix).toContain('FIREBASE_AUTH_EMULATOR_HOST');
  });

  it('the default HOST of configured mode (every interface): ✗', async () => {
    const env = fakes.env({ FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099' });
    delete env.HOST;
    expect((await runCheck(unsafeSettingsCheck, env)).status).toBe('error');
  });

  it('on loopback: ⚠ (fine for development, never on a server users reach)', async () => {
    const verdict = await runCheck(unsafeSettingsCheck, fakes.env({ FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099', HOST: '127.0.0.1' }));
    expect(verdict.status).toBe('warn');
    expect(verdict.message).toContain('unsigned');
  });

  it('unset: nothing said', async () => {
    expect((await runCheck(unsafeSettingsCheck, fakes.env({ HOST: '127.0.0.1' }))).status).toBe('ok');
  });
});
