@file:JvmName("RedsyncFactory")

package io.redsync.coroutines

import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.SslOptions
import io.lettuce.core.api.StatefulRedisConnection
import io.lettuce.core.resource.ClientResources
import io.redsync.LockOptions
import io.redsync.Redsync
import io.redsync.RedsyncListener
import io.redsync.spi.LockNode
import kotlin.contracts.ExperimentalContracts
import kotlin.contracts.InvocationKind
import kotlin.contracts.contract
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toJavaDuration

/**
 * Builds a redsync instance over [nodes] plus the nodes added in [configure], in that order (node indices
 * in exceptions follow it), and returns its coroutine view, whose members suspend:
 *
 * ```
 * import io.redsync.coroutines.CoroutineRedsync
 *
 * CoroutineRedsync(listOf("redis://10.0.0.1", "redis://10.0.0.2", "redis://10.0.0.3")) {
 *     keyPrefix = "billing:locks:"
 *     defaults { expiry = 10.seconds }
 * }.use { redsync ->
 *     redsync.withLock("invoice:42") { lease -> ... }
 * }
 *
 * // Over the Lettuce connections the application already has (never closed by redsync):
 * val redsync = CoroutineRedsync { connections.forEach { node(it) } }
 * ```
 *
 * Named after the type it returns, not `Redsync`: an IDE completing `Redsync(` would import the Java
 * interface `io.redsync.Redsync`, which has no constructor. [CoroutineRedsync.asJava] gives the blocking
 * and `CompletableFuture` API of the same instance.
 *
 * Connects to nothing yet: connections are made lazily, one multiplexed connection per node. The
 * instance closes what it created (clients and connections for URIs, connections on a given client),
 * never what it was given.
 *
 * @param nodes one URI per node: `redis://[[user]:password@]host[:port][/db]` or `rediss://...`
 * @param configure adds nodes and sets the key prefix and default options
 * @return the instance's coroutine view; close it (`use { }`) when done
 * @throws IllegalArgumentException if there are no nodes, a URI is malformed, two entries name the same
 *         node, or the default options are invalid
 * @since 0.1.0
 */
@OptIn(ExperimentalContracts::class)
public fun CoroutineRedsync(nodes: List<String> = emptyList(), configure: RedsyncConfig.() -> Unit = {}): CoroutineRedsync {
    contract { callsInPlace(configure, InvocationKind.EXACTLY_ONCE) }
    return RedsyncConfig(nodes).apply(configure).build().coroutines()
}

/**
 * The receiver of the [CoroutineRedsync] factory: nodes, key prefix and default lock options, passed on to
 * [Redsync.Builder].
 *
 * @since 0.1.0
 */
@RedsyncDsl
public class RedsyncConfig internal constructor(nodes: List<String>) {
    private val builder: Redsync.Builder = Redsync.builder().uris(nodes)

    /**
     * Put before every lock name to form its Redis key, e.g. `"billing:locks:"` (default empty).
     *
     * @since 0.1.0
     */
    public var keyPrefix: String = ""
        set(newValue) {
            builder.keyPrefix(newValue)
            field = newValue
        }

    /**
     * The options used when none are given (default [LockOptions.defaults]).
     *
     * @since 0.1.0
     */
    public var defaults: LockOptions = LockOptions.defaults()
        set(newValue) {
            builder.defaults(newValue)
            field = newValue
        }

    /**
     * Changes the default options with the [lockOptions] DSL, starting from the current ones:
     * `defaults { expiry = 10.seconds; keepAlive { interval = 2.seconds } }`.
     *
     * @param configure sets the values that differ
     * @throws IllegalArgumentException as [lockOptions]
     * @since 0.1.0
     */
    @OptIn(ExperimentalContracts::class)
    public fun defaults(configure: LockOptionsBuilder.() -> Unit) {
        contract { callsInPlace(configure, InvocationKind.EXACTLY_ONCE) }
        defaults = defaults.copy(configure)
    }

    /**
     * Adds a node by URI; the instance will own its client and connection.
     *
     * @param uri `redis://[[user]:password@]host[:port][/db]`, `rediss://...` for TLS, or `redis-socket:///path`
     * @since 0.1.0
     */
    public fun uri(uri: String) {
        builder.uri(uri)
    }

    /**
     * How the `rediss://` nodes added by [uri] verify the server and present themselves over TLS, e.g. a CA
     * certificate the JVM does not trust by default:
     * `sslOptions(SslOptions.builder().trustManager(File("/etc/redis/ca.crt")).build())`. Without it the JVM's
     * default trust store is used. See [Redsync.Builder.sslOptions].
     *
     * @param options Lettuce's TLS settings
     * @throws IllegalArgumentException when the instance is built without any `rediss://` node
     * @since 0.1.0
     */
    public fun sslOptions(options: SslOptions) {
        builder.sslOptions(options)
    }

    /**
     * The application's Lettuce resources (event loops, DNS, event bus, metrics, tracing) for the client the
     * instance makes for the nodes added by URI, instead of the library's shared ones. They stay the application's:
     * closing the instance never shuts them down. See [Redsync.Builder.clientResources].
     *
     * @param resources the resources, shut down by the application after the instance is closed
     * @throws IllegalArgumentException when the instance is built without any node given by URI
     * @since 0.1.0
     */
    public fun clientResources(resources: ClientResources) {
        builder.clientResources(resources)
    }

    /**
     * How long connecting to a node may take, and how long a lock call waits for nodes still connecting before
     * its first attempt starts (default 5 seconds). See [Redsync.Builder.connectTimeout].
     *
     * @since 0.1.0
     */
    public var connectTimeout: kotlin.time.Duration = 5.seconds
        set(newValue) {
            require(newValue.isPositive()) { "connectTimeout must be positive, was $newValue; e.g. 5.seconds" }
            builder.connectTimeout(newValue.toJavaDuration())
            field = newValue
        }

    /**
     * Adds a node reached through the application's Lettuce [client], which stays the application's: the
     * instance makes and closes one connection on it, and never shuts the client down.
     *
     * @param client the client
     * @param uri the node's address
     * @since 0.1.0
     */
    public fun node(client: RedisClient, uri: RedisURI) {
        builder.node(client, uri)
    }

    /**
     * Adds a node over the application's open [connection], used as is (multiplexed with its other
     * commands) and never closed by the instance.
     *
     * @param connection a connection with String keys and values
     * @since 0.1.0
     */
    public fun node(connection: StatefulRedisConnection<String, String>) {
        builder.node(connection)
    }

    /**
     * Adds a node of any implementation, e.g. a wrapper for tracing or fault injection; it is closed with
     * the instance.
     *
     * @param node the node
     * @since 0.1.0
     */
    public fun node(node: LockNode) {
        builder.node(node)
    }

    /**
     * Adds a listener told what the locks do (lock calls and their outcomes, releases, extensions, lost leases,
     * node commands), e.g. `redsync-micrometer`'s meters: `listener(RedsyncMetrics(meterRegistry))`. See
     * [Redsync.Builder.listener].
     *
     * @param listener the listener; listeners are called in the order added
     * @since 0.1.0
     */
    public fun listener(listener: RedsyncListener) {
        builder.listener(listener)
    }

    internal fun build(): Redsync = builder.build()
}
