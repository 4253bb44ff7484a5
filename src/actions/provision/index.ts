/** Turning a bare machine into a working one: the provisioning actions recovery scenarios call. */
export { provisionMariadb, type ProvisionMariadbOptions, type DbRole, type MariadbPaths } from './mariadb.ts';
export { provisionRedis, type ProvisionRedisOptions, type RedisPaths } from './redis.ts';
export { provisionEdge, type ProvisionEdgeOptions } from './edge.ts';
