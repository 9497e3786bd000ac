import { type PushCliConfig, loadPushCliConfig } from '../config';
import { PushFailedError, UsageError } from '../errors';
import type { AccessTokenSource } from '../google/access-token';
import { ApplicationDefaultCredentials } from '../google/credentials';
import { FCM_SCOPE, FcmClient } from '../google/fcm';
import { ServiceAccountTokenSource } from '../google/service-account-tokens';
import { hasKeyFiles, loadKeyring } from '../keys/keyring';
import { type CliIo, oneLineReason } from './io';

export const PUSH_USAGE = [
  'usage: npm run push -- send --token <device token> --title T --body B [--data k=v]... [--dry-run]',
  '  sends one FCM HTTP v1 message with the bridge\'s service account (KEYS_DIR, or ADC when it holds no key)',
  '  --data k=v     a data pair (repeat for each); --dry-run: FCM validates the message and delivers nothing',
].join('\n');

export type PushCliIo = CliIo;

export interface PushSendArgs {
  token: string;
  title?: string;
  body?: string;
  data: Record<string, string>;
  dryRun: boolean;
}

/** `send --token T [--title T] [--body B] [--data k=v]... [--dry-run]`; throws UsageError. */
export function parsePushArgs(argv: readonly string[]): PushSendArgs {
  const [command, ...rest] = argv;
  if (command !== 'send') throw new UsageError(command === undefined ? 'no command given' : `unknown command "${command}"`);
  const parsed: Partial<PushSendArgs> & { data: Record<string, string> } = { data: {}, dryRun: false };
  for (let i = 0; i < rest.length; i++) {
    const option = rest[i] as string;
    if (option === '--dry-run') {
      parsed.dryRun = true;
      continue;
    }
    if (!['--token', '--title', '--body', '--data'].includes(option)) throw new UsageError(`unknown option ${option}`);
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${option} needs a value`);
    i += 1;
    if (option === '--data') {
      const eq = value.indexOf('=');
      if (eq <= 0) throw new UsageError(`--data needs key=value, got "${value}"`);
      const key = value.slice(0, eq);
      if (key in parsed.data) throw new UsageError(`--data ${key} is given twice`);
      parsed.data[key] = value.slice(eq + 1);
      continue;
    }
    const field = option.slice(2) as 'token' | 'title' | 'body';
    if (parsed[field] !== undefined) throw new UsageError(`${option} is given twice`);
    parsed[field] = value;
  }
  if (parsed.token === undefined) throw new UsageError('send needs --token <device token>');
  if (parsed.title === undefined && parsed.body === undefined && Object.keys(parsed.data).length === 0) {
    throw new UsageError('send needs --title/--body or --data');
  }
  return parsed as PushSendArgs;
}

/** The access tokens for FCM: the signing key of KEYS_DIR when it holds one, else Application Default Credentials. */
function tokensFor(config: PushCliConfig, io: PushCliIo): { tokens: AccessTokenSource; via: string } {
  if (hasKeyFiles(config.keysDir)) {
    const key = loadKeyring(config.keysDir, config.projectId).active.key;
    return {
      tokens: new ServiceAccountTokenSource({
        currentKey: () => key,
        tokenUrl: config.googleApis.tokenUrl,
        fetch: io.fetch,
        clock: io.clock,
        timeoutMs: config.googleApis.timeoutMs,
        scopes: [FCM_SCOPE],
      }),
      via: `${key.clientEmail} (key ${key.privateKeyId})`,
    };
  }
  const adc = new ApplicationDefaultCredentials({ config: config.googleApis, fetch: io.fetch, clock: io.clock, scopes: [FCM_SCOPE] });
  return { tokens: adc, via: `Application Default Credentials (${adc.describe()})` };
}


/** Sends one message; exit code 0 sent, 1 failed, 2 usage, 78 configuration. Never prints the device token. */
export async function runPushCli(argv: readonly string[], io: PushCliIo): Promise<number> {
  let args: PushSendArgs;
  try {
    args = parsePushArgs(argv);
  } catch (err) {
    io.stderr(`push: ${(err as Error).message}`);
    io.stderr(PUSH_USAGE);
    return 2;
  }
  let config: PushCliConfig;
  let source: { tokens: AccessTokenSource; via: string };
  try {
    config = loadPushCliConfig(io.env, io.cwd);
    source = tokensFor(config, io);
  } catch (err) {
    io.stderr(`push: invalid configuration: ${oneLineReason(err)}`);
    return 78;
  }
  const client = new FcmClient({
    tokens: source.tokens,
    fetch: io.fetch,
    clock: io.clock,
    projectId: config.projectId,
    baseUrl: config.fcm.apiUrl,
    maxRetries: config.fcm.maxRetries,
    timeoutMs: config.fcm.timeoutMs,
  });
  const notification = { ...(args.title !== undefined ? { title: args.title } : {}), ...(args.body !== undefined ? { body: args.body } : {}) };
  const message = {
    token: args.token,
    ...(Object.keys(notification).length > 0 ? { notification } : {}),
    ...(Object.keys(args.data).length > 0 ? { data: args.data } : {}),
  };
  try {
    const { name } = await client.send(message, args.dryRun ? { validateOnly: true } : undefined);
    io.stdout(`${args.dryRun ? 'validated (dry run, nothing delivered)' : 'sent'}: ${name}`);
    io.stdout(`as ${source.via}, project ${config.projectId}`);
    return 0;
  } catch (err) {
    const reason = err instanceof PushFailedError ? ` (${err.reason})` : '';
    io.stderr(`push: send failed${reason}: ${oneLineReason(err)}`);
    return 1;
  }
}
