/**
 * Who may read the metrics: `[api] metrics_allowed_networks` (docs/metrics.md#access), a list
 * of networks (`10.0.0.0/8`, `2001:db8::/32`) or single addresses. The address checked is the
 * connection's peer, never a forwarded-for header a client could write itself.
 */
import { BlockList, isIP } from 'node:net';

export const METRICS_NETWORKS_OPTION = '[api] metrics_allowed_networks';

/** Networks → a predicate on peer addresses. Throws, naming the option, on an entry that is not a network. */
export function metricsAccess(networks: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of networks) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bad = () => new Error(`${METRICS_NETWORKS_OPTION}: "${entry}" is not an address or a network (address/prefix length)`);
    if (family === 0 || extra !== undefined) throw bad();
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const bits = Number(prefix);
    if (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) throw bad();
    list.addSubnet(address, bits, type);
  }
  return (address) => {
    if (!address) return false;
    const family = isIP(address);
    // An IPv4 peer of a dual-stack socket (::ffff:10.1.2.3) matches IPv4 networks too (BlockList knows).
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** The answer to a peer that may not read the metrics (the API's error shape, docs/api.md#errors). */
export const METRICS_FORBIDDEN = { error_message: 'Metrics are not served to this address (see [api] metrics_allowed_networks)' };

/** The default of `[api] metrics_allowed_networks`: this host only. */
export const LOOPBACK_NETWORKS: readonly string[] = ['127.0.0.0/8', '::1'];
