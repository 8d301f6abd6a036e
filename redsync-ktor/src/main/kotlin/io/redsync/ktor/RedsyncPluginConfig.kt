package io.redsync.ktor

import io.ktor.http.HttpStatusCode
import io.ktor.server.config.ApplicationConfig
import io.ktor.server.config.ApplicationConfigurationException
import io.ktor.utils.io.KtorDsl
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.SslOptions
import io.lettuce.core.api.StatefulRedisConnection
import io.lettuce.core.resource.ClientResources
import io.redsync.KeepAlive
import io.redsync.LockOptions
import io.redsync.RedsyncListener
import io.redsync.RetryDelay
import io.redsync.coroutines.CoroutineRedsync
import io.redsync.coroutines.LockOptionsBuilder
import io.redsync.coroutines.RedsyncConfig
import io.redsync.coroutines.RedsyncDsl
import io.redsync.coroutines.copy
import io.redsync.spi.LockNode
import java.io.File
import kotlin.contracts.ExperimentalContracts
import kotlin.contracts.InvocationKind
import kotlin.contracts.contract
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlin.time.toJavaDuration

/** The application config section the plugin reads. */
internal const val CONFIG_SECTION: String = "redsync"

/**
 * The receiver of `install(Redsync) { }`. Each setting starts with the value of the `redsync` section of
 * the application config, or the built-in default when the section does not set it; what the block sets
 * wins. The settings are those of the Kotlin DSL's [io.redsync.coroutines.RedsyncConfig] (and of Java's
 * [io.redsync.Redsync.Builder]), which the plugin builds its instance with, plus [nodes] and [busyStatus].
 * Keys of the section (HOCON shown; YAML alike):
 *
 * | key | type | example | sets |
 * |---|---|---|---|
 * | `nodes` | list of URIs (or one comma-separated string) | `["redis://h1", "redis://h2", "redis://h3"]` | [nodes] |
 * | `keyPrefix` | string | `"shop:locks:"` | [keyPrefix] |
 * | `busyStatus` | 4xx or 5xx status code | `423` | [busyStatus] |
 * | `expiry` | duration | `"10s"` | [LockOptions.expiry] |
 * | `tries` | integer | `32` | [LockOptions.tries] |
 * | `retryDelay.min` | duration (uniform in [min, max)) | `"50ms"` | [LockOptions.retryDelay] |
 * | `retryDelay.max` | duration (uniform in [min, max)) | `"250ms"` | [LockOptions.retryDelay] |
 * | `driftFactor` | number | `0.01` | [LockOptions.driftFactor] |
 * | `timeoutFactor` | number | `0.05` | [LockOptions.timeoutFactor] |
 * | `nodeTimeout` | duration | `"200ms"` | [LockOptions.nodeTimeout] |
 * | `acquireTimeout` | duration | `"30s"` | [LockOptions.acquireTimeout] |
 * | `failFast` | boolean | `true` | [LockOptions.failFast] |
 * | `shufflePools` | boolean | `true` | [LockOptions.shufflePools] |
 * | `releaseNotifications` | boolean | `false` | [LockOptions.releaseNotifications] |
 * | `fencing` | boolean | `true` | [LockOptions.fencing] |
 * | `setNXOnExtend` | boolean | `false` | [LockOptions.setNXOnExtend] |
 * | `keepAlive.enabled` | boolean | `false` | [KeepAlive.enabled] |
 * | `keepAlive.interval` | duration | `"3s"` | [KeepAlive.interval] |
 * | `keepAlive.lostMargin` | duration | `"1s"` | [KeepAlive.lostMargin] |
 * | `keepAlive.maxDuration` | duration | `"10m"` | [KeepAlive.maxDuration] |
 * | `keepAlive.maxExtensions` | integer | `100` | [KeepAlive.maxExtensions] |
 * | `connectTimeout` | duration | `"5s"` | [connectTimeout] |
 * | `sslOptions.trustCertificates` | path of a PEM file of CA certificates to trust | `"/etc/redis/ca.crt"` | [sslOptions] |
 * | `sslOptions.keyCertificateChain` | path of a PEM client certificate chain | `"/etc/redis/client.crt"` | [sslOptions] |
 * | `sslOptions.key` | path of that chain's PEM (PKCS#8) private key | `"/etc/redis/client.key"` | [sslOptions] |
 * | `sslOptions.keyPassword` | string: the key's password, if encrypted | `"changeit"` | [sslOptions] |
 * | `sslOptions.handshakeTimeout` | duration | `"10s"` | [sslOptions] |
 *
 * Set in the block only, or under another name:
 *
 * | setting | why |
 * |---|---|
 * | `uri` | one node at a time: the `nodes` key lists them |
 * | `uris` | `Redsync.Builder`'s name for `nodes` |
 * | `node` | a Lettuce client or connection, or a `LockNode`, is an object: `node(client, uri)`, `node(connection)`, `node(lockNode)` |
 * | `clientResources` | an object (event loops, metrics, tracing): `clientResources = ...` |
 * | `listener` | an object told what the locks do (e.g. redsync-micrometer's `RedsyncMetrics`): `listener(...)` |
 * | `defaults` | the lock option keys (`expiry`, ...) build it; `defaults { }` changes it |
 * | `LockOptions.valueGenerator` | a function: `defaults { valueGenerator = { ... } }` |
 * | `LockOptions.value` | a preset owner token belongs to one lock (ownership transfer), not to every lock's defaults: `call.redsync.options { value = ... }` |
 * | `LockOptions.keepAlive` | a `KeepAlive` (Java) or on/off (Kotlin): the `keepAlive.*` keys |
 * | `LockOptions.keepAlivePolicy` | the Kotlin name of Java's `keepAlive(KeepAlive)`: the `keepAlive.*` keys |
 *
 * Durations are Kotlin duration strings: `"10s"`, `"1500ms"`, `"1m 30s"`, or ISO-8601 `"PT10S"`. Keys are
 * read when the plugin is installed; a key the plugin does not know fails the installation, so that a
 * misspelt key is not silently ignored.
 *
 * @since 0.1.0
 */
@KtorDsl
@RedsyncDsl
public class RedsyncPluginConfig internal constructor(config: ApplicationConfig) {

    /**
     * One URI per Redis master: `redis://[[user]:password@]host[:port][/db]`, `rediss://...` for TLS, or
     * `redis-socket:///path`. Redlock wants an odd number of independent masters (3 or 5). Required,
     * here or as `redsync.nodes` in the config, unless nodes are added with [node].
     *
     * @since 0.1.0
     */
    public var nodes: List<String> = emptyList()

    /**
     * Put before every lock name to form its Redis key, e.g. `"shop:locks:"` (default empty).
     *
     * @since 0.1.0
     */
    public var keyPrefix: String = ""

    /**
     * The options used where none are given: by [ApplicationCall.withLock], by `application.redsync`'s
     * calls and as the base of every [withLock] route guard. Starts from [LockOptions.defaults] with the
     * config section's values applied.
     *
     * @since 0.1.0
     */
    public var defaults: LockOptions = LockOptions.defaults()

    /**
     * The status a [withLock] route guard answers when the lock is held by someone else: 409 Conflict
     * (default) or, for example, 423 Locked. Must be a 4xx or 5xx status.
     *
     * @since 0.1.0
     */
    public var busyStatus: HttpStatusCode = HttpStatusCode.Conflict

    /**
     * The application's Lettuce resources (event loops, DNS, event bus, metrics, tracing) for the client the plugin
     * makes for [nodes], instead of the library's shared ones; null (default) for those. They stay the
     * application's: stopping the application never shuts them down. See
     * [io.redsync.Redsync.Builder.clientResources].
     *
     * @since 0.1.0
     */
    public var clientResources: ClientResources? = null

    private val listeners = mutableListOf<RedsyncListener>()

    /**
     * How long connecting to a node may take, and how long a lock call waits for nodes still connecting before
     * its first attempt starts (default 5 seconds); positive. See [io.redsync.coroutines.RedsyncConfig.connectTimeout].
     *
     * @since 0.1.0
     */
    public var connectTimeout: Duration = 5.seconds

    /** TLS settings for the `rediss://` nodes: the config's `sslOptions.*` keys, or what [sslOptions] set. */
    private var sslOptions: SslOptions? = null

    /** The nodes added with [node], applied after [nodes] (node indices in exceptions follow that order). */
    private val nodesGiven = mutableListOf<RedsyncConfig.() -> Unit>()

    init {
        ConfigSection(config).applyTo(this)
    }

    /**
     * Adds a listener told what the locks do (lock calls and their outcomes, releases, extensions, lost leases,
     * node commands), e.g. `redsync-micrometer`'s meters with Ktor's Micrometer registry:
     * `listener(RedsyncMetrics(appMicrometerRegistry))`. See [io.redsync.Redsync.Builder.listener].
     *
     * @param listener the listener; listeners are called in the order added
     * @since 0.1.0
     */
    public fun listener(listener: RedsyncListener) {
        listeners += listener
    }

    /**
     * Changes [defaults] with the lock options DSL, starting from the current ones (so from the config
     * section's values): `defaults { expiry = 10.seconds; keepAlive { interval = 2.seconds } }`.
     *
     * @param configure sets the values that differ
     * @throws IllegalArgumentException as [io.redsync.coroutines.lockOptions], naming the option and value
     * @since 0.1.0
     */
    @OptIn(ExperimentalContracts::class)
    public fun defaults(configure: LockOptionsBuilder.() -> Unit) {
        contract { callsInPlace(configure, InvocationKind.EXACTLY_ONCE) }
        defaults = defaults.copy(configure)
    }

    /**
     * Adds a node by URI, after those already in [nodes]; the plugin's instance owns its client and connection.
     *
     * @param uri `redis://[[user]:password@]host[:port][/db]`, `rediss://...` for TLS, or `redis-socket:///path`
     * @since 0.1.0
     */
    public fun uri(uri: String) {
        nodes = nodes + uri
    }

    /**
     * How the `rediss://` [nodes] verify the server and present themselves over TLS, replacing what the
     * config's `sslOptions.*` keys set: e.g. a trust store or a `TrustManagerFactory`,
     * `sslOptions(SslOptions.builder().truststore(File("/etc/redis/truststore.p12"), "secret").build())`.
     * Without either, the JVM's default trust store is used. See [io.redsync.coroutines.RedsyncConfig.sslOptions].
     *
     * @param options Lettuce's TLS settings
     * @since 0.1.0
     */
    public fun sslOptions(options: SslOptions) {
        sslOptions = options
    }

    /**
     * Adds a node reached through the application's Lettuce [client], which stays the application's: the
     * plugin's instance makes and closes one connection on it, and never shuts the client down.
     *
     * @param client the client
     * @param uri the node's address
     * @since 0.1.0
     */
    public fun node(client: RedisClient, uri: RedisURI) {
        nodesGiven += { node(client, uri) }
    }

    /**
     * Adds a node over the application's open [connection], used as is (multiplexed with its other
     * commands) and never closed by the plugin.
     *
     * @param connection a connection with String keys and values
     * @since 0.1.0
     */
    public fun node(connection: StatefulRedisConnection<String, String>) {
        nodesGiven += { node(connection) }
    }

    /**
     * Adds a node of any implementation, e.g. a wrapper for tracing or fault injection; it is closed when the
     * application stops.
     *
     * @param node the node
     * @since 0.1.0
     */
    public fun node(node: LockNode) {
        nodesGiven += { node(node) }
    }

    /** The TLS settings read from the config; the block's [sslOptions] replaces them. */
    internal fun sslOptionsFromConfig(options: SslOptions) {
        sslOptions = options
    }

    /**
     * Checks what the block left and builds the instance with the Kotlin DSL ([CoroutineRedsync]); nothing is
     * connected yet.
     */
    internal fun build(): RedsyncState {
        if (nodes.isEmpty() && nodesGiven.isEmpty()) {
            throw ApplicationConfigurationException(
                "$CONFIG_SECTION.nodes is empty: give the Redis masters as $CONFIG_SECTION.nodes = " +
                    "[\"redis://host1:6379\", \"redis://host2:6379\", \"redis://host3:6379\"] in the application " +
                    "config, or nodes = listOf(...) in install(Redsync) { }",
            )
        }
        requireBusyStatus(busyStatus.value) { busyStatus.toString() }
        val settings = this
        val redsync = checked("nodes") {
            // The core names the node by index and masks any password in the URI.
            CoroutineRedsync(nodes) {
                keyPrefix = settings.keyPrefix
                defaults = settings.defaults
                checked("connectTimeout") { connectTimeout = settings.connectTimeout }
                settings.clientResources?.let { clientResources(it) }
                settings.sslOptions?.let { sslOptions(it) }
                settings.nodesGiven.forEach { it() }
                settings.listeners.forEach { listener(it) }
            }
        }
        return RedsyncState(redsync, busyStatus)
    }
}

/** Runs a check of the core and prefixes its message with the key that failed it. */
private inline fun <T> checked(key: String, check: () -> T): T = try {
    check()
} catch (e: ApplicationConfigurationException) {
    throw e
} catch (e: IllegalArgumentException) {
    throw ApplicationConfigurationException("$CONFIG_SECTION.$key: ${e.message}", e)
}

private fun requireBusyStatus(code: Int, shown: () -> String) {
    if (code !in 400..599) {
        throw ApplicationConfigurationException(
            "$CONFIG_SECTION.busyStatus must be a 4xx or 5xx status, was ${shown()}; " +
                "use 409 (Conflict, the default) or 423 (Locked)",
        )
    }
}

/**
 * Reads the `redsync` section: exactly the keys of [ConfigKeys.ALL], into the settings of the plugin's block,
 * which the Kotlin DSL builds the instance from. Options go through the lock options DSL ([copy]) one at a
 * time in a fixed order, each building the options, so that an out-of-range value is reported under the key
 * that made the options invalid, with the core's own message (which names the field, value and range). The order puts
 * the values others are checked against first (expiry, then the factors), so a cross-field rule is
 * reported at its dependent key, e.g. `redsync.nodeTimeout: nodeTimeout must be < expiry (PT1S), was PT2S`.
 */
private class ConfigSection(private val config: ApplicationConfig) {

    fun applyTo(target: RedsyncPluginConfig) {
        val unknown = config.keys() - KNOWN_KEYS
        if (unknown.isNotEmpty()) {
            val key = unknown.sorted().first()
            throw ApplicationConfigurationException(
                "$CONFIG_SECTION.$key: unknown key; the section knows ${KNOWN_KEYS.joinToString()}",
            )
        }
        sslOptions()?.let { target.sslOptionsFromConfig(it) }
        duration("connectTimeout")?.let { target.connectTimeout = it }
        nodes()?.let { target.nodes = it }
        string("keyPrefix")?.let { target.keyPrefix = it }
        int("busyStatus")?.let { code ->
            requireBusyStatus(code) { code.toString() }
            target.busyStatus = HttpStatusCode.fromValue(code)
        }
        target.defaults = options()
    }

    /** Each value goes through the lock options DSL ([copy]), as a `defaults { }` block would set it. */
    private fun options(): LockOptions {
        var options = LockOptions.defaults()
        fun <T : Any> option(key: String, value: T?, set: LockOptionsBuilder.(T) -> Unit) {
            if (value == null) return
            options = checked(key) { options.copy { set(value) } }
        }
        option("expiry", duration("expiry")) { expiry = it }
        option("driftFactor", double("driftFactor")) { driftFactor = it }
        option("timeoutFactor", double("timeoutFactor")) { timeoutFactor = it }
        option("nodeTimeout", duration("nodeTimeout")) { nodeTimeout = it }
        option("tries", int("tries")) { tries = it }
        option("acquireTimeout", duration("acquireTimeout")) { acquireTimeout = it }
        option("retryDelay", retryDelay()) { retryDelay = it }
        option("failFast", boolean("failFast")) { failFast = it }
        option("shufflePools", boolean("shufflePools")) { shufflePools = it }
        option("releaseNotifications", boolean("releaseNotifications")) { releaseNotifications = it }
        option("fencing", boolean("fencing")) { fencing = it }
        option("setNXOnExtend", boolean("setNXOnExtend")) { setNXOnExtend = it }
        option("keepAlive", keepAlive()) { keepAlivePolicy = it }
        return options
    }

    /** The `sslOptions.*` keys: PEM files (what a config file can name); anything else in the block. */
    private fun sslOptions(): SslOptions? {
        val trust = string("sslOptions.trustCertificates")
        val chain = string("sslOptions.keyCertificateChain")
        val key = string("sslOptions.key")
        val password = string("sslOptions.keyPassword")
        val handshake = duration("sslOptions.handshakeTimeout")
        if (trust == null && chain == null && key == null && password == null && handshake == null) return null
        val builder = SslOptions.builder()
        trust?.let { path -> builder.trustManager(file("sslOptions.trustCertificates", path)) }
        if (chain != null || key != null || password != null) {
            if (chain == null || key == null) {
                val missing = if (chain == null) "keyCertificateChain" else "key"
                throw ApplicationConfigurationException(
                    "$CONFIG_SECTION.sslOptions.$missing is missing: a client certificate needs both " +
                        "sslOptions.keyCertificateChain and sslOptions.key (PEM files), and sslOptions.keyPassword if the key is encrypted",
                )
            }
            checked("sslOptions.key") {
                builder.keyManager(file("sslOptions.keyCertificateChain", chain), file("sslOptions.key", key), password?.toCharArray())
            }
        }
        handshake?.let { checked("sslOptions.handshakeTimeout") { builder.handshakeTimeout(it.toJavaDuration()) } }
        return builder.build()
    }

    /** A file the config names, which must exist: Lettuce would only fail at the first connection. */
    private fun file(key: String, path: String): File = File(path).also {
        if (!it.isFile) {
            throw ApplicationConfigurationException("$CONFIG_SECTION.$key: no file at \"$path\" (${it.absolutePath}); give the path of a PEM file")
        }
    }

    private fun retryDelay(): RetryDelay? {
        val min = duration("retryDelay.min")
        val max = duration("retryDelay.max")
        if (min == null && max == null) return null
        if (min == null || max == null) {
            val missing = if (min == null) "min" else "max"
            throw ApplicationConfigurationException(
                "$CONFIG_SECTION.retryDelay.$missing is missing: give both retryDelay.min and retryDelay.max " +
                    "(the wait between attempts is uniform in [min, max))",
            )
        }
        return checked("retryDelay") { RetryDelay.uniform(min.toJavaDuration(), max.toJavaDuration()) }
    }

    private fun keepAlive(): KeepAlive? {
        val enabled = boolean("keepAlive.enabled")
        val interval = duration("keepAlive.interval")
        val lostMargin = duration("keepAlive.lostMargin")
        val maxDuration = duration("keepAlive.maxDuration")
        val maxExtensions = int("keepAlive.maxExtensions")
        if (enabled == null && interval == null && lostMargin == null && maxDuration == null && maxExtensions == null) {
            return null
        }
        if (enabled == false) return KeepAlive.disabled()
        val builder = KeepAlive.builder()
        interval?.let { checked("keepAlive.interval") { builder.interval(it.toJavaDuration()) } }
        lostMargin?.let { checked("keepAlive.lostMargin") { builder.lostMargin(it.toJavaDuration()) } }
        maxDuration?.let { checked("keepAlive.maxDuration") { builder.maxDuration(it.toJavaDuration()) } }
        maxExtensions?.let { checked("keepAlive.maxExtensions") { builder.maxExtensions(it) } }
        return builder.build()
    }

    private fun nodes(): List<String>? {
        val value = config.propertyOrNull("nodes") ?: return null
        // A list in HOCON/YAML; a single string is split at commas, so that `nodes = ${?REDSYNC_NODES}`
        // can come from one environment variable.
        val list = runCatching { value.getList() }.getOrNull()
            ?: value.getString().split(',')
        return list.map { it.trim() }.filter { it.isNotEmpty() }
    }

    private fun string(key: String): String? = config.propertyOrNull(key)?.let { value ->
        runCatching { value.getString() }.getOrElse {
            throw ApplicationConfigurationException("$CONFIG_SECTION.$key must be a single string, was a list", it)
        }
    }

    private fun duration(key: String): Duration? = string(key)?.let { text ->
        Duration.parseOrNull(text.trim()) ?: throw ApplicationConfigurationException(
            "$CONFIG_SECTION.$key: \"$text\" is not a duration; use e.g. \"10s\", \"1500ms\" or \"PT10S\"",
        )
    }

    private fun int(key: String): Int? = string(key)?.let { text ->
        text.trim().toIntOrNull() ?: throw ApplicationConfigurationException(
            "$CONFIG_SECTION.$key: \"$text\" is not an integer",
        )
    }

    private fun double(key: String): Double? = string(key)?.let { text ->
        text.trim().toDoubleOrNull() ?: throw ApplicationConfigurationException(
            "$CONFIG_SECTION.$key: \"$text\" is not a number",
        )
    }

    private fun boolean(key: String): Boolean? = string(key)?.let { text ->
        text.trim().toBooleanStrictOrNull() ?: throw ApplicationConfigurationException(
            "$CONFIG_SECTION.$key: \"$text\" is not a boolean; use true or false",
        )
    }

    private companion object {
        val KNOWN_KEYS: Set<String> = ConfigKeys.ALL.map { it.name }.toCollection(LinkedHashSet())
    }
}
