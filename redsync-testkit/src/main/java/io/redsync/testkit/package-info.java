/**
 * Real {@code redis-server} processes for tests: start N independent nodes on free loopback ports, then
 * kill, stop, restart, pause and resume them to exercise a client under failure.
 *
 * <p>Entry point: {@link io.redsync.testkit.RedisNodes}. The testkit talks to Redis through its own tiny
 * blocking RESP2 client, so it depends on no Redis client library and any client can be tested with it.
 *
 * @since 0.1.0
 */
package io.redsync.testkit;
