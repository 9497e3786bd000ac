import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import proxyaddr from 'proxy-addr';

/**
 * The client's address as express's req.ip reads it under `trust proxy` set to these proxies (TRUST_PROXY):
 * X-Forwarded-For believed only through them (proxy-addr, express's own), the socket's peer otherwise. For the
 * fast lane (src/http/fast-exchange.ts), which answers without express.
 */
export function clientIpOf(trustProxy: readonly string[]): (req: IncomingMessage) => string | undefined {
  if (trustProxy.length === 0) return (req) => req.socket.remoteAddress;
  const trust = proxyaddr.compile([...trustProxy]);
  return (req) => proxyaddr(req, trust);
}


/**
 * The rate-limit identity of a client address: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6 by
 * its /64 (one subscriber usually holds a whole /64, so per-address limits would be trivial to dodge).
 */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
