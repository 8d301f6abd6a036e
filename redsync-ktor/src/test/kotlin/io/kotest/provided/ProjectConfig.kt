package io.kotest.provided

import io.kotest.core.config.AbstractProjectConfig
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/** Found by Kotest by its name. A regression that leaves a request waiting forever fails its test, not the build's clock. */
class ProjectConfig : AbstractProjectConfig() {
    override val timeout: Duration = 30.seconds
}
