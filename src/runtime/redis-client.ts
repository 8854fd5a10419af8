// One Redis connection of the pipeline: a single server (ioredis Redis), or,
// with LBCHECK_REDIS_CLUSTER=1, a Redis Cluster reached through the node that
// REDIS_URL names (ioredis Cluster discovers the others). Every lbcheck key and
// BullMQ key carries the prefix's {hash tag}, so each script and transaction
// touches one slot.
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface ClientOptions {
  enableOfflineQueue?: boolean;
  maxRetriesPerRequest?: number | null;
  retryStrategy?: (times: number) => number | null;
  connectTimeout?: number;
  lazyConnect?: boolean;
}

/** Credentials, database and TLS from a redis:// or rediss:// URL, for the cluster's per-node connections. */
// Typed as the three options it sets: the whole RedisOptions carries `replyMapping?: … | undefined`, which the
// Cluster constructor's reply-mapping overload does not accept under exactOptionalPropertyTypes.
function nodeOptions(url: URL): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  return {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export function redisClient(url: string, cluster: boolean, options: ClientOptions): RedisClient {
  if (!cluster) return new Redis(url, options);
  const u = new URL(url);
  const { enableOfflineQueue, retryStrategy, lazyConnect, ...perNode } = options;
  return new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    redisOptions: { ...nodeOptions(u), ...perNode },
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
  });
}
