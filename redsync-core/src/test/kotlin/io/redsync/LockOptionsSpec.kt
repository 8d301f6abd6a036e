package io.redsync

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.comparables.shouldBeGreaterThanOrEqualTo
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.comparables.shouldBeLessThanOrEqualTo
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldMatch
import io.redsync.testkit.fixtures.ms
import java.time.Duration

class LockOptionsSpec : FunSpec({

    test("defaults equal Go redsync's") {
        val o = LockOptions.defaults()
        o.expiry() shouldBe Duration.ofSeconds(8)
        o.tries() shouldBe 32
        o.driftFactor() shouldBe 0.01
        o.timeoutFactor() shouldBe 0.05
        o.nodeTimeout() shouldBe ms(400)
        o.drift() shouldBe ms(82)
        o.failFast() shouldBe false
        o.shufflePools() shouldBe false
        o.setNXOnExtend() shouldBe false
        o.value().isPresent shouldBe false
        o.acquireTimeout().isPresent shouldBe false
        repeat(200) {
            val d = o.retryDelay().delay(it + 1)
            d shouldBeGreaterThanOrEqualTo ms(50)
            d shouldBeLessThan ms(250)
        }
    }

    test("default values are 16 random bytes in base64, distinct per call") {
        val values = (1..1000).map { LockOptions.defaults().valueGenerator().get() }.toSet()
        values.size shouldBe 1000
        values.forEach {
            it shouldMatch Regex("[A-Za-z0-9+/]{22}==")
            java.util.Base64.getDecoder().decode(it).size shouldBe 16
        }
    }

    test("the derived node timeout is capped at 2 s, so a 10-hour lock does not wait 30 minutes for a node") {
        LockOptions.builder().expiry(Duration.ofHours(10)).build().nodeTimeout() shouldBe Duration.ofSeconds(2)
        LockOptions.builder().expiry(Duration.ofHours(10)).nodeTimeout(Duration.ofMinutes(1)).build().nodeTimeout() shouldBe Duration.ofMinutes(1)
    }

    test("toBuilder keeps every field") {
        val o = LockOptions.builder().expiry(ms(3000)).tries(7).driftFactor(0.02).timeoutFactor(0.1)
            .acquireTimeout(ms(900)).value("v").failFast(true).shufflePools(true).setNXOnExtend(true).build()
        val c = o.toBuilder().build()
        c.toString() shouldBe o.toString()
        c.nodeTimeout() shouldBe ms(300)
        c.value().get() shouldBe "v"
    }

    context("bad options fail at build() with field, value and range") {
        data class Row(val label: String, val build: () -> Any, val message: String)
        withData(
            nameFn = { it.label },
            Row("zero expiry", { LockOptions.builder().expiry(Duration.ZERO).build() }, "expiry must be > 0, was PT0S"),
            Row("negative expiry", { LockOptions.builder().expiry(ms(-1)).build() }, "expiry must be > 0, was PT-0.001S"),
            Row("expiry below 2x drift", { LockOptions.builder().expiry(ms(3)).build() }, "expiry must be at least 2 × drift"),
            Row("tries 0", { LockOptions.builder().tries(0).build() }, "tries must be >= 1, was 0"),
            Row("drift factor 1.5", { LockOptions.builder().driftFactor(1.5).build() }, "driftFactor must be in (0, 1), was 1.5"),
            Row("drift factor 0", { LockOptions.builder().driftFactor(0.0).build() }, "driftFactor must be in (0, 1), was 0.0"),
            Row("drift factor NaN", { LockOptions.builder().driftFactor(Double.NaN).build() }, "driftFactor must be in (0, 1), was NaN"),
            Row("timeout factor 1", { LockOptions.builder().timeoutFactor(1.0).build() }, "timeoutFactor must be in (0, 1), was 1.0"),
            Row("negative node timeout", { LockOptions.builder().nodeTimeout(ms(-5)).build() }, "nodeTimeout must be > 0"),
            Row("node timeout >= expiry", { LockOptions.builder().expiry(ms(1000)).nodeTimeout(ms(1000)).build() }, "nodeTimeout must be < expiry"),
            Row("zero acquire timeout", { LockOptions.builder().acquireTimeout(Duration.ZERO).build() }, "acquireTimeout must be > 0"),
            Row("blank preset value", { LockOptions.builder().value("  ").build() }, "value must not be blank"),
            Row("negative constant delay", { RetryDelay.constant(ms(-1)) }, "delay must be >= 0, was PT-0.001S"),
            Row("uniform max <= min", { RetryDelay.uniform(ms(10), ms(10)) }, "max must be > min"),
            Row("negative uniform min", { RetryDelay.uniform(ms(-10), ms(10)) }, "min must be >= 0"),
            Row("linear max < initial", { RetryDelay.linear(ms(10), ms(1), ms(5)) }, "max must be >= initial"),
            Row("exponential zero base", { RetryDelay.exponential(Duration.ZERO, ms(5), 0.0) }, "base must be > 0"),
            Row("exponential jitter 2", { RetryDelay.exponential(ms(1), ms(5), 2.0) }, "jitter must be in [0, 1], was 2.0"),
        ) { row ->
            shouldThrow<IllegalArgumentException> { row.build() }.message!! shouldContain row.message
        }
    }

    test("null options are rejected at once, naming the field") {
        shouldThrow<NullPointerException> { LockOptions.builder().expiry(null) }.message shouldBe "expiry must not be null"
        shouldThrow<NullPointerException> { LockOptions.builder().retryDelay(null) }.message shouldBe "retryDelay must not be null"
    }

    test("optional settings are cleared with null") {
        val set = LockOptions.builder().value("v").acquireTimeout(ms(500)).nodeTimeout(ms(100)).build()
        val cleared = set.toBuilder().value(null).acquireTimeout(null).nodeTimeout(null).build()
        cleared.value().isPresent shouldBe false
        cleared.acquireTimeout().isPresent shouldBe false
        cleared.nodeTimeout() shouldBe ms(400) // derived again
    }

    test("KeepAlive.toBuilder keeps every field") {
        val policy = KeepAlive.builder().interval(ms(100)).lostMargin(ms(50)).maxDuration(ms(9000)).maxExtensions(3).build()
        policy.toBuilder().build().toString() shouldBe policy.toString()
        policy.toBuilder().enabled(false).build().enabled() shouldBe false
    }

    context("retry delays") {
        test("constant") {
            val d = RetryDelay.constant(ms(30))
            (1..5).map { d.delay(it) } shouldBe List(5) { ms(30) }
        }
        test("uniform stays in [min, max) and varies") {
            val d = RetryDelay.uniform(ms(10), ms(20))
            val seen = (1..500).map { d.delay(1) }
            seen.forEach { it shouldBeGreaterThanOrEqualTo ms(10); it shouldBeLessThan ms(20) }
            seen.toSet().size shouldBeGreaterThanOrEqualTo 10
        }
        test("linear grows by the step up to the cap") {
            val d = RetryDelay.linear(ms(10), ms(5), ms(22))
            (1..5).map { d.delay(it) } shouldBe listOf(ms(10), ms(15), ms(20), ms(22), ms(22))
            d.delay(Int.MAX_VALUE) shouldBe ms(22)
        }
        test("exponential doubles up to the cap without jitter") {
            val d = RetryDelay.exponential(ms(10), ms(100), 0.0)
            (1..6).map { d.delay(it) } shouldBe listOf(ms(10), ms(20), ms(40), ms(80), ms(100), ms(100))
            d.delay(Int.MAX_VALUE) shouldBe ms(100)
        }
        test("exponential jitter spreads within the fraction and never passes the cap") {
            val d = RetryDelay.exponential(ms(100), ms(1000), 0.5)
            val waits = (1..500).map { d.delay(2) }
            waits.forEach { it shouldBeGreaterThanOrEqualTo ms(100); it shouldBeLessThanOrEqualTo ms(300) }
            waits.toSet().size shouldBeGreaterThanOrEqualTo 10
            (1..100).forEach { d.delay(10) shouldBeLessThanOrEqualTo ms(1000) }
        }
    }
})
