package io.redsync.spring.boot

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.micrometer.core.instrument.MeterRegistry
import io.micrometer.core.instrument.Tags
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler
import io.micrometer.core.instrument.simple.SimpleMeterRegistry
import io.micrometer.observation.ObservationRegistry
import io.redsync.Redsync
import io.redsync.micrometer.RedsyncMetrics
import io.redsync.testkit.RedisNodes
import org.springframework.boot.autoconfigure.AutoConfigurations
import org.springframework.boot.test.context.FilteredClassLoader
import org.springframework.boot.test.context.runner.ApplicationContextRunner

/**
 * `RedsyncMetricsAutoConfiguration`: redsync-micrometer's listener on the `Redsync` bean when a `MeterRegistry`
 * bean exists (issue 21's "metrics when Micrometer is present", issue 20's wiring), each condition on and off.
 * Meters are read after real lock calls on real nodes.
 */
class RedsyncMetricsAutoConfigurationSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    afterSpec { nodes.close() }
    val runner = ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(RedsyncAutoConfiguration::class.java, RedsyncMetricsAutoConfiguration::class.java))
        .withPropertyValues("redsync.nodes=" + nodes.uris().joinToString(","))

    fun MeterRegistry.acquired(): Long =
        find("redsync.lock.acquire").tag("outcome", "granted").timer()?.count() ?: 0L

    test("with a MeterRegistry bean: lock calls are measured in it") {
        runner.withBean(MeterRegistry::class.java, { SimpleMeterRegistry() }).run { ctx ->
            ctx.startupFailure.shouldBeNull()
            ctx.getBean(Redsync::class.java).lock("metered").release()
            ctx.getBean(MeterRegistry::class.java).acquired() shouldBe 1L
        }
    }

    test("with an ObservationRegistry too: the acquire timer comes through its meter handler") {
        val meters = SimpleMeterRegistry()
        val observations = ObservationRegistry.create()
        observations.observationConfig().observationHandler(DefaultMeterObservationHandler(meters))
        runner.withBean(MeterRegistry::class.java, { meters })
            .withBean(ObservationRegistry::class.java, { observations }).run { ctx ->
                ctx.getBean(Redsync::class.java).lock("observed").release()
                meters.acquired() shouldBe 1L
            }
    }

    test("the application's own RedsyncMetrics bean is the one registered") {
        val meters = SimpleMeterRegistry()
        runner.withBean(MeterRegistry::class.java, { meters })
            .withBean(RedsyncMetrics::class.java, { RedsyncMetrics.builder(meters).tags(Tags.of("app", "billing")).build() })
            .run { ctx ->
                ctx.getBean(Redsync::class.java).lock("own-metrics").release()
                meters.find("redsync.lock.acquire").tag("app", "billing").tag("outcome", "granted").timer().shouldNotBeNull().count() shouldBe 1L
            }
    }

    test("off: redsync.metrics.enabled=false registers nothing") {
        val meters = SimpleMeterRegistry()
        runner.withBean(MeterRegistry::class.java, { meters }).withPropertyValues("redsync.metrics.enabled=false").run { ctx ->
            ctx.getBeanNamesForType(RedsyncBuilderCustomizer::class.java).size shouldBe 0
            ctx.getBean(Redsync::class.java).lock("not-metered").release()
            meters.find("redsync.lock.acquire").timer().shouldBeNull()
        }
    }

    test("off: without redsync-micrometer on the class path there is no customizer, and the bean still works") {
        val meters = SimpleMeterRegistry()
        runner.withBean(MeterRegistry::class.java, { meters }).withClassLoader(FilteredClassLoader(RedsyncMetrics::class.java)).run { ctx ->
            ctx.getBeanNamesForType(RedsyncBuilderCustomizer::class.java).size shouldBe 0
            ctx.getBean(Redsync::class.java).lock("no-micrometer").release()
            meters.find("redsync.lock.acquire").timer().shouldBeNull()
        }
    }

    test("off: without a MeterRegistry bean nothing is registered, and the bean still works") {
        runner.run { ctx ->
            ctx.startupFailure.shouldBeNull()
            ctx.getBeanNamesForType(RedsyncBuilderCustomizer::class.java).size shouldBe 1
            ctx.getBean(Redsync::class.java).lock("no-registry").release()
        }
    }
})
