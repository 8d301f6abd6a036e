package io.redsync.coroutines

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeSameInstanceAs
import io.redsync.KeepAlive
import io.redsync.LockOptions
import io.redsync.RetryDelay
import io.redsync.testkit.fixtures.ms
import java.time.Duration
import java.util.OptionalInt
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/** One invalid setting and the message Java's validation gives for it. */
class Invalid(val name: String, val message: String, val configure: LockOptionsBuilder.() -> Unit)

class LockOptionsDslSpec : FunSpec({
    test("copy { } can clear optional settings") {
        val set = lockOptions { value = "v"; acquireTimeout = 1.seconds }
        val cleared = set.copy { value = null; acquireTimeout = null }
        cleared.value().isPresent shouldBe false
        cleared.acquireTimeout().isPresent shouldBe false
    }

    test("builds the Java options with every value given") {
        val delay = RetryDelay.uniform(ms(10), ms(20))
        val options = lockOptions {
            expiry = 10.seconds
            tries = 5
            retryDelay = delay
            driftFactor = 0.02
            timeoutFactor = 0.1
            nodeTimeout = 300.milliseconds
            acquireTimeout = 1.minutes
            value = "preset-token"
            valueGenerator = { "generated" }
            failFast = true
            shufflePools = true
            setNXOnExtend = true
            releaseNotifications = false
            fencing = true
            keepAlive {
                interval = 2.seconds
                lostMargin = 1.seconds
                maxDuration = 1.minutes
                maxExtensions = 20
            }
        }
        options.expiry() shouldBe Duration.ofSeconds(10)
        options.tries() shouldBe 5
        options.retryDelay() shouldBeSameInstanceAs delay
        options.driftFactor() shouldBe 0.02
        options.timeoutFactor() shouldBe 0.1
        options.nodeTimeout() shouldBe ms(300)
        options.acquireTimeout().get() shouldBe Duration.ofMinutes(1)
        options.value().get() shouldBe "preset-token"
        options.valueGenerator().get() shouldBe "generated"
        options.failFast() shouldBe true
        options.shufflePools() shouldBe true
        options.setNXOnExtend() shouldBe true
        options.releaseNotifications() shouldBe false
        options.fencing() shouldBe true
        with(options.keepAlive()) {
            enabled() shouldBe true
            interval().get() shouldBe Duration.ofSeconds(2)
            lostMargin().get() shouldBe Duration.ofSeconds(1)
            maxDuration().get() shouldBe Duration.ofMinutes(1)
            maxExtensions() shouldBe OptionalInt.of(20)
        }
    }

    test("an empty block gives the defaults, and properties read the values the options will have") {
        val defaults = LockOptions.defaults()
        val built = lockOptions {
            expiry shouldBe 8.seconds
            tries shouldBe 32
            nodeTimeout shouldBe 400.milliseconds // derived: 8 s × 0.05
            acquireTimeout shouldBe null
            value shouldBe null
            keepAlive shouldBe true
        }
        built.expiry() shouldBe defaults.expiry()
        built.tries() shouldBe defaults.tries()
        built.nodeTimeout() shouldBe defaults.nodeTimeout()
        built.keepAlive() shouldBeSameInstanceAs KeepAlive.defaults()
    }

    test("retryDelay { } takes a Kotlin function of the failed attempts") {
        val options = lockOptions { retryDelay { failedAttempts -> (10 * failedAttempts).milliseconds } }
        options.retryDelay().delay(1) shouldBe ms(10)
        options.retryDelay().delay(3) shouldBe ms(30)
    }

    test("keepAlive = false disables keeping; keepAlive { } enables it again from the defaults") {
        lockOptions { keepAlive = false }.keepAlive() shouldBeSameInstanceAs KeepAlive.disabled()
        val again = lockOptions { keepAlive = false }.copy { keepAlive { maxExtensions = 3 } }.keepAlive()
        again.enabled() shouldBe true
        again.interval().isPresent shouldBe false
        again.maxExtensions() shouldBe OptionalInt.of(3)
    }

    test("copy { } starts from the options copied and leaves them unchanged") {
        val base = lockOptions {
            expiry = 20.seconds
            tries = 3
            keepAlive { interval = 5.seconds; maxExtensions = 4 }
        }
        val variant = base.copy {
            tries = tries * 2
            keepAlive { maxExtensions = null } // a cap can be lifted again
        }
        variant.expiry() shouldBe Duration.ofSeconds(20)
        variant.tries() shouldBe 6
        variant.keepAlive().interval().get() shouldBe Duration.ofSeconds(5)
        variant.keepAlive().maxExtensions() shouldBe OptionalInt.empty()
        base.tries() shouldBe 3
        base.keepAlive().maxExtensions() shouldBe OptionalInt.of(4)
        // The node timeout stays derived from the expiry unless set: 1 s × 0.05.
        LockOptions.defaults().copy { expiry = 1.seconds }.nodeTimeout() shouldBe ms(50)
    }

    context("invalid values throw Java's IllegalArgumentException with its message") {
        withData(
            listOf(
                Invalid("expiry = 0", "expiry must be > 0, was PT0S") { expiry = 0.seconds },
                Invalid("negative expiry", "expiry must be > 0, was PT-1S") { expiry = (-1).seconds },
                Invalid("sub-millisecond expiry", "expiry must be a whole number of milliseconds (Redis sets TTLs in ms), was PT1.0005S") {
                    expiry = 1.seconds + 500.milliseconds / 1000
                },
                Invalid("tries = 0", "tries must be >= 1, was 0 (1 = a single attempt; use Integer.MAX_VALUE with an acquireTimeout to wait indefinitely)") {
                    tries = 0
                },
                Invalid("driftFactor = 1.5", "driftFactor must be in (0, 1), was 1.5") { driftFactor = 1.5 },
                Invalid("timeoutFactor = 0", "timeoutFactor must be in (0, 1), was 0.0") { timeoutFactor = 0.0 },
                Invalid("nodeTimeout >= expiry", "nodeTimeout must be < expiry (PT1S), was PT2S: an attempt that waits longer than the expiry can never yield a valid lease") {
                    expiry = 1.seconds
                    nodeTimeout = 2.seconds
                },
                Invalid("acquireTimeout = 0", "acquireTimeout must be > 0, was PT0S") { acquireTimeout = 0.seconds },
                Invalid("blank value", "value must not be blank: a preset owner token must identify the owner") { value = " " },
                Invalid("keepAlive interval = 0", "interval must be > 0, was PT0S") { keepAlive { interval = 0.seconds } },
                Invalid("maxExtensions = 0", "maxExtensions must be >= 1, was 0") { keepAlive { maxExtensions = 0 } },
                Invalid("keepAlive interval >= expiry", "keepAlive interval must be < expiry (PT1S), was PT1S: the lease would expire between extensions") {
                    expiry = 1.seconds
                    keepAlive { interval = 1.seconds }
                },
            ).associateBy { it.name },
        ) { row ->
            shouldThrow<IllegalArgumentException> { lockOptions(row.configure) }.message shouldBe row.message
        }
    }

    test("CoroutineRedsync { clientResources(...); connectTimeout = ... } reach the builder: without a URI node resources are refused") {
        val resources = io.lettuce.core.resource.DefaultClientResources.create()
        try {
            val client = io.lettuce.core.RedisClient.create(resources)
            val e = shouldThrow<IllegalArgumentException> {
                CoroutineRedsync { node(client, io.lettuce.core.RedisURI.create("redis://127.0.0.1:1")); clientResources(resources) }
            }
            e.message shouldBe "clientResources was set, but no node is given as a URI: the resources are used for the " +
                "client made for URI nodes (nodes given as your own RedisClient use that client's resources)"
            client.shutdown()
            shouldThrow<IllegalArgumentException> { CoroutineRedsync(listOf("redis://127.0.0.1:1")) { connectTimeout = 0.seconds } }
                .message shouldBe "connectTimeout must be positive, was 0s; e.g. 5.seconds"
            CoroutineRedsync(listOf("redis://127.0.0.1:1")) { clientResources(resources); connectTimeout = 2.seconds }.close()
            resources.eventExecutorGroup().isShuttingDown shouldBe false
        } finally {
            resources.shutdown()
        }
    }

    test("CoroutineRedsync { sslOptions(...) } reaches the builder: without a rediss:// node it is refused at build") {
        val e = shouldThrow<IllegalArgumentException> {
            CoroutineRedsync(listOf("redis://127.0.0.1:1")) { sslOptions(io.lettuce.core.SslOptions.create()) }
        }
        e.message shouldBe "sslOptions was set, but no node URI uses TLS: give TLS nodes as rediss://host:port " +
            "(nodes given as your own RedisClient use that client's SslOptions)"
    }
})
