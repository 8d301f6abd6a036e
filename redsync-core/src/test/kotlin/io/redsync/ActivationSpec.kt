package io.redsync

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.booleans.shouldBeTrue
import io.kotest.matchers.shouldBe
import io.lettuce.core.ClientOptions
import io.lettuce.core.RedisClient
import io.lettuce.core.RedisURI
import io.lettuce.core.protocol.RedisHandshakeHandler
import io.lettuce.core.resource.DefaultClientResources
import io.lettuce.core.resource.NettyCustomizer
import io.netty.channel.Channel
import io.netty.channel.ChannelHandlerContext
import io.netty.channel.ChannelInboundHandlerAdapter
import io.redsync.testkit.RedisNodes
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * The state Lettuce's handshake race leaves behind (issue 14 item 1, docs/lettuce-handshake-race.md), made
 * deterministic: the connect future has completed, but the connection's `channelActive` has not reached the
 * command handler yet, so an endpoint with `REJECT_COMMANDS` rejects what is written now. In the race that window
 * opens when the handshake ends off the event loop and lasts until the queued `channelActive` runs; here a handler
 * placed right after Lettuce's handshake handler holds `channelActive` back for [HELD_MILLIS] on every connection.
 * The real-server path without the injected delay is `FirstCallSpec`'s.
 *
 * Before the fix a node counted as ready when the connect future completed, so the first lock call's script load
 * and acquire were rejected ("Currently not connected. Commands are rejected.") and the call failed on a healthy
 * node; now a node is ready only after Lettuce's connected event for that connection.
 */
class ActivationSpec : FunSpec({
    val nodes = RedisNodes.start(3)
    afterSpec { nodes.close() }

    test("a connection whose activation lags its connect future serves the first lock call (the caller's client, REJECT_COMMANDS)") {
        val hold = HoldActivation()
        val resources = DefaultClientResources.builder().nettyCustomizer(hold).build()
        val client = RedisClient.create(resources)
        client.options = ClientOptions.builder()
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .autoReconnect(true)
            .build()
        try {
            repeat(3) { round ->
                val builder = Redsync.builder()
                nodes.uris().forEach { builder.node(client, RedisURI.create(it)) }
                builder.defaults(LockOptions.builder().tries(1).build()).build().use { redsync ->
                    val lease = redsync.mutex("activation-$round").tryLock()
                    lease.isPresent.shouldBeTrue()
                    lease.get().release()
                }
            }
            hold.held() shouldBe 9 // three instances, three connections each: the delay was really in place
        } finally {
            client.shutdown()
            resources.shutdown().get(10, TimeUnit.SECONDS)
        }
    }
})

private const val HELD_MILLIS = 300L

/** Puts [Hold] right after Lettuce's handshake handler on every channel; counts the connections it held back. */
private class HoldActivation : NettyCustomizer {
    private val count = java.util.concurrent.atomic.AtomicInteger()

    fun held(): Int = count.get()

    override fun afterChannelInitialized(channel: Channel) {
        val handshake = channel.pipeline().context(RedisHandshakeHandler::class.java)
            ?: error("Lettuce's pipeline has no RedisHandshakeHandler: this spec needs updating for this Lettuce version")
        channel.pipeline().addAfter(handshake.name(), "hold-activation", Hold())
    }

    private inner class Hold : ChannelInboundHandlerAdapter() {
        override fun channelActive(ctx: ChannelHandlerContext) {
            count.incrementAndGet()
            ctx.executor().schedule({ ctx.fireChannelActive() }, HELD_MILLIS, TimeUnit.MILLISECONDS)
        }
    }
}
