@file:JvmName("RedsyncPlugin")

package io.redsync.ktor

import io.ktor.http.HttpStatusCode
import io.ktor.server.application.Application
import io.ktor.server.application.ApplicationCall
import io.ktor.server.application.ApplicationPlugin
import io.ktor.server.application.ApplicationStopped
import io.ktor.server.application.createApplicationPlugin
import io.ktor.util.AttributeKey
import io.redsync.Lease
import io.redsync.LockOptions
import io.redsync.coroutines.withLock
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.DisposableHandle
import org.slf4j.LoggerFactory
import kotlin.contracts.ExperimentalContracts
import kotlin.contracts.InvocationKind
import kotlin.contracts.contract

// Naming: the plugin is `Redsync`, as Ktor names its plugins after what they bring (`RateLimit`,
// `Sessions`), and as DESIGN.md writes `install(Redsync)`. It does not clash with the interface
// io.redsync.Redsync: in expression position (`install(Redsync)`) only this value applies, since the Java
// interface has no companion object, and in type position only the interface does. A file may import
// both, and the coroutines factory `Redsync(nodes) { }` (a function) too; RedsyncImportsSpec compiles
// exactly that. A separate `RedsyncPlugin` name with an alias would give two names for one thing.

/**
 * The Ktor application plugin for redsync. It builds one [io.redsync.Redsync] when installed, keeps it in
 * [Application.attributes] (see [Application.redsync] and [ApplicationCall.redsync]), and closes it when
 * the application stops ([ApplicationStopped]), releasing its connections and release subscriptions.
 *
 * ```
 * install(Redsync) {
 *     nodes = listOf("redis://10.0.0.1", "redis://10.0.0.2", "redis://10.0.0.3")
 *     keyPrefix = "shop:locks:"
 *     defaults { expiry = 10.seconds }
 *     busyStatus = HttpStatusCode.Locked   // 423 instead of the default 409
 * }
 * routing {
 *     withLock({ call -> "order:${call.parameters["id"]}" }) {
 *         post("/orders/{id}/pay") { ... }   // one at a time per order, across all instances
 *     }
 *     get("/report") {
 *         call.withLock("report") { lease -> ... }
 *     }
 * }
 * ```
 *
 * Or configured entirely from the `redsync` section of `application.conf` / `application.yaml`, read
 * through the application's environment config:
 *
 * ```
 * redsync {
 *     nodes = ["redis://10.0.0.1", "redis://10.0.0.2", "redis://10.0.0.3"]
 *     keyPrefix = "shop:locks:"
 *     expiry = "10s"
 *     tries = 32
 *     busyStatus = 423
 * }
 * ```
 *
 * **Precedence**, lowest first: the built-in defaults ([LockOptions.defaults], status 409), then the
 * `redsync` config section, then the `install(Redsync) { }` block. A value in the block replaces the
 * config's (`nodes = ...` replaces the whole list; `defaults { }` starts from the options the config
 * produced and changes only what it sets). See [RedsyncPluginConfig] for every key.
 *
 * **Failures at installation**, each naming the config key: no nodes, a malformed node URI, a value
 * that is not a duration / number / boolean, an unknown key in the section, an out-of-range value
 * (the options' own check, prefixed with the key). Nothing is connected at installation: the first lock
 * call connects, so an unreachable node is reported by that call.
 *
 * @since 0.1.0
 */
public val Redsync: ApplicationPlugin<RedsyncPluginConfig> =
    createApplicationPlugin("Redsync", CONFIG_SECTION, ::RedsyncPluginConfig) {
        val state = pluginConfig.build()
        application.attributes.put(RedsyncState.Key, state)
        var subscription: DisposableHandle? = null
        subscription = application.monitor.subscribe(ApplicationStopped) { stopped ->
            // Closed once the application has stopped, so no call still holds a lease from it; close()
            // releases the connections and the shared release-notification subscriptions.
            stopped.attributes.remove(RedsyncState.Key)
            subscription?.dispose()
            try {
                state.redsync.close()
            } catch (e: RuntimeException) {
                log.warn("closing Redsync on application stop failed: {}", e.toString())
            }
        }
    }

/**
 * The [io.redsync.Redsync] built by the [Redsync] plugin, shared by the whole application; use it for any
 * redsync call, e.g. `application.redsync.withLock("nightly") { ... }` or
 * `application.redsync.mutex("invoice:42")`. Do not close it: the plugin closes it when the application
 * stops.
 *
 * @throws IllegalStateException if the [Redsync] plugin is not installed (or the application stopped)
 * @since 0.1.0
 */
public val Application.redsync: io.redsync.Redsync
    get() = RedsyncState.of(this).redsync

/**
 * The application's [io.redsync.Redsync]; see [Application.redsync].
 *
 * @throws IllegalStateException if the [Redsync] plugin is not installed
 * @since 0.1.0
 */
public val ApplicationCall.redsync: io.redsync.Redsync
    get() = application.redsync

/**
 * Acquires the lock [name] (suspending, never blocking a thread), runs [block] holding it, and releases
 * it on every exit path; the lease is kept alive meanwhile. Shortcut for
 * `application.redsync.withLock(name, options, block)` with the semantics of
 * [io.redsync.coroutines.withLock]:
 *
 * ```
 * post("/invoices/{id}/pay") {
 *     val id = call.parameters["id"]!!
 *     val receipt = call.withLock("invoice:$id") { lease -> billing.charge(id, fence = lease.fencingToken()) }
 *     call.respond(receipt)
 * }
 * ```
 *
 * **Cancellation.** The handler runs in the call's coroutine, so whatever cancels the call cancels this:
 * while waiting for the lock, the lock future is cancelled, retries stop and the nodes the attempt in
 * flight had acquired are released (bounded by [LockOptions.nodeTimeout]); while [block] runs, it is
 * cancelled and the lease released once it has finished. The call's [kotlinx.coroutines.CancellationException]
 * is thrown unchanged. A client that disconnects cancels the call only where the engine and Ktor's
 * `HttpRequestLifecycle { cancelCallOnClose = true }` plugin do so (Netty and CIO); elsewhere the handler
 * runs on until it responds.
 *
 * **Loss of the lease** (the keep-alive could not extend it): [block] is cancelled before the validity
 * deadline, and [io.redsync.LeaseLostException] is thrown once it has finished.
 *
 * @param name the lock name, non-blank; the key is the plugin's `keyPrefix` + [name]
 * @param options the options; the plugin's defaults when omitted
 * @param block the work, given the lease
 * @return what [block] returned
 * @throws IllegalStateException if the [Redsync] plugin is not installed
 * @throws io.redsync.LeaseLostException if the lease was lost while [block] ran
 * @throws io.redsync.LockTakenException if another owner still held the lock when the tries ran out
 * @throws io.redsync.LockAcquisitionException if all attempts failed otherwise (node errors attached)
 * @since 0.1.0
 */
@OptIn(ExperimentalContracts::class)
public suspend fun <T> ApplicationCall.withLock(
    name: String,
    options: LockOptions = redsync.defaults(),
    block: suspend CoroutineScope.(lease: Lease) -> T,
): T {
    contract { callsInPlace(block, InvocationKind.EXACTLY_ONCE) }
    return application.redsync.withLock(name, options, block)
}

/** What the plugin leaves in the application's attributes for the guards and the accessors. */
internal class RedsyncState(val redsync: io.redsync.Redsync, val busyStatus: HttpStatusCode) {
    companion object {
        val Key: AttributeKey<RedsyncState> = AttributeKey("io.redsync.ktor.Redsync")

        fun of(application: Application): RedsyncState = application.attributes.getOrNull(Key) ?: throw IllegalStateException(
            "the Redsync plugin is not installed in this application (or the application has stopped): " +
                "install(Redsync) { nodes = listOf(\"redis://...\") } in the application module first",
        )
    }
}

private val log = LoggerFactory.getLogger("io.redsync.ktor.Redsync")
