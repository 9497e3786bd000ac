import { GoogleApiError, GoogleGrantError } from '../../src/errors';
import { GoogleOAuth } from '../../src/google/oauth';
import { FakeOAuth } from '../../testkit/fake-oauth';
import { listenOnLoopback } from '../../testkit/loopback-server';

describe('GoogleOAuth: OAuth2Client on the project transport', () => {
  let oauth: FakeOAuth;
  beforeAll(async () => {
    oauth = await FakeOAuth.start();
  });
  afterAll(() => oauth.close());

  const client = (overrides: Partial<ConstructorParameters<typeof GoogleOAuth>[0]> = {}) =>
    new GoogleOAuth({
      clientId: oauth.clientId,
      clientSecret: oauth.clientSecret,
      tokenUrl: oauth.tokenUrl,
      revokeUrl: oauth.revokeUrl,
      fetch: globalThis.fetch,
      clock: Date.now,
      timeoutMs: 2000,
      ...overrides,
    });

  it('exchanges a code at GOOGLE_TOKEN_URL with the client secret', async () => {
    const grant = await client().exchangeCode(oauth.issueCode({ sub: '42' }), 'postmessage');
    expect(grant.refreshToken).toMatch(/^1\/\/0g/);
    expect(grant.scopes).toContain('openid');
    expect(grant.idToken).toBeDefined();
    expect(oauth.redirectUris.at(-1)).toBe('postmessage');
    await expect(client({ clientSecret: 'wrong' }).exchangeCode(oauth.issueCode({ sub: '42' }), '')).rejects.toBeInstanceOf(GoogleApiError);
  });

  it('a code is sent exactly once, even when Google answers 500 (gaxios would retry a POST)', async () => {
    const code = oauth.issueCode({ sub: '42' });
    const before = oauth.exchangeHits;
    oauth.failNext = 1;
    const err = await client().exchangeCode(code, '').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoogleApiError);
    expect(err).not.toBeInstanceOf(GoogleGrantError);
    expect(oauth.exchangeHits - before).toBe(1);
  });

  it('a spent code is invalid_grant (GoogleGrantError), its text never quoted', async () => {
    const code = oauth.issueCode({ sub: '42' });
    await client().exchangeCode(code, '');
    const err = (await client().exchangeCode(code, '').catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(GoogleGrantError);
    expect(err.message).not.toContain(code);
  });

  it('follows no redirect (the code never goes elsewhere)', async () => {
    let redirected = 0;
    const target = await listenOnLoopback((_req, res) => {
      redirected += 1;
      res.end('{}');
    });
    const redirector = await listenOnLoopback((_req, res) => {
      res.writeHead(307, { location: `${target.url}/token` });
      res.end();
    });
    await expect(client({ tokenUrl: `${redirector.url}/token` }).exchangeCode('4/code', '')).rejects.toBeInstanceOf(GoogleApiError);
    expect(redirected).toBe(0);
    await Promise.all([target.close(), redirector.close()]);
  });

  it('refreshes and revokes at GOOGLE_REVOKE_URL; a revoked refresh token is invalid_grant', async () => {
    const grant = await client().exchangeCode(oauth.issueCode({ sub: '42' }), '');
    const refreshed = await client().refresh(grant.refreshToken as string);
    expect(refreshed.accessToken).toMatch(/^ya29\./);
    expect(refreshed.expiresAt).toBeGreaterThan(Date.now() + 3500_000);
    await client().revoke(grant.refreshToken as string);
    expect(oauth.refreshTokens.get(grant.refreshToken as string)?.revoked).toBe(true);
    await expect(client().refresh(grant.refreshToken as string)).rejects.toBeInstanceOf(GoogleGrantError);
  });
});
