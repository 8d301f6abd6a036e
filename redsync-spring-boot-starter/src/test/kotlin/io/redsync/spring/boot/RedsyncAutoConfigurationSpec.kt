package io.redsync.spring.boot

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import io.kotest.matchers.types.shouldBeSameInstanceAs
import io.lettuce.core.event.connection.ConnectionActivatedEvent
import io.lettuce.core.resource.ClientResources
import io.lettuce.core.resource.DefaultClientResources
import io.redsync.LockAcquisitionException
import io.redsync.Redsync
import io.redsync.TestCertificates
import io.redsync.startTlsNode
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.matchers.collections.shouldContain
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration
import io.redsync.testkit.fixtures.awaitUntil
import io.redsync.testkit.fixtures.ms
import io.redsync.nodesHolding
import io.redsync.shedlock.RedsyncLockProvider
import io.redsync.spring.integration.RedsyncLockRegistry
import io.redsync.testkit.RedisNodes
import net.javacrumbs.shedlock.core.LockConfiguration
import net.javacrumbs.shedlock.core.LockProvider
import net.javacrumbs.shedlock.core.SimpleLock
import org.springframework.boot.autoconfigure.AutoConfigurations
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException
import org.springframework.boot.data.redis.autoconfigure.ClientResourcesBuilderCustomizer
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration
import io.lettuce.core.resource.NettyCustomizer
import io.netty.channel.Channel
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import org.springframework.boot.health.contributor.Health
import org.springframework.boot.health.contributor.HealthIndicator
import org.springframework.boot.health.contributor.Status
import org.springframework.boot.test.context.FilteredClassLoader
import org.springframework.boot.test.context.assertj.AssertableApplicationContext
import org.springframework.boot.test.context.runner.ApplicationContextRunner
import org.springframework.integration.support.locks.LockRegistry
import java.time.Duration
import java.time.Instant
import java.util.Optional
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.locks.Lock

private val ALL = AutoConfigurations.of(
    RedsyncAutoConfiguration::class.java, RedsyncShedLockAutoConfiguration::class.java,
    RedsyncLockRegistryAutoConfiguration::class.java, RedsyncHealthAutoConfiguration::class.java,
)

/** The exception naming the bad property, from anywhere in the startup failure's causes. */
private fun AssertableApplicationContext.badProperty(): InvalidConfigurationPropertyValueException {
    val failure = startupFailure.shouldNotBeNull()
    return generateSequence<Throwable>(failure) { it.cause }.filterIsInstance<InvalidConfigurationPropertyValueException>().firstOrNull()
        ?: throw AssertionError("startup failed without naming a property", failure)
}

private fun AssertableApplicationContext.failureText(): String =
    generateSequence<Throwable>(startupFailure.shouldNotBeNull()) { it.cause }.joinToString(" / ") { it.message ?: "" }

class RedsyncAutoConfigurationSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    afterSpec { nodes.close() }
    beforeEach {
        nodes.nodes().forEach { if (!it.isRunning) it.restart() }
        nodes.flushAll()
    }
    val runner = ApplicationContextRunner().withConfiguration(ALL)
        .withPropertyValues("redsync.nodes=" + nodes.uris().joinToString(","))

    context("the Redsync bean") {
        test("made from redsync.* properties, and it locks on the nodes") {
            runner.withPropertyValues("redsync.key-prefix=app:", "redsync.lock.expiry=5s", "redsync.lock.tries=3",
                "redsync.lock.retry-delay-min=10ms", "redsync.lock.retry-delay-max=20ms", "redsync.lock.fencing=true",
                "redsync.keep-alive.interval=1s", "redsync.connect-timeout=2s").run { ctx ->
                val redsync = ctx.getBean(Redsync::class.java)
                redsync.nodeCount() shouldBe 3
                redsync.keyPrefix() shouldBe "app:"
                redsync.defaults().expiry() shouldBe Duration.ofSeconds(5)
                redsync.defaults().tries() shouldBe 3
                redsync.defaults().fencing() shouldBe true
                redsync.defaults().keepAlive().interval() shouldBe Optional.of(Duration.ofSeconds(1))
                redsync.lock("job").use { lease ->
                    lease.fencingToken().isPresent shouldBe true
                    nodes.nodesHolding("app:job") shouldContainExactly listOf(0, 1, 2)
                }
            }
        }

        test("not made when the application defines one (and then redsync.nodes is not needed)") {
            val mine = Redsync.create(nodes.uris())
            ApplicationContextRunner().withConfiguration(ALL).withBean(Redsync::class.java, { mine }).run { ctx ->
                ctx.startupFailure shouldBe null
                ctx.getBean(Redsync::class.java) shouldBeSameInstanceAs mine
                ctx.getBean(LockProvider::class.java).shouldBeInstanceOf<RedsyncLockProvider>()
            }
            mine.close()
        }

        test("not made without redsync-core on the class path, nor anything depending on it") {
            runner.withClassLoader(FilteredClassLoader(Redsync::class.java)).run { ctx ->
                ctx.getBeanNamesForType(RedsyncProperties::class.java).size shouldBe 0
                ctx.containsBean("redsync") shouldBe false
                ctx.containsBean("redsyncLockProvider") shouldBe false
                ctx.containsBean("redsyncHealthIndicator") shouldBe false
            }
        }

        test("runs on Spring Boot's Lettuce ClientResources when there is such a bean (spring-boot-data-redis)") {
            // Boot applies ClientResourcesBuilderCustomizers to its resources: this one counts the channels they open.
            val channels = CopyOnWriteArrayList<String>()
            val counting = ClientResourcesBuilderCustomizer { builder ->
                builder.nettyCustomizer(object : NettyCustomizer {
                    override fun afterChannelInitialized(channel: Channel) {
                        channels += channel.toString()
                    }
                })
            }
            runner.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration::class.java))
                .withBean(ClientResourcesBuilderCustomizer::class.java, { counting }).run { ctx ->
                    ctx.startupFailure shouldBe null
                    ctx.getBeanNamesForType(ClientResources::class.java).size shouldBe 1
                    // A lock's first attempt starts once a quorum of the nodes is connected: at least two channels.
                    ctx.getBean(Redsync::class.java).lock("on-boot-resources").release()
                    channels.size shouldBeGreaterThanOrEqual 2
                }
            // Control: Boot's Redis auto-configuration alone opens no channel at startup.
            channels.clear()
            ApplicationContextRunner().withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration::class.java))
                .withBean(ClientResourcesBuilderCustomizer::class.java, { counting }).run { ctx ->
                    ctx.getBeanNamesForType(ClientResources::class.java).size shouldBe 1
                    channels.size shouldBe 0
                }
        }

        test("runs on the application's own ClientResources bean, which it never shuts down") {
            val resources = DefaultClientResources.create()
            val activated = CopyOnWriteArrayList<Any>()
            val subscription = resources.eventBus().get().filter { it is ConnectionActivatedEvent }.subscribe { activated += it }
            runner.withBean(ClientResources::class.java, { resources }).run { ctx ->
                ctx.getBean(Redsync::class.java).lock("on-my-resources").release()
            }
            awaitUntil("the application's event bus reports the three connections") { activated.size >= 3 }
            subscription.dispose()
            resources.eventExecutorGroup().isShuttingDown shouldBe false // closing the context left them alone
            resources.shutdown()
        }

        test("every RedsyncBuilderCustomizer is applied, in order, after the properties") {
            runner.withPropertyValues("redsync.key-prefix=props:")
                // Unordered: runs after the ordered one.
                .withBean("second", RedsyncBuilderCustomizer::class.java, { RedsyncBuilderCustomizer { it.keyPrefix("second:") } })
                .withBean("first", RedsyncBuilderCustomizer::class.java, {
                    object : RedsyncBuilderCustomizer, org.springframework.core.Ordered {
                        override fun customize(builder: Redsync.Builder) { builder.keyPrefix("first:") }
                        override fun getOrder() = 1
                    }
                })
                .run { ctx -> ctx.getBean(Redsync::class.java).keyPrefix() shouldBe "second:" }
        }
    }

    context("a misconfiguration fails the start, naming the property") {
        fun failsOn(property: String, vararg values: String, reason: String) {
            runner.withPropertyValues(*values).run { ctx ->
                val bad = ctx.badProperty()
                bad.name shouldBe property
                bad.message shouldContain reason
            }
        }

        test("no nodes") {
            ApplicationContextRunner().withConfiguration(ALL).run { ctx ->
                ctx.badProperty().name shouldBe "redsync.nodes"
                ctx.badProperty().message shouldContain "list one URI per independent Redis master"
            }
        }
        test("a malformed node URI") { failsOn("redsync.nodes[1]", "redsync.nodes=redis://127.0.0.1:1,localhost", reason = "scheme") }
        test("two URIs of one node") {
            failsOn("redsync.nodes", "redsync.nodes=redis://127.0.0.1:7001,redis://127.0.0.1:7001,redis://127.0.0.1:7002", reason = "")
        }
        test("a drift factor out of range") { failsOn("redsync.lock.drift-factor", "redsync.lock.drift-factor=1.5", reason = "driftFactor must be in (0, 1)") }
        test("tries below 1") { failsOn("redsync.lock.tries", "redsync.lock.tries=0", reason = "tries must be >= 1, was 0") }
        test("a retry delay range upside down") {
            failsOn("redsync.lock.retry-delay-min", "redsync.lock.retry-delay-min=300ms", "redsync.lock.retry-delay-max=100ms", reason = "")
        }
        test("a keep-alive interval not shorter than the expiry (a rule across fields)") {
            failsOn("redsync.keep-alive.interval", "redsync.lock.expiry=2s", "redsync.keep-alive.interval=3s", reason = "keepAlive interval must be < expiry")
        }
        test("an unknown SSL bundle") { failsOn("redsync.ssl.bundle", "redsync.ssl.bundle=nope", reason = "nope") }
        test("a ShedLock keep-alive expiry of zero") {
            failsOn("redsync.shedlock.keep-alive-expiry", "redsync.shedlock.keep-alive-expiry=0s", reason = "must be positive")
        }
        test("a value of the wrong type (Boot's binder names it)") {
            runner.withPropertyValues("redsync.lock.expiry=soon").run { ctx -> ctx.failureText() shouldContain "redsync.lock.expiry" }
        }
    }

    context("the ShedLock provider") {
        test("made when shedlock-core and redsync-shedlock are present, with redsync.shedlock.*; it locks jobs") {
            runner.withPropertyValues("redsync.shedlock.key-prefix=jobs:", "redsync.shedlock.keep-alive-expiry=15s").run { ctx ->
                val provider = ctx.getBean(LockProvider::class.java).shouldBeInstanceOf<RedsyncLockProvider>()
                provider.keyPrefix() shouldBe "jobs:"
                provider.keepAliveExpiry() shouldBe Optional.of(Duration.ofSeconds(15))
                val lock: SimpleLock = provider.lock(LockConfiguration(Instant.now(), "nightly", ms(30_000), Duration.ZERO)).get()
                nodes.nodesHolding("jobs:nightly") shouldContainExactly listOf(0, 1, 2)
                lock.unlock()
            }
        }
        test("not made with redsync.shedlock.enabled=false") {
            runner.withPropertyValues("redsync.shedlock.enabled=false").run { ctx -> ctx.getBeansOfType(LockProvider::class.java).size shouldBe 0 }
        }
        test("not made when the application defines a LockProvider") {
            val mine = LockProvider { Optional.empty() }
            runner.withBean(LockProvider::class.java, { mine }).run { ctx -> ctx.getBean(LockProvider::class.java) shouldBeSameInstanceAs mine }
        }
        test("not made without ShedLock, or without redsync-shedlock, on the class path") {
            runner.withClassLoader(FilteredClassLoader(LockProvider::class.java)).run { ctx ->
                ctx.startupFailure shouldBe null
                ctx.containsBean("redsyncLockProvider") shouldBe false
            }
            runner.withClassLoader(FilteredClassLoader(RedsyncLockProvider::class.java)).run { ctx ->
                ctx.containsBean("redsyncLockProvider") shouldBe false
            }
        }
        test("not made without a Redsync bean") {
            ApplicationContextRunner().withConfiguration(AutoConfigurations.of(RedsyncShedLockAutoConfiguration::class.java)).run { ctx ->
                ctx.startupFailure shouldBe null
                ctx.containsBean("redsyncLockProvider") shouldBe false
            }
        }
    }

    context("the lock registry") {
        test("made when Spring Integration and redsync-spring-integration are present, with redsync.lock-registry.key-prefix") {
            runner.withPropertyValues("redsync.lock-registry.key-prefix=reg:").run { ctx ->
                val registry = ctx.getBean(LockRegistry::class.java).shouldBeInstanceOf<RedsyncLockRegistry>()
                val lock: Lock = registry.obtain("orders")
                lock.tryLock() shouldBe true
                nodes.nodesHolding("reg:orders") shouldContainExactly listOf(0, 1, 2)
                lock.unlock()
            }
        }
        test("not made with redsync.lock-registry.enabled=false") {
            runner.withPropertyValues("redsync.lock-registry.enabled=false").run { ctx -> ctx.getBeansOfType(LockRegistry::class.java).size shouldBe 0 }
        }
        test("not made when the application defines a LockRegistry") {
            val mine = org.springframework.integration.support.locks.DefaultLockRegistry()
            runner.withBean(LockRegistry::class.java, { mine }).run { ctx -> ctx.getBean(LockRegistry::class.java) shouldBeSameInstanceAs mine }
        }
        test("not made without Spring Integration, or without redsync-spring-integration, on the class path") {
            runner.withClassLoader(FilteredClassLoader(LockRegistry::class.java)).run { ctx ->
                ctx.startupFailure shouldBe null
                ctx.containsBean("redsyncLockRegistry") shouldBe false
            }
            runner.withClassLoader(FilteredClassLoader(RedsyncLockRegistry::class.java)).run { ctx ->
                ctx.containsBean("redsyncLockRegistry") shouldBe false
            }
        }
        test("not made without a Redsync bean") {
            ApplicationContextRunner().withConfiguration(AutoConfigurations.of(RedsyncLockRegistryAutoConfiguration::class.java)).run { ctx ->
                ctx.containsBean("redsyncLockRegistry") shouldBe false
            }
        }
    }

    context("the health indicator") {
        fun health(ctx: AssertableApplicationContext): Health = ctx.getBean("redsyncHealthIndicator", HealthIndicator::class.java).health()!!

        @Suppress("UNCHECKED_CAST")
        fun nodeStatus(h: Health): List<String> = (h.details["nodes"] as Map<String, Map<String, Any>>).values.map { it["status"] as String }

        test("UP with every node's detail while a quorum answers; DOWN when it does not") {
            runner.run { ctx ->
                val up = health(ctx)
                up.status shouldBe Status.UP
                up.details["quorum"] shouldBe 2
                up.details["reachable"] shouldBe 3
                nodeStatus(up) shouldContainExactly listOf("UP", "UP", "UP")
                @Suppress("UNCHECKED_CAST")
                ((up.details["nodes"] as Map<String, Map<String, Any>>)["0"]!!["address"]) shouldBe "127.0.0.1:${nodes.node(0).port()}"

                nodes.node(2).kill()
                val degraded = health(ctx)
                degraded.status shouldBe Status.UP
                degraded.details["reachable"] shouldBe 2
                nodeStatus(degraded) shouldContainExactly listOf("UP", "UP", "DOWN")

                nodes.node(1).kill()
                val down = health(ctx)
                down.status shouldBe Status.DOWN
                nodeStatus(down) shouldContainExactly listOf("UP", "DOWN", "DOWN")
                @Suppress("UNCHECKED_CAST")
                ((down.details["nodes"] as Map<String, Map<String, Any>>)["1"]!!["error"] as String?).shouldNotBeNull()
            }
        }
        test("not made with management.health.redsync.enabled=false") {
            runner.withPropertyValues("management.health.redsync.enabled=false").run { ctx -> ctx.containsBean("redsyncHealthIndicator") shouldBe false }
        }
        test("not made without Spring Boot's health support on the class path") {
            runner.withClassLoader(FilteredClassLoader(HealthIndicator::class.java)).run { ctx ->
                ctx.startupFailure shouldBe null
                ctx.containsBean("redsyncHealthIndicator") shouldBe false
            }
        }
        test("not made when the application defines a redsyncHealthIndicator") {
            val mine = HealthIndicator { Health.up().withDetail("mine", true).build() }
            runner.withBean("redsyncHealthIndicator", HealthIndicator::class.java, { mine }).run { ctx -> health(ctx).details["mine"] shouldBe true }
        }
    }

    test("redsync.ssl.bundle: rediss:// nodes verified against a Spring SSL bundle's CA")
        .config(enabledIf = { TestCertificates.unavailableReason.also { if (it != null) println("TLS case skipped: $it") } == null }) {
            val certs = TestCertificates.create()
            val tls = startTlsNode(certs)
            try {
                val tlsRunner = ApplicationContextRunner()
                    .withConfiguration(AutoConfigurations.of(SslAutoConfiguration::class.java, RedsyncAutoConfiguration::class.java))
                    .withPropertyValues("redsync.nodes=${tls.tlsUri}", "redsync.lock.tries=1")
                tlsRunner.withPropertyValues("redsync.ssl.bundle=redis", "spring.ssl.bundle.pem.redis.truststore.certificate=file:${certs.caCert}")
                    .run { ctx ->
                        ctx.getBean(Redsync::class.java).lock("over-tls").use { tls.node.keys() shouldContain "over-tls" }
                    }
                // Without the bundle the JVM's trust store does not know the test CA: no lock.
                tlsRunner.run { ctx ->
                    shouldThrow<LockAcquisitionException> { ctx.getBean(Redsync::class.java).lock("over-tls") }
                }
            } finally {
                tls.close()
                certs.delete()
            }
        }

    test("configuration metadata for IDE completion lists the properties with their descriptions") {
        val json = javaClass.classLoader.getResource("META-INF/spring-configuration-metadata.json").shouldNotBeNull().readText()
        listOf("redsync.nodes", "redsync.key-prefix", "redsync.lock.expiry", "redsync.lock.drift-factor", "redsync.keep-alive.interval",
            "redsync.ssl.bundle", "redsync.shedlock.keep-alive-expiry", "redsync.lock-registry.enabled").forEach { json shouldContain "\"$it\"" }
        json shouldContain "One URI per independent Redis master"
    }
})
