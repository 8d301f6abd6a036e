package io.redsync.ktor

import io.ktor.http.HttpStatusCode
import io.ktor.server.config.ApplicationConfig
import io.ktor.server.config.ApplicationConfigurationException
import io.ktor.utils.io.KtorDsl
import io.lettuce.core.resource.ClientResources
import io.redsync.KeepAlive
import io.redsync.LockOptions
import io.redsync.RedsyncListener
import io.redsync.RetryDelay
import io.redsync.coroutines.LockOptionsBuilder
import io.redsync.coroutines.RedsyncDsl
import io.redsync.coroutines.copy
import io.redsync.coroutines.coroutines
import kotlin.contracts.ExperimentalContracts
import kotlin.contracts.InvocationKind
import kotlin.contracts.contract
import kotlin.time.Duration
import kotlin.time.toJavaDuration

/** The application config section the plugin reads. */
internal const val CONFIG_SECTION: String = "redsync"

/**
 * The receiver of `install(Redsync) { }`. Each property starts with the value of the `redsync` section of
 * the application config, or the built-in default when the section does not set it; what the block sets
 * wins. Keys of the section (HOCON shown; YAML alike):
 *
 * | key | type | example | property / option |
 * |---|---|---|---|
 * | `nodes` | list of URIs (or one comma-separated string) | `["redis://h1", "redis://h2", "redis://h3"]` | [nodes] |
 * | `keyPrefix` | string | `"shop:locks:"` | [keyPrefix] |
 * | `busyStatus` | 4xx or 5xx status code | `423` | [busyStatus] |
 * | `expiry` | duration | `"10s"` | [LockOptions.expiry] |
 * | `tries` | integer | `32` | [LockOptions.tries] |
 * | `retryDelay.min`, `retryDelay.max` | durations (uniform in [min, max)) | `"50ms"`, `"250ms"` | [LockOptions.retryDelay] |
 * | `driftFactor` | number | `0.01` | [LockOptions.driftFactor] |
 * | `timeoutFactor` | number | `0.05` | [LockOptions.timeoutFactor] |
 * | `nodeTimeout` | duration | `"200ms"` | [LockOptions.nodeTimeout] |
 * | `acquireTimeout` | duration | `"30s"` | [LockOptions.acquireTimeout] |
 * | `failFast`, `shufflePools`, `releaseNotifications`, `fencing` | boolean | `true` | the option of that name |
 * | `keepAlive.enabled` | boolean | `false` | [LockOptions.keepAlive] |
 * | `keepAlive.interval`, `keepAlive.lostMargin`, `keepAlive.maxDuration` | durations | `"3s"` | [KeepAlive] |
 * | `keepAlive.maxExtensions` | integer | `100` | [KeepAlive.maxExtensions] |
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
     * here or as `redsync.nodes` in the config.
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

    /** Checks what the block left and builds the instance; nothing is connected yet. */
    internal fun build(): RedsyncState {
        if (nodes.isEmpty()) {
            throw ApplicationConfigurationException(
                "$CONFIG_SECTION.nodes is empty: give the Redis masters as $CONFIG_SECTION.nodes = " +
                    "[\"redis://host1:6379\", \"redis://host2:6379\", \"redis://host3:6379\"] in the application " +
                    "config, or nodes = listOf(...) in install(Redsync) { }",
            )
        }
        requireBusyStatus(busyStatus.value) { busyStatus.toString() }
        val redsync = try {
            io.redsync.Redsync.builder().uris(nodes).keyPrefix(keyPrefix).defaults(defaults)
                .apply { clientResources?.let { clientResources(it) } }
                .apply { listeners.forEach { listener(it) } }.build()
        } catch (e: IllegalArgumentException) {
            // The core names the node by index and masks any password in the URI.
            throw ApplicationConfigurationException("$CONFIG_SECTION.nodes: ${e.message}", e)
        }
        return RedsyncState(redsync.coroutines(), busyStatus)
    }
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
 * Reads the `redsync` section. Options are applied to one [LockOptions.Builder] in a fixed order, each
 * followed by a trial `build()`, so that an out-of-range value is reported under the key that made the
 * options invalid, with the core's own message (which names the field, value and range). The order puts
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
        nodes()?.let { target.nodes = it }
        string("keyPrefix")?.let { target.keyPrefix = it }
        int("busyStatus")?.let { code ->
            requireBusyStatus(code) { code.toString() }
            target.busyStatus = HttpStatusCode.fromValue(code)
        }
        target.defaults = options()
    }

    private fun options(): LockOptions {
        val builder = LockOptions.defaults().toBuilder()
        fun <T : Any> option(key: String, value: T?, set: LockOptions.Builder.(T) -> Unit) {
            if (value == null) return
            checked(key) {
                builder.set(value)
                builder.build()
            }
        }
        option("expiry", duration("expiry")) { expiry(it.toJavaDuration()) }
        option("driftFactor", double("driftFactor")) { driftFactor(it) }
        option("timeoutFactor", double("timeoutFactor")) { timeoutFactor(it) }
        option("nodeTimeout", duration("nodeTimeout")) { nodeTimeout(it.toJavaDuration()) }
        option("tries", int("tries")) { tries(it) }
        option("acquireTimeout", duration("acquireTimeout")) { acquireTimeout(it.toJavaDuration()) }
        option("retryDelay", retryDelay()) { retryDelay(it) }
        option("failFast", boolean("failFast")) { failFast(it) }
        option("shufflePools", boolean("shufflePools")) { shufflePools(it) }
        option("releaseNotifications", boolean("releaseNotifications")) { releaseNotifications(it) }
        option("fencing", boolean("fencing")) { fencing(it) }
        option("keepAlive", keepAlive()) { keepAlive(it) }
        return builder.build()
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

    /** Runs a check of the core and prefixes its message with the key that failed it. */
    private inline fun <T> checked(key: String, check: () -> T): T = try {
        check()
    } catch (e: IllegalArgumentException) {
        throw ApplicationConfigurationException("$CONFIG_SECTION.$key: ${e.message}", e)
    }

    private companion object {
        val KNOWN_KEYS = setOf(
            "nodes", "keyPrefix", "busyStatus", "expiry", "tries", "retryDelay.min", "retryDelay.max", "driftFactor",
            "timeoutFactor", "nodeTimeout", "acquireTimeout", "failFast", "shufflePools", "releaseNotifications", "fencing",
            "keepAlive.enabled", "keepAlive.interval", "keepAlive.lostMargin", "keepAlive.maxDuration", "keepAlive.maxExtensions",
        )
    }
}
