import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LoopbackServer, listenOnLoopback } from './loopback-server';

export interface FakeUser {
  disabled?: boolean;
  /** Seconds since the epoch, as Identity Toolkit returns it (a string on the wire). */
  validSince?: number;
}

export interface RecordedCall {
  path: string;
  authorization?: string;
  body: Record<string, unknown>;
}

/**
 * A fake Identity Toolkit on 127.0.0.1: accounts:lookup and accounts:update (validSince), as
 * firebase-admin uses them. Requires a bearer token that `acceptToken` approves (e.g. one the
 * FakeIam token endpoint issued). Records every call; `failWith` makes calls fail. `pathPrefix`
 * serves it under a prefix, as the Auth Emulator does (`/identitytoolkit.googleapis.com/v1/...`).
 */
export class FakeIdentityToolkit {
  readonly users = new Map<string, FakeUser>();
  /** Users of Identity Platform tenants (projects/<p>/tenants/<t>/accounts:...), by tenant ID. */
  readonly tenantUsers = new Map<string, Map<string, FakeUser>>();
  readonly calls: RecordedCall[] = [];
  failWith: number | undefined;
  /** Never answer (until closed): a hanging Identity Toolkit. */
  hang = false;
  private constructor(
    private readonly loopback: LoopbackServer,
    readonly url: string,
    readonly projectId: string,
    private readonly acceptToken: (token: string) => boolean,
    private readonly route: RegExp,
  ) {}

  static async start(
    projectId: string,
    acceptToken: (token: string) => boolean,
    options: { pathPrefix?: string } = {},
  ): Promise<FakeIdentityToolkit> {
    let fake: FakeIdentityToolkit | undefined;
    const loopback = await listenOnLoopback((req, res) => {
      void fake?.handle(req, res);
    });
    const prefix = (options.pathPrefix ?? '').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const route = new RegExp(`^${prefix}\\/v1\\/projects\\/([^/]+)(?:\\/tenants\\/([^/]+))?\\/accounts:(lookup|update)$`);
    fake = new FakeIdentityToolkit(loopback, loopback.url, projectId, acceptToken, route);
    return fake;
  }

  callsTo(method: 'lookup' | 'update'): RecordedCall[] {
    return this.calls.filter((call) => call.path.endsWith(`accounts:${method}`));
  }

  close(): Promise<void> {
    return this.loopback.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = req.url ?? '';
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      // recorded as empty
    }
    this.calls.push({ path, authorization: req.headers.authorization, body });
    const send = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (this.hang) return;
    if (this.failWith) return void send(this.failWith, { error: { code: this.failWith, message: 'BACKEND_ERROR' } });
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !this.acceptToken(bearer)) return void send(401, { error: { code: 401, message: 'UNAUTHENTICATED' } });
    const route = this.route.exec(path);
    const tenant = route?.[2];
    const known = tenant === undefined ? this.users : (this.tenantUsers.get(tenant) ?? new Map<string, FakeUser>());
    const method = route && route[1] === this.projectId ? route[3] : undefined;
    if (req.method === 'POST' && method === 'lookup') {
      const ids = Array.isArray(body.localId) ? (body.localId as string[]) : [];
      const users = ids
        .filter((id) => known.has(id))
        .map((id) => {
          const user = known.get(id) as FakeUser;
          return { localId: id, disabled: user.disabled ?? false, validSince: user.validSince === undefined ? undefined : String(user.validSince) };
        });
      return void send(200, users.length > 0 ? { kind: 'identitytoolkit#GetAccountInfoResponse', users } : { kind: 'identitytoolkit#GetAccountInfoResponse' });
    }
    if (req.method === 'POST' && method === 'update') {
      const uid = body.localId as string;
      const user = known.get(uid);
      if (!user) return void send(400, { error: { code: 400, message: 'USER_NOT_FOUND' } });
      user.validSince = Number(body.validSince);
      return void send(200, { localId: uid });
    }
    send(404, { error: { code: 404, message: 'not found' } });
  }
}
