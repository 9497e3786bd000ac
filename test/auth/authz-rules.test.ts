import { authzRules, checkAuthz, MAX_QUERY_RULES } from '../../src/auth/authz-rules';
import { AccessDeniedError, InvalidRequestError } from '../../src/errors';

const none = { requireClaims: [], requireEmailVerified: false };
const noQuery = { claim: [], emailDomain: [] };

function refusal(claims: Record<string, unknown>, rules: ReturnType<typeof authzRules>): string | undefined {
  try {
    checkAuthz(claims, rules);
    return undefined;
  } catch (err) {
    if (!(err instanceof AccessDeniedError)) throw err;
    return err.code;
  }
}

describe('forward-auth rules (src/auth/authz-rules.ts)', () => {
  it('no rules: any verified token passes', () => {
    expect(refusal({}, authzRules(none, noQuery))).toBeUndefined();
  });

  it('a required claim must be present and true: the boolean or the string "true", nothing else', () => {
    const rules = authzRules({ ...none, requireClaims: ['admin'] }, noQuery);
    expect(refusal({ admin: true }, rules)).toBeUndefined();
    expect(refusal({ admin: 'true' }, rules)).toBeUndefined();
    for (const value of [false, 'false', 'TRUE', 'yes', 1, '1', null, {}, [true]]) {
      expect(refusal({ admin: value }, rules)).toBe('ERR_POLICY_CLAIM');
    }
    expect(refusal({}, rules)).toBe('ERR_POLICY_CLAIM');
    // Only the token's own claims: an inherited property is no claim.
    expect(refusal(Object.create({ admin: true }) as Record<string, unknown>, rules)).toBe('ERR_POLICY_CLAIM');
  });

  it('the settings\' claims and the query\'s all hold (repeated parameters and comma lists)', () => {
    const rules = authzRules({ ...none, requireClaims: ['staff'] }, { claim: ['admin,beta', 'ops'], emailDomain: [] });
    expect(rules.requireClaims).toEqual(['staff', 'admin', 'beta', 'ops']);
    expect(refusal({ staff: true, admin: true, beta: 'true', ops: true }, rules)).toBeUndefined();
    expect(refusal({ admin: true, beta: true, ops: true }, rules)).toBe('ERR_POLICY_CLAIM');
    expect(refusal({ staff: true, admin: true, beta: true }, rules)).toBe('ERR_POLICY_CLAIM');
  });

  it('email_domain: the exact domain after the single @, verified, no subdomains, ASCII only', () => {
    const rules = authzRules(none, { claim: [], emailDomain: ['Example.com'] });
    expect(refusal({ email: 'ada@example.com', email_verified: true }, rules)).toBeUndefined();
    expect(refusal({ email: 'Ada@EXAMPLE.COM', email_verified: true }, rules)).toBeUndefined();
    for (const email of [
      'ada@sub.example.com',
      'ada@example.com.evil.net',
      'ada@notexample.com',
      'ada@evil.net@example.com',
      'example.com',
      '@example.com',
      'ada@\u212Aexample.com',
      'ada@example.co',
    ]) {
      expect(refusal({ email, email_verified: true }, rules)).toBe('ERR_POLICY_EMAIL_DOMAIN');
    }
    expect(refusal({ email_verified: true }, rules)).toBe('ERR_POLICY_EMAIL_DOMAIN');
    expect(refusal({ email: ['ada@example.com'], email_verified: true }, rules)).toBe('ERR_POLICY_EMAIL_DOMAIN');
    // An unverified address proves nothing about its domain.
    expect(refusal({ email: 'ada@example.com', email_verified: false }, rules)).toBe('ERR_POLICY_EMAIL_UNVERIFIED');
    expect(refusal({ email: 'ada@example.com', email_verified: 'true' }, rules)).toBe('ERR_POLICY_EMAIL_UNVERIFIED');
  });

  it('several email_domain values: any of them admits', () => {
    const rules = authzRules(none, { claim: [], emailDomain: ['a.example', 'b.example'] });
    expect(refusal({ email: 'x@b.example', email_verified: true }, rules)).toBeUndefined();
    expect(refusal({ email: 'x@c.example', email_verified: true }, rules)).toBe('ERR_POLICY_EMAIL_DOMAIN');
  });

  it('AUTHZ_REQUIRE_EMAIL_VERIFIED: an email with email_verified exactly true', () => {
    const rules = authzRules({ ...none, requireEmailVerified: true }, noQuery);
    expect(refusal({ email: 'a@b.example', email_verified: true }, rules)).toBeUndefined();
    expect(refusal({ email: 'a@b.example', email_verified: false }, rules)).toBe('ERR_POLICY_EMAIL_UNVERIFIED');
    expect(refusal({ email: 'a@b.example' }, rules)).toBe('ERR_POLICY_EMAIL_UNVERIFIED');
    expect(refusal({ email_verified: true }, rules)).toBe('ERR_POLICY_EMAIL_UNVERIFIED');
  });

  it('a bad rule in the query is InvalidRequestError (the proxy\'s configuration), never a pass', () => {
    const bad = [
      { claim: [''], emailDomain: [] },
      { claim: ['a,,b'], emailDomain: [] },
      { claim: ['x'.repeat(65)], emailDomain: [] },
      { claim: ['r\u00f4le'], emailDomain: [] },
      { claim: [], emailDomain: ['exa mple.com'] },
      { claim: [], emailDomain: ['b\u00fccher.example'] },
      { claim: [], emailDomain: ['-bad.example'] },
      { claim: [], emailDomain: [''] },
      { claim: Array.from({ length: MAX_QUERY_RULES + 1 }, (_, i) => `c${i}`), emailDomain: [] },
    ];
    for (const query of bad) expect(() => authzRules(none, query)).toThrow(InvalidRequestError);
    expect(() => authzRules(none, { claim: Array.from({ length: MAX_QUERY_RULES }, (_, i) => `c${i}`), emailDomain: [] })).not.toThrow();
  });
});
