package io.redsync.coroutines

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.redsync.RedsyncListener
import io.redsync.testkit.RedisNodes
import java.util.concurrent.CopyOnWriteArrayList

class ListenerDslSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    afterSpec { nodes.close() }

    test("CoroutineRedsync { listener(...) } registers listeners, in order, and withLock's grant and release reach them") {
        val seen = CopyOnWriteArrayList<String>()
        fun recorder(tag: String) = object : RedsyncListener {
            override fun acquired(event: RedsyncListener.Acquired) { seen += "$tag acquired ${event.lockName()} ${event.outcome()}" }
            override fun released(event: RedsyncListener.Released) { seen += "$tag released ${event.lockName()} ${event.outcome()}" }
        }
        CoroutineRedsync(nodes.uris()) {
            listener(recorder("first"))
            listener(recorder("second"))
        }.use { redsync ->
            redsync.withLock("dsl") { }
            redsync.tryLock("dsl")!!.release()
        }
        seen.filter { it.startsWith("first") } shouldContainExactly listOf(
            "first acquired dsl GRANTED", "first released dsl RELEASED", "first acquired dsl GRANTED", "first released dsl RELEASED",
        )
        seen.filter { it.startsWith("second") }.size shouldBe 4
        seen.indexOf("second acquired dsl GRANTED") shouldBe seen.indexOf("first acquired dsl GRANTED") + 1
    }
})
