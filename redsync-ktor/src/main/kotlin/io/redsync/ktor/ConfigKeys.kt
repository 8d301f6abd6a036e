package io.redsync.ktor

// The one list of the `redsync` config section. The reader (RedsyncPluginConfig.kt) reads exactly these keys
// and refuses any other; RedsyncPluginConfig's KDoc tables are rendered from these lists, and ConfigKeysSpec
// fails when either drifts, or when the Java builders (Redsync.Builder, LockOptions.Builder, KeepAlive.Builder),
// the Kotlin DSL (RedsyncConfig, LockOptionsBuilder, KeepAliveBuilder) or the plugin's block gain a setting that
// neither a key nor ConfigKeys.BLOCK_ONLY accounts for (or lose one they name). Regenerate the KDoc tables with:
// mvn -pl redsync-ktor -am test -Dtest=ConfigKeysSpec -Dsurefire.failIfNoSpecifiedTests=false -Dconfig.update=true

/**
 * One key of the `redsync` section: [name] relative to the section, the [type] of its value, an [example]
 * as written in HOCON, and the [setting] it feeds, as a KDoc link target: a property or function of
 * [RedsyncPluginConfig] (`keyPrefix`, `sslOptions`: the same settings as the Kotlin DSL's `RedsyncConfig` and
 * Java's `Redsync.Builder`), a lock option (`LockOptions.expiry`: `LockOptionsBuilder` / `LockOptions.Builder`),
 * or a keep-alive value (`KeepAlive.interval`: `KeepAlive.Builder`).
 */
internal class ConfigKey(val name: String, val type: String, val example: String, val setting: String)

/**
 * The lists, in an object rather than as top-level properties, so that the API dump (which cannot tell an
 * internal top-level property's getter from a public one) leaves them out.
 */
internal object ConfigKeys {
    private const val DURATION = "duration"
    private const val BOOLEAN = "boolean"

    /** In the order the reader applies them: the values others are checked against first (see the reader). */
    val ALL: List<ConfigKey> = listOf(
        ConfigKey("nodes", "list of URIs (or one comma-separated string)", "`[\"redis://h1\", \"redis://h2\", \"redis://h3\"]`", "nodes"),
        ConfigKey("keyPrefix", "string", "`\"shop:locks:\"`", "keyPrefix"),
        ConfigKey("busyStatus", "4xx or 5xx status code", "`423`", "busyStatus"),
        ConfigKey("expiry", DURATION, "`\"10s\"`", "LockOptions.expiry"),
        ConfigKey("tries", "integer", "`32`", "LockOptions.tries"),
        ConfigKey("retryDelay.min", "$DURATION (uniform in [min, max))", "`\"50ms\"`", "LockOptions.retryDelay"),
        ConfigKey("retryDelay.max", "$DURATION (uniform in [min, max))", "`\"250ms\"`", "LockOptions.retryDelay"),
        ConfigKey("driftFactor", "number", "`0.01`", "LockOptions.driftFactor"),
        ConfigKey("timeoutFactor", "number", "`0.05`", "LockOptions.timeoutFactor"),
        ConfigKey("nodeTimeout", DURATION, "`\"200ms\"`", "LockOptions.nodeTimeout"),
        ConfigKey("acquireTimeout", DURATION, "`\"30s\"`", "LockOptions.acquireTimeout"),
        ConfigKey("failFast", BOOLEAN, "`true`", "LockOptions.failFast"),
        ConfigKey("shufflePools", BOOLEAN, "`true`", "LockOptions.shufflePools"),
        ConfigKey("releaseNotifications", BOOLEAN, "`false`", "LockOptions.releaseNotifications"),
        ConfigKey("fencing", BOOLEAN, "`true`", "LockOptions.fencing"),
        ConfigKey("setNXOnExtend", BOOLEAN, "`false`", "LockOptions.setNXOnExtend"),
        ConfigKey("keepAlive.enabled", BOOLEAN, "`false`", "KeepAlive.enabled"),
        ConfigKey("keepAlive.interval", DURATION, "`\"3s\"`", "KeepAlive.interval"),
        ConfigKey("keepAlive.lostMargin", DURATION, "`\"1s\"`", "KeepAlive.lostMargin"),
        ConfigKey("keepAlive.maxDuration", DURATION, "`\"10m\"`", "KeepAlive.maxDuration"),
        ConfigKey("keepAlive.maxExtensions", "integer", "`100`", "KeepAlive.maxExtensions"),
        ConfigKey("connectTimeout", DURATION, "`\"5s\"`", "connectTimeout"),
        ConfigKey("sslOptions.trustCertificates", "path of a PEM file of CA certificates to trust", "`\"/etc/redis/ca.crt\"`", "sslOptions"),
        ConfigKey("sslOptions.keyCertificateChain", "path of a PEM client certificate chain", "`\"/etc/redis/client.crt\"`", "sslOptions"),
        ConfigKey("sslOptions.key", "path of that chain's PEM (PKCS#8) private key", "`\"/etc/redis/client.key\"`", "sslOptions"),
        ConfigKey("sslOptions.keyPassword", "string: the key's password, if encrypted", "`\"changeit\"`", "sslOptions"),
        ConfigKey("sslOptions.handshakeTimeout", DURATION, "`\"10s\"`", "sslOptions"),
    )

    /**
     * The settings no key of their own feeds, named as [ConfigKey.setting], each with why and where it is set
     * instead: an object or a function (set in the plugin's block), or another name for a keyed setting.
     */
    val BLOCK_ONLY: List<Pair<String, String>> = listOf(
        "uri" to "one node at a time: the `nodes` key lists them",
        "uris" to "`Redsync.Builder`'s name for `nodes`",
        "node" to "a Lettuce client or connection, or a `LockNode`, is an object: `node(client, uri)`, `node(connection)`, `node(lockNode)`",
        "clientResources" to "an object (event loops, metrics, tracing): `clientResources = ...`",
        "listener" to "an object told what the locks do (e.g. redsync-micrometer's `RedsyncMetrics`): `listener(...)`",
        "defaults" to "the lock option keys (`expiry`, ...) build it; `defaults { }` changes it",
        "LockOptions.valueGenerator" to "a function: `defaults { valueGenerator = { ... } }`",
        "LockOptions.value" to "a preset owner token belongs to one lock (ownership transfer), not to every lock's defaults: `call.redsync.options { value = ... }`",
        "LockOptions.keepAlive" to "a `KeepAlive` (Java) or on/off (Kotlin): the `keepAlive.*` keys",
        "LockOptions.keepAlivePolicy" to "the Kotlin name of Java's `keepAlive(KeepAlive)`: the `keepAlive.*` keys",
    )
}
