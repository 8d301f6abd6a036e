@file:JvmName("RedsyncPlugin")

package io.redsync.ktor

import io.ktor.http.HttpStatusCode
import io.ktor.server.application.Application
import io.ktor.server.application.ApplicationCall
import io.ktor.server.application.ApplicationPlugin
import io.ktor.server.application.ApplicationStopped
import io.ktor.server.application.createApplicationPlugin
import io.ktor.util.AttributeKey
import io.ktor.server.application.ApplicationCallPipeline
import io.ktor.server.application.Hook
import io.ktor.server.application.PipelineCall
import io.ktor.util.pipeline.PipelineContext
import io.ktor.util.pipeline.PipelinePhase
import io.redsync.LeaseLostException
import io.redsync.LockAcquisitionException
import io.redsync.LockOptions
import io.redsync.RedsyncException
import io.redsync.coroutines.CoroutineLease
import io.redsync.coroutines.CoroutineRedsync
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.DisposableHandle
import org.slf4j.LoggerFactory

// Naming: the plugin is `Redsync`, as Ktor names its plugins after what they bring (`RateLimit`,
// `Sessions`), and as DESIGN.md writes `install(Redsync)`. It does not clash with the interface
// io.redsync.Redsync: in expression position (`install(Redsync)`) only this value applies, since the Java
// interface has no companion object, and in type position only the interface does. A file may import
// both, and the coroutines factory `CoroutineRedsync(nodes) { }` too; ImportsSpec compiles exactly that. A separate `RedsyncPlugin` name with an alias would give two names for one thing.

/**
 * The Ktor application plugin for redsync. It builds one redsync instance when installed, keeps it in
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
        on(AnsweredByWithLock) {
            try {
                proceed()
            } catch (answered: CallAnswered) {
                finish() // call.withLock answered the call (busy, 503) and ended its handler
            }
        }
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
 * The redsync instance built by the [Redsync] plugin, shared by the whole application, in its coroutine
 * view (members suspend); use it for any redsync call, e.g. `application.redsync.withLock("nightly") { ... }`,
 * `application.redsync.lead("scheduler") { ... }` or `application.redsync.mutex("invoice:42")`;
 * `asJava()` gives the blocking API of the same instance. Do not close it: the plugin closes it when the
 * application stops.
 *
 * @throws IllegalStateException if the [Redsync] plugin is not installed (or the application stopped)
 * @since 0.1.0
 */
public val Application.redsync: CoroutineRedsync
    get() = RedsyncState.of(this).redsync

/**
 * The application's redsync instance, in its coroutine view; see [Application.redsync].
 *
 * @throws IllegalStateException if the [Redsync] plugin is not installed
 * @since 0.1.0
 */
public val ApplicationCall.redsync: CoroutineRedsync
    get() = application.redsync

/**
 * Acquires the lock [name] (suspending, never blocking a thread), runs [block] holding it, and releases
 * it on every exit path; the lease is kept alive meanwhile. When the lock cannot be had, or is lost, the
 * call is answered as a [withLock] route guard answers it, and the handler ends there:
 *
 * ```
 * post("/invoices/{id}/pay") {
 *     val id = call.parameters["id"]!!
 *     val receipt = call.withLock("invoice:$id") { lease -> billing.charge(id, fence = lease.fencingToken) }
 *     call.respond(receipt)
 * }
 * ```
 *
 * - **Busy** (another owner still holds the lock when the tries or `acquireTimeout` run out): the plugin's
 *   busy status (409 Conflict by default, see [RedsyncPluginConfig.busyStatus]) with a `Retry-After` header
 *   in whole seconds (the holder's remaining TTL, rounded up; kept if already set).
 * - **Not acquired for another reason** (nodes failing or not answering): 503 Service Unavailable.
 * - **The lease is lost** while [block] runs (the keep-alive could not extend it): [block] is cancelled
 *   before the validity deadline; once it has finished, 503 Service Unavailable, unless the response was
 *   already committed: then the [io.redsync.LeaseLostException] is thrown, so that the engine aborts the
 *   response rather than let a truncated one pass for complete.
 * - **The release after [block] finds the lease gone** (it expired, or another owner has it): 503, unless
 *   [block] already responded; then it is logged and [block]'s result returned.
 *
 * Answers have an empty body (exception texts name nodes and locks; they go to the log at WARN). The
 * handler ends with an exception that the [Redsync] plugin catches before any other plugin (such as
 * `StatusPages`) sees it; do not catch [Throwable] around this call, or the handler would go on after the
 * call was answered. Exceptions thrown by [block] itself propagate unchanged.
 *
 * **Cancellation.** The handler runs in the call's coroutine, so whatever cancels the call cancels this,
 * with the rules of [CoroutineRedsync.withLock]: while waiting for the lock, retries stop and whatever the
 * attempt in flight held is released (a lease granted at the instant of the cancellation too); while
 * [block] runs, it is cancelled and the lease released, without blocking a thread, once it has finished.
 * The call's [kotlinx.coroutines.CancellationException] is thrown unchanged and nothing is answered. A
 * client that disconnects cancels the call only where the engine and Ktor's
 * `HttpRequestLifecycle { cancelCallOnClose = true }` plugin do so (Netty and CIO).
 *
 * @param name the lock name, non-blank; the key is the plugin's `keyPrefix` + [name]
 * @param options the options; the plugin's defaults when omitted (`call.redsync.options { tries = 1 }`
 *                changes some and keeps the rest)
 * @param block the work, given the lease
 * @return what [block] returned
 * @throws IllegalStateException if the [Redsync] plugin is not installed
 * @throws io.redsync.LeaseLostException if the lease was lost after the response was committed
 * @since 0.1.0
 */
public suspend fun <T> ApplicationCall.withLock(
    name: String,
    options: LockOptions = redsync.defaults,
    block: suspend CoroutineScope.(lease: CoroutineLease) -> T,
): T {
    val state = RedsyncState.of(application)
    var entered = false
    var finished = false
    var result: Any? = null
    try {
        return state.redsync.withLock(name, options) { lease ->
            entered = true
            block(lease).also {
                result = it
                finished = true
            }
        }
    } catch (e: LockAcquisitionException) {
        if (entered) throw e // the block's own lock calls
        answerNotAcquired(state.busyStatus, options, e)
        throw CallAnswered()
    } catch (e: LeaseLostException) {
        if (!entered || finished || e.lockName() != name || response.isCommitted) throw e
        answerUnavailable(e)
        throw CallAnswered()
    } catch (e: RedsyncException) {
        if (!finished) throw e
        // The block finished, but the release found the lease gone: the work may have run unprotected at
        // its end. Nothing to undo; say so if the block did not answer yet.
        if (response.isCommitted) {
            log.warn("lock '{}' was no longer held when released after the block: {}", name, e.message)
            @Suppress("UNCHECKED_CAST")
            return result as T
        }
        answerUnavailable(e)
        throw CallAnswered()
    }
}

/**
 * Ends a handler after [withLock] answered its call; the [Redsync] plugin catches it. No stack trace: it is
 * control flow, never logged.
 */
internal class CallAnswered : RuntimeException("the call was answered by call.withLock", null, false, false)

/**
 * Where the [Redsync] plugin catches [CallAnswered]: a phase just before [ApplicationCallPipeline.Call], so
 * inside the Monitoring phase where `StatusPages` and other `CallFailed` hooks catch exceptions.
 */
private object AnsweredByWithLock : Hook<suspend PipelineContext<Unit, PipelineCall>.() -> Unit> {
    private val phase = PipelinePhase("RedsyncCallAnswered")

    override fun install(pipeline: ApplicationCallPipeline, handler: suspend PipelineContext<Unit, PipelineCall>.() -> Unit) {
        pipeline.insertPhaseBefore(ApplicationCallPipeline.Call, phase)
        pipeline.intercept(phase) { handler(this) }
    }
}

/** What the plugin leaves in the application's attributes for the guards and the accessors. */
internal class RedsyncState(val redsync: CoroutineRedsync, val busyStatus: HttpStatusCode) {
    companion object {
        val Key: AttributeKey<RedsyncState> = AttributeKey("io.redsync.ktor.Redsync")

        fun of(application: Application): RedsyncState = application.attributes.getOrNull(Key) ?: throw IllegalStateException(
            "the Redsync plugin is not installed in this application (or the application has stopped): " +
                "install(Redsync) { nodes = listOf(\"redis://...\") } in the application module first",
        )
    }
}

private val log = LoggerFactory.getLogger("io.redsync.ktor.Redsync")
