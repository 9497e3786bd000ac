import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { LocalConfig } from '../config';
import { isLoopbackHost } from '../config/local-mode';

/** At most this many of the machine's addresses are listed for a wildcard HOST. */
const MAX_ADDRESSES = 16;

function urlOf(address: string, port: number): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * The URLs others can reach the server on: HOST itself, or for a wildcard HOST (0.0.0.0, ::) this machine's
 * non-loopback addresses (IPv4 only for 0.0.0.0).
 */
export function reachableUrls(host: string, port: number): string[] {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare !== '0.0.0.0' && bare !== '::') return [urlOf(bare, port)];
  const urls: string[] = [];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.internal || (bare === '0.0.0.0' && entry.family !== 'IPv4')) continue;
      if (urls.length < MAX_ADDRESSES) urls.push(urlOf(entry.address, port));
    }
  }
  return urls.length > 0 ? urls : [urlOf(bare, port)];
}

/**
 * Local mode on a non-loopback HOST (allowed only with LOCAL_MODE_PUBLIC=true): says loudly that a server
 * minting tokens for any identity is reachable from the network, and where.
 */
export function warnIfLocalModeIsReachable(config: LocalConfig, logger: Logger): void {
  if (isLoopbackHost(config.host)) return;
  const urls = reachableUrls(config.host, config.port);
  logger.warn(
    { mode: 'local', localModePublic: true, host: config.host, port: config.port, reachableAt: urls },
    `LOCAL MODE IS REACHABLE FROM THE NETWORK on ${config.host}:${config.port} (${urls.join(', ')}): ` +
      'anyone who can connect can mint tokens for ANY identity (LOCAL_MODE_PUBLIC=true). Use it only on a network ' +
      'you trust, and unset LOCAL_MODE_PUBLIC and HOST to keep it on 127.0.0.1.',
  );
}
