package io.redsync.micrometer

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import io.kotest.matchers.types.shouldBeSameInstanceAs
import io.micrometer.common.KeyValue
import io.micrometer.common.KeyValues
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler
import io.micrometer.core.instrument.simple.SimpleMeterRegistry
import io.micrometer.observation.Observation
import io.micrometer.observation.ObservationRegistry
import io.micrometer.observation.tck.TestObservationRegistry
import io.micrometer.observation.tck.TestObservationRegistryAssert
import io.redsync.LeaseExpiredException
import io.redsync.LeaseLostException
import io.redsync.LockAcquisitionException
import io.redsync.LockOptions
import io.redsync.RedsyncListener.AcquireOutcome
import io.redsync.testkit.RedisNodes
import java.time.Duration

class ObservationSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    afterSpec { nodes.close() }
    beforeEach {
        nodes.nodes().forEach { if (!it.isRunning) it.restart() }
        nodes.flushAll()
    }

    fun contexts(registry: TestObservationRegistry): List<Observation.Context> {
        var out: List<Observation.Context> = emptyList()
        TestObservationRegistryAssert.assertThat(registry).hasHandledContextsThatSatisfy { out = it.toList() }
        return out
    }
    fun acquires(registry: TestObservationRegistry) = contexts(registry).filterIsInstance<LockAcquireContext>()
    fun holds(registry: TestObservationRegistry) = contexts(registry).filterIsInstance<LockHeldContext>()

    test("uncontended: a stopped acquire Observation (granted, one attempt) under the caller's, then a hold ended as released beside it") {
        val observations = TestObservationRegistry.create()
        val meters = SimpleMeterRegistry()
        val metrics = RedsyncMetrics.builder(meters).observationRegistry(observations).lockNameTag(LockNameTag.prefix(":")).build()
        nodes.redsync(metrics).use { redsync ->
            val request = Observation.start("http.request", observations)
            val lease = request.openScope().use { redsync.lock("invoice:42") }
            lease.release()
            request.stop()
            awaitUntil("the hold ended") { holds(observations).singleOrNull()?.outcome() != null }

            TestObservationRegistryAssert.assertThat(observations)
                .hasObservationWithNameEqualTo("redsync.lock.acquire").that()
                .hasContextualNameEqualTo("lock invoice")
                .hasLowCardinalityKeyValue("outcome", "granted")
                .hasLowCardinalityKeyValue("lock", "invoice")
                .hasHighCardinalityKeyValue("redsync.lock.name", "invoice:42")
                .hasHighCardinalityKeyValue("redsync.lock.attempts", "1")
                .doesNotHaveError()
                .hasBeenStarted().hasBeenStopped()
            TestObservationRegistryAssert.assertThat(observations)
                .hasObservationWithNameEqualTo("redsync.lock.held").that()
                .hasContextualNameEqualTo("hold invoice")
                .hasLowCardinalityKeyValue("outcome", "released")
                .hasHighCardinalityKeyValue("redsync.lock.name", "invoice:42")
                .hasBeenStarted().hasBeenStopped()
            val acquire = acquires(observations).single()
            acquire.outcome() shouldBe AcquireOutcome.GRANTED
            acquire.parentObservation!!.contextView shouldBeSameInstanceAs request.contextView
            val hold = holds(observations).single()
            hold.lease() shouldBeSameInstanceAs lease
            hold.parentObservation!!.contextView shouldBeSameInstanceAs request.contextView
            // The timers of those names come from the ObservationRegistry's handlers, never twice.
            meters.find("redsync.lock.acquire").timers() shouldHaveSize 0
            meters.find("redsync.lock.held").timers() shouldHaveSize 0
            meters.get("redsync.lock.attempts").tag("outcome", "granted").tag("lock", "invoice").summary().count() shouldBe 1L
        }
    }

    test("contention, cancellation and failure: busy and cancelled are outcomes, only a failure is an error") {
        val observations = TestObservationRegistry.create()
        nodes.redsync(RedsyncMetrics.builder(SimpleMeterRegistry()).observationRegistry(observations).build()).use { redsync ->
            val lease = redsync.lock("job")
            redsync.mutex("job").tryLock().isPresent shouldBe false
            val waiting = redsync.lockAsync("job", fastRetry())
            awaitUntil("the waiter's Observation started") { acquires(observations).size == 3 }
            waiting.cancel(true)
            awaitUntil("the cancellation ended its Observation") { acquires(observations).count { it.outcome() != null } == 3 }
            lease.release()
            nodes.node(1).stop()
            nodes.node(2).stop()
            shouldThrow<LockAcquisitionException> { redsync.lock("job", LockOptions.builder().tries(2).build()) }
            awaitUntil("the failure ended its Observation") { acquires(observations).count { it.outcome() != null } == 4 }

            acquires(observations).map { it.outcome() } shouldContainExactly
                listOf(AcquireOutcome.GRANTED, AcquireOutcome.BUSY, AcquireOutcome.CANCELLED, AcquireOutcome.FAILED)
            acquires(observations).map { it.error?.javaClass?.simpleName } shouldContainExactly
                listOf(null, null, null, "LockAcquisitionException")
            acquires(observations)[3].attempts() shouldBe 2
            TestObservationRegistryAssert.assertThat(observations)
                .hasAnObservationWithAKeyValue("outcome", "cancelled")
                .hasAnObservationWithAKeyValue("outcome", "busy")
                .hasAnObservationWithAKeyValue("outcome", "failed")
                .hasNumberOfObservationsWithNameEqualTo("redsync.lock.held", 1)
        }
    }

    test("a lost lease ends its hold Observation as lost, with the LeaseLostException as its error") {
        val observations = TestObservationRegistry.create()
        nodes.redsync(RedsyncMetrics.builder(SimpleMeterRegistry()).observationRegistry(observations).build()).use { redsync ->
            val lease = redsync.lock("kept", LockOptions.builder().expiry(Duration.ofMillis(600)).build()).keepAlive()
            nodes.nodes().forEach { it.call("DEL", "kept") }
            awaitUntil("the hold ended") { holds(observations).singleOrNull()?.outcome() != null }
            shouldThrow<LeaseExpiredException> { lease.release() }
            val hold = holds(observations).single()
            hold.outcome() shouldBe "lost"
            hold.error.shouldBeInstanceOf<LeaseLostException>().reason() shouldBe LeaseLostException.Reason.REFUSED
        }
    }

    test("with a meter handler on the ObservationRegistry, redsync.lock.acquire and redsync.lock.held are timers once each") {
        val meters = SimpleMeterRegistry()
        val observations = ObservationRegistry.create()
        observations.observationConfig().observationHandler(DefaultMeterObservationHandler(meters))
        nodes.redsync(RedsyncMetrics.builder(meters).observationRegistry(observations).build()).use { redsync ->
            repeat(3) { redsync.lock("timed").release() }
            awaitUntil("three holds ended") { meters.timerCount("redsync.lock.held", "outcome", "released") == 3L }
            meters.timerCount("redsync.lock.acquire", "outcome", "granted", "error", "none") shouldBe 3L
            meters.timerCount("redsync.lock.acquire") shouldBe 3L
        }
    }

    test("a custom convention names the Observation and adds key values") {
        val observations = TestObservationRegistry.create()
        val convention = object : DefaultLockAcquireObservationConvention() {
            override fun getName() = "billing.lock"
            override fun getLowCardinalityKeyValues(context: LockAcquireContext): KeyValues =
                super.getLowCardinalityKeyValues(context).and(KeyValue.of("team", "billing"))
        }
        nodes.redsync(RedsyncMetrics.builder(SimpleMeterRegistry()).observationRegistry(observations).acquireConvention(convention).build())
            .use { redsync ->
                redsync.lock("x").release()
                awaitUntil("the acquire Observation stopped") { acquires(observations).singleOrNull()?.outcome() != null }
                TestObservationRegistryAssert.assertThat(observations).hasObservationWithNameEqualTo("billing.lock").that()
                    .hasLowCardinalityKeyValue("team", "billing").hasLowCardinalityKeyValue("outcome", "granted")
            }
    }
})
