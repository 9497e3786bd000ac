import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GoogleApiError, GoogleCredentialsError } from '../../src/errors';
import { callGoogleJson } from '../../src/google/client';
import { ApplicationDefaultCredentials } from '../../src/google/credentials';
import { ServiceAccountTokenSource } from '../../src/google/service-account-tokens';
import { parseServiceAccountKey } from '../../src/keys/service-account-key';
import { FakeGoogle } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { manualClock } from '../../testkit/harness';
import { listenOnLoopback } from '../../testkit/loopback-server';

/** Every credential type through google-auth-library, on a fetch that reaches only the fakes (and counts). */
describe('Google credentials on google-auth-library', () => {
  let fake: FakeGoogle;
  let iam: FakeIam;
  let dir: string;
  const fetched: string[] = [];
  const countingFetch: typeof fetch = (input, init) => {
    fetched.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    return globalThis.fetch(input, init);
  };
  beforeAll(async () => {
    fake = await FakeGoogle.start();
    iam = await FakeIam.start(fake);
    dir = mkdtempSync(path.join(tmpdir(), 'firebridge-creds-'));
  });
  afterAll(async () => {
    await iam.close();
    await fake.close();
  });
  beforeEach(() => {
    fetched.length = 0;
    iam.requests.length = 0;
    iam.failing = {};
  });

  const write = (name: string, doc: unknown): string => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
    return file;
  };
  const adc = (credentialsFile: string, clock = manualClock()) =>
    new ApplicationDefaultCredentials({
      config: { credentialsFile, tokenUrl: iam.tokenUrl, metadataHost: iam.metadataHost, timeoutMs: 2000, iamCredentialsUrl: iam.url },
      fetch: countingFetch,
      clock,
    });

  describe('external_account (workload identity federation), file-sourced subject token', () => {
    const audience = '//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/ci-pool/providers/github';
    const externalAccount = (subjectFile: string) => ({
      type: 'external_account',
      audience,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: iam.stsUrl,
      credential_source: { file: subjectFile },
    });

    it('exchanges the subject token at the STS for an access token, through the injected fetch', async () => {
      const subject = `oidc-subject-${Date.now()}`;
      iam.subjectTokens.set(subject, audience);
      const subjectFile = path.join(dir, 'subject-token');
      writeFileSync(subjectFile, subject);
      const credentials = adc(write('external.json', externalAccount(subjectFile)));
      expect(credentials.describe()).toMatch(/^external_account from /);

      const token = await credentials.getAccessToken();
      expect(token).toBe(iam.issuedTokens.at(-1));
      const exchange = iam.requests.find((r) => r.path === '/sts/v1/token')!;
      const form = new URLSearchParams(exchange.body);
      expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:token-exchange');
      expect(form.get('subject_token')).toBe(subject);
      expect(form.get('audience')).toBe(audience);
      expect(form.get('scope')).toBe('https://www.googleapis.com/auth/cloud-platform');
      expect(fetched).toEqual([iam.stsUrl]);

      // Cached: a second caller gets the same token without another exchange.
      expect(await credentials.getAccessToken()).toBe(token);
      expect(iam.requests.filter((r) => r.path === '/sts/v1/token')).toHaveLength(1);
    });

    it('a subject token the STS refuses is an error naming the exchange and its reason', async () => {
      const subjectFile = path.join(dir, 'stale-subject-token');
      writeFileSync(subjectFile, 'not-registered');
      const credentials = adc(write('external-stale.json', externalAccount(subjectFile)));
      const failure = credentials.getAccessToken();
      await expect(failure).rejects.toBeInstanceOf(GoogleApiError);
      await expect(failure).rejects.toThrow(/^STS token exchange: HTTP 400 \(The subject token is not valid for this audience\.\)$/);
    });
  });

  describe('impersonated_service_account', () => {
    const target = 'bridge-signer@fb-test-project.iam.gserviceaccount.com';
    const impersonated = () => ({
      type: 'impersonated_service_account',
      service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${target}:generateAccessToken`,
      delegates: [],
      source_credentials: {
        type: 'authorized_user',
        client_id: iam.authorizedUser.clientId,
        client_secret: iam.authorizedUser.clientSecret,
        refresh_token: iam.authorizedUser.refreshToken,
      },
    });

    it('gets a token for the target account with the source credentials, at IAM_CREDENTIALS_API_URL', async () => {
      const credentials = adc(write('impersonated.json', impersonated()));
      const token = await credentials.getAccessToken();
      expect(iam.impersonatedTokens.get(target)).toEqual([token]);
      const [refresh, generate] = iam.requests;
      expect(refresh).toMatchObject({ method: 'POST', path: '/token' });
      expect(new URLSearchParams(refresh!.body).get('grant_type')).toBe('refresh_token');
      expect(generate).toMatchObject({ method: 'POST', path: `/v1/projects/-/serviceAccounts/${target}:generateAccessToken` });
      // The source's own token authorized the impersonation call.
      expect(generate!.authorization).toBe(`Bearer ${iam.issuedTokens.at(-2)}`);
      expect(JSON.parse(generate!.body)).toMatchObject({ scope: ['https://www.googleapis.com/auth/cloud-platform'], lifetime: '3600s' });
      expect(fetched).toEqual([iam.tokenUrl, `${iam.url}/v1/projects/-/serviceAccounts/${target}:generateAccessToken`]);
      expect(await credentials.accountEmail()).toBe(target);
    });

    it('refuses an impersonation file without a usable URL, naming the file', () => {
      const doc = { ...impersonated(), service_account_impersonation_url: 'https://example.com/nothing' };
      const file = write('impersonated-bad.json', doc);
      expect(() => adc(file).describe()).toThrow(GoogleCredentialsError);
      expect(() => adc(file).describe()).toThrow(/impersonated-bad\.json: an impersonated_service_account file needs/);
    });
  });

  it('refuses an unknown credential type, naming it', () => {
    const file = write('weird.json', { type: 'gdch_service_account' });
    expect(() => adc(file).describe()).toThrow(/credentials of type "gdch_service_account" are not supported/);
  });

  it('service_account: the JWT-bearer grant goes to GOOGLE_TOKEN_URL; the assertion is audience-bound to Google\'s token endpoint', async () => {
    const account = fake.createServiceAccount(fake.projectId, 'adc-sa');
    iam.addKey(account.clientEmail, account.key);
    const credentials = adc(write('sa.json', account.json));
    expect(await credentials.getAccessToken()).toBe(iam.issuedTokens.at(-1));
    expect(fetched).toEqual([iam.tokenUrl]);
    expect(iam.assertionKids.at(-1)).toBe(account.key.kid);
  });

  it('the signing account\'s token source follows a key rotation: the next token is signed by the new key', async () => {
    const first = fake.createServiceAccount(fake.projectId, 'rotating');
    const second = fake.createServiceAccount(fake.projectId, 'rotating');
    iam.addKey(first.clientEmail, first.key);
    iam.addKey(second.clientEmail, second.key);
    const keys = [first, second].map((a) => parseServiceAccountKey(JSON.stringify(a.json), 'key.json'));
    let current = keys[0];
    const tokens = new ServiceAccountTokenSource({ currentKey: () => current, tokenUrl: iam.tokenUrl, fetch: countingFetch, clock: manualClock(), timeoutMs: 2000 });
    const a = await tokens.getAccessToken();
    expect(await tokens.getAccessToken()).toBe(a); // cached
    expect(iam.assertionKids.at(-1)).toBe(first.key.kid);
    current = keys[1];
    const b = await tokens.getAccessToken();
    expect(b).not.toBe(a);
    expect(iam.assertionKids.at(-1)).toBe(second.key.kid);
    expect(iam.requests.filter((r) => r.path === '/token')).toHaveLength(2);
  });

  it('a token request is one attempt: gaxios never retries it by itself', async () => {
    iam.failing.token = 503;
    const account = fake.createServiceAccount(fake.projectId, 'no-retry');
    iam.addKey(account.clientEmail, account.key);
    await expect(adc(write('sa-503.json', account.json)).getAccessToken()).rejects.toThrow(/^OAuth token endpoint: HTTP 503/);
    expect(iam.requests.filter((r) => r.path === '/token')).toHaveLength(1);
  });

  it('follows no redirect: a token endpoint answering 302 is a failure, and the redirect target is never asked', async () => {
    const target = `${iam.url}/token`;
    const redirecting = await redirectServer(target);
    try {
      const account = fake.createServiceAccount(fake.projectId, 'redirect');
      iam.addKey(account.clientEmail, account.key);
      const credentials = new ApplicationDefaultCredentials({
        config: { credentialsFile: write('sa-redirect.json', account.json), tokenUrl: redirecting.url, metadataHost: iam.metadataHost, timeoutMs: 2000 },
        fetch: countingFetch,
        clock: manualClock(),
      });
      await expect(credentials.getAccessToken()).rejects.toBeInstanceOf(GoogleApiError);
      expect(iam.requests.filter((r) => r.path === '/token')).toHaveLength(0);
      expect(redirecting.hits()).toBe(1);
    } finally {
      await redirecting.close();
    }
  });
});

/** A server on 127.0.0.1 that answers every request with a 302 to `location`, and counts them. */
async function redirectServer(location: string): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = await listenOnLoopback((_req, res) => {
    count += 1;
    res.writeHead(302, { location }).end();
  });
  return { url: `${server.url}/token`, hits: () => count, close: () => server.close() };
}

describe('callGoogleJson follows no redirect', () => {
  it('a 302 from a Google API is a GoogleApiError, and the target is never called', async () => {
    let targetHits = 0;
    const target = await listenOnLoopback((_req, res) => {
      targetHits += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const redirecting = await redirectServer(`${target.url}/v1/x`);
    try {
      await expect(callGoogleJson(globalThis.fetch, 'test call', redirecting.url, { method: 'POST' }, 2000)).rejects.toThrow(
        /^test call: request to http:\/\/127\.0\.0\.1:\d+ failed$/,
      );
      expect(targetHits).toBe(0);
    } finally {
      await Promise.all([target.close(), redirecting.close()]);
    }
  });
});
