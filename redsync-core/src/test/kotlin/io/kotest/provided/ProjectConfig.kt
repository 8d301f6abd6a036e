package io.kotest.provided

import io.kotest.core.config.AbstractProjectConfig
import io.redsync.Redsync
import io.redsync.testkit.RedisNodes
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * Found by Kotest by its name. Warms the JVM once (Netty and Lettuce class loading take hundreds of ms on a
 * loaded 2-core machine), so specs that allow a single attempt do not spend it on a cold first connect.
 * A regression that leaves a call waiting forever fails its test after 120 s, not the build's clock.
 */
class ProjectConfig : AbstractProjectConfig() {
    override val timeout: Duration = 120.seconds

    override suspend fun beforeProject() {
        RedisNodes.start(1).use { nodes -> Redsync.create(nodes.uris()).use { it.lock("warm-up").close() } }
    }
}
