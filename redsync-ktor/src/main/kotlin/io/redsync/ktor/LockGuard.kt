@file:JvmName("LockGuard")

package io.redsync.ktor

import io.ktor.http.HttpHeaders
import io.ktor.http.HttpStatusCode
import io.ktor.server.application.ApplicationCall
import io.ktor.server.application.ApplicationCallPipeline
import io.ktor.server.application.Hook
import io.ktor.server.application.PipelineCall
import io.ktor.server.application.call
import io.ktor.server.application.createRouteScopedPlugin
import io.ktor.server.application.isHandled
import io.ktor.server.request.uri
import io.ktor.server.response.header
import io.ktor.server.response.respond
import io.ktor.server.routing.Route
import io.ktor.server.routing.RouteSelector
import io.ktor.server.routing.RouteSelectorEvaluation
import io.ktor.server.routing.RoutingResolveContext
import io.ktor.server.routing.application
import io.ktor.util.AttributeKey
import io.ktor.util.pipeline.PipelineContext
import io.ktor.util.pipeline.PipelinePhase
import io.redsync.LeaseLostException
import io.redsync.LockAcquisitionException
import io.redsync.LockOptions
import io.redsync.LockTakenException
import io.redsync.RedsyncException
import io.redsync.coroutines.copy
import org.slf4j.LoggerFactory
import kotlin.math.max
import kotlin.time.Duration

/**
 * How a [withLock] route guard acquires its lock.
 *
 * @since 0.1.0
 */
public sealed interface LockMode {

    /**
     * One acquisition attempt, no waiting: if another owner holds the lock the call is answered at once
     * with the plugin's busy status (409 by default) and a `Retry-After` header.
     *
     * @since 0.1.0
     */
    public data object TryOnce : LockMode

    /**
     * Waits for the lock, retrying (and waking when the holder releases), for at most [timeout]; then
     * answers with the busy status, as [TryOnce] does. The waiting suspends the call's coroutine, not a
     * thread.
     *
     * @property timeout the longest wait, positive; it becomes the options' `acquireTimeout`, so the wait
     *           ends early when the next retry would start after it
     * @since 0.1.0
     */
    public data class Wait(val timeout: Duration) : LockMode {
        init {
            require(timeout.isPositive()) { "LockMode.Wait timeout must be > 0, was $timeout" }
        }
    }
}

/**
 * Guards every route built in [build] with the lock [name]: like Ktor's `rateLimit { }`, a transparent
 * child route (it matches whatever its children match) whose calls acquire the lock before the handler
 * and release it after the handler has finished, response included.
 *
 * ```
 * routing {
 *     withLock({ call -> "order:${call.parameters["id"]}" }) {
 *         post("/orders/{id}/pay") { ... }
 *     }
 *     withLock({ "nightly-report" }, LockMode.Wait(30.seconds)) {
 *         post("/reports/nightly") { ... }
 *     }
 * }
 * ```
 *
 * The guard runs just before the handler, after the application's plugins and Ktor's route guards
 * (`authenticate { }`, `rateLimit { }`), and takes no lock for a call they already answered. Guards
 * nest: an inner guard's lock is taken inside the outer's, and both are held while the handler runs
 * (take nested locks in one order everywhere, or a [LockMode.Wait] pair can wait on each other until
 * their timeouts). Like every redsync lock it is not reentrant: a handler that locks the guard's own
 * name again waits for itself.
 *
 * **Busy.** If another owner holds the lock ([LockMode.TryOnce]), or still holds it after the wait
 * ([LockMode.Wait]), the handler is not run and the call is answered with the plugin's busy status (409
 * Conflict by default, see [RedsyncPluginConfig.busyStatus]) and a `Retry-After` header in whole seconds,
 * rounded up, at least 1, unless a `Retry-After` was already set. An attempt that failed because nodes did
 * not answer is not "busy": it is answered 503 Service Unavailable, and its [LockAcquisitionException]
 * logged at WARN. No answer carries an exception text in its body.
 *
 * **While the handler runs** the lease is kept alive ([LockOptions.keepAlive]). If it is lost, the handler
 * is cancelled before the lease's validity ends, and the call is answered 503 Service Unavailable, unless
 * the response was already committed: then the [LeaseLostException] is rethrown, so the engine aborts the
 * response rather than let a truncated one pass for complete.
 *
 * **Cancellation.** A cancelled call (for example a client disconnect, where the engine and Ktor's
 * `HttpRequestLifecycle { cancelCallOnClose = true }` cancel calls) stops the wait at once and releases
 * whatever the attempt in flight held; during the handler, the lease is released once the handler has
 * finished. Nothing is answered: the call is gone.
 *
 * @param name the lock name for a call, e.g. from its path parameters; called once per call, before the
 *             lock is taken; the key is the plugin's `keyPrefix` + the name
 * @param mode [LockMode.TryOnce] (default) or [LockMode.Wait]
 * @param options the lock options; the plugin's [defaults][RedsyncPluginConfig.defaults] when `null`. The
 *                mode overrides `tries` (1 for [LockMode.TryOnce]) and, for [LockMode.Wait], `tries` and
 *                `acquireTimeout`
 * @param build builds the guarded routes
 * @return the guard's route
 * @throws IllegalStateException if the [Redsync] plugin is not installed yet: install it before routing
 * @since 0.1.0
 */
public fun Route.withLock(
    name: (call: ApplicationCall) -> String,
    mode: LockMode = LockMode.TryOnce,
    options: LockOptions? = null,
    build: Route.() -> Unit,
): Route {
    val state = application.attributes.getOrNull(RedsyncState.Key) ?: throw IllegalStateException(
        "Route.withLock needs the Redsync plugin: install(Redsync) { nodes = listOf(\"redis://...\") } " +
            "in the application module first, before declaring routing { }",
    )
    val guard = Guard(name, mode, effectiveOptions(mode, options ?: state.redsync.defaults))
    val route = createChild(LockRouteSelector(guard))
    route.attributes.put(GuardKey, guard)
    // Ktor runs only the nearest installation of a route-scoped plugin for a call, so each guard route's
    // installation carries every guard from the root down to it, outermost first (as rateLimit does).
    val chain = generateSequence(route) { it.parent }.mapNotNull { it.attributes.getOrNull(GuardKey) }.toList().asReversed()
    route.install(LockGuardPlugin) {
        guards = chain
        this.state = state
    }
    route.build()
    return route
}

/**
 * Guards the routes built in [build] with the fixed lock [name]; see the other [withLock] overload.
 *
 * ```
 * withLock("nightly-report", LockMode.Wait(30.seconds)) { post("/reports/nightly") { ... } }
 * ```
 *
 * @param name the lock name, non-blank
 * @param mode [LockMode.TryOnce] (default) or [LockMode.Wait]
 * @param options the lock options; the plugin's defaults when `null`
 * @param build builds the guarded routes
 * @return the guard's route
 * @throws IllegalStateException if the [Redsync] plugin is not installed yet
 * @since 0.1.0
 */
public fun Route.withLock(
    name: String,
    mode: LockMode = LockMode.TryOnce,
    options: LockOptions? = null,
    build: Route.() -> Unit,
): Route {
    require(name.isNotBlank()) { "lock name must not be blank" }
    return withLock({ name }, mode, options, build)
}

private fun effectiveOptions(mode: LockMode, base: LockOptions): LockOptions = when (mode) {
    LockMode.TryOnce -> base.copy { tries = 1 }
    is LockMode.Wait -> base.copy {
        tries = Int.MAX_VALUE
        acquireTimeout = mode.timeout
    }
}

/** One guard: how to name the lock for a call, and the options it is taken with (mode applied). */
internal class Guard(val name: (ApplicationCall) -> String, val mode: LockMode, val options: LockOptions) {
    override fun toString(): String = "withLock($mode)"
}

private val GuardKey = AttributeKey<Guard>("io.redsync.ktor.Guard")

/**
 * The guard route's selector: transparent, so the route matches what its children match. Identity
 * equality on purpose: `createChild` reuses an equal child, and each guard needs its own route.
 */
private class LockRouteSelector(private val guard: Guard) : RouteSelector() {
    override suspend fun evaluate(context: RoutingResolveContext, segmentIndex: Int): RouteSelectorEvaluation =
        RouteSelectorEvaluation.Transparent

    override fun toString(): String = "(redsync $guard)"
}

private class LockGuardConfig {
    var guards: List<Guard> = emptyList()
    var state: RedsyncState? = null
}

/**
 * Runs the rest of the call (the handler and its response) inside the interceptor, so the lock can be
 * held around it, and the handler cancelled with it. The phase sits just before [ApplicationCallPipeline.Call],
 * so the Plugins phase, the phases Ktor inserts after it (authentication's), and its internal Validators
 * phase (rate limiting) all run first; ApplicationCallPipeline.Validators itself is internal to Ktor.
 */
private object AroundHandler : Hook<suspend PipelineContext<Unit, PipelineCall>.() -> Unit> {
    private val phase = PipelinePhase("RedsyncLock")

    override fun install(pipeline: ApplicationCallPipeline, handler: suspend PipelineContext<Unit, PipelineCall>.() -> Unit) {
        pipeline.insertPhaseBefore(ApplicationCallPipeline.Call, phase)
        pipeline.intercept(phase) { handler(this) }
    }
}

private val LockGuardPlugin = createRouteScopedPlugin("RedsyncLockGuard", ::LockGuardConfig) {
    val guards = pluginConfig.guards
    val state = checkNotNull(pluginConfig.state)
    on(AroundHandler) {
        // Already answered (an earlier plugin refused the call): the handler will not run, so take no lock.
        if (call.isHandled) return@on
        val held = HashSet<String>()
        try {
            guarded(state, guards, 0, held)
        } catch (lost: LeaseLostException) {
            if (lost.lockName() !in held || call.response.isCommitted) throw lost
            call.answerUnavailable(lost)
            finish()
        }
    }
}

/**
 * Takes guards[index] and, inside it, the rest; then runs the handler. Busy: answers and stops the
 * pipeline. What happens inside the innermost block (the handler) propagates unchanged.
 */
private suspend fun PipelineContext<Unit, PipelineCall>.guarded(
    state: RedsyncState,
    guards: List<Guard>,
    index: Int,
    held: MutableSet<String>,
) {
    if (index == guards.size) {
        proceed()
        return
    }
    val guard = guards[index]
    val name = guard.name(call)
    var entered = false
    var finished = false
    try {
        state.redsync.mutex(name, guard.options).withLock {
            entered = true
            held += name
            guarded(state, guards, index + 1, held)
            finished = true
        }
    } catch (e: LockAcquisitionException) {
        // Thrown by the acquisition itself, or by something inside the block (the handler's own locks):
        // only the former is this guard's to answer.
        if (entered) throw e
        call.answerNotAcquired(state.busyStatus, guard.options, e)
        finish()
    } catch (e: RedsyncException) {
        // The handler finished, but the release found the lease gone (it expired or was taken over): the
        // work may have run unprotected at its end. Nothing to undo; say so if we still can.
        if (!finished || e is LeaseLostException) throw e
        if (call.response.isCommitted) {
            log.warn("lock '{}' was no longer held when released after the handler: {}", name, e.message)
        } else {
            call.answerUnavailable(e)
            finish()
        }
    }
}

/** Another owner holds it on a quorum, or the last attempt lost to other owners without any node failing (split vote). */
private fun isBusy(e: LockAcquisitionException): Boolean {
    if (e is LockTakenException) return true
    val votes = e.votes() ?: return false
    return votes.heldByOthers().isNotEmpty() && votes.failed().isEmpty()
}

/**
 * Answers a call whose lock was not acquired, as the guard and `call.withLock` both do: busy (another
 * owner holds it) is [busyStatus] with a `Retry-After`; anything else (nodes failing or not answering) is
 * 503 Service Unavailable. The body stays empty: exception texts name nodes and locks, which are the
 * server's business; they go to the log.
 */
internal suspend fun ApplicationCall.answerNotAcquired(busyStatus: HttpStatusCode, options: LockOptions, e: LockAcquisitionException) {
    if (!isBusy(e)) {
        answerUnavailable(e)
        return
    }
    if (!response.headers.contains(HttpHeaders.RetryAfter)) {
        response.header(HttpHeaders.RetryAfter, retryAfterSeconds(options, e))
    }
    respond(busyStatus)
}

/** Answers 503 with an empty body, logging why at WARN. */
internal suspend fun ApplicationCall.answerUnavailable(cause: RedsyncException) {
    log.warn("{}: answered 503: {}", request.uri, cause.toString())
    respond(HttpStatusCode.ServiceUnavailable)
}

/**
 * Seconds until the lock may be free, rounded up, at least 1: the holder's remaining TTL on enough nodes for
 * a quorum to be free, as the nodes reported it ([LockTakenException.holderTtl]). When that is unknown (a
 * split vote, or a key without TTL), the caller's own expiry, an upper bound when the holder took the lock
 * with the same options.
 */
private fun retryAfterSeconds(options: LockOptions, e: LockAcquisitionException): Long {
    val millis = (e as? LockTakenException)?.holderTtl()?.orElse(null)?.toMillis() ?: options.expiry().toMillis()
    return max(1L, (millis + 999) / 1000)
}

private val log = LoggerFactory.getLogger("io.redsync.ktor.withLock")
