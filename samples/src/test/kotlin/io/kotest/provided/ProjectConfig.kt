package io.kotest.provided

import io.kotest.core.config.AbstractProjectConfig
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/** Found by Kotest by its name. A sample that hangs fails its test, not the build's clock. */
class ProjectConfig : AbstractProjectConfig() {
    override val timeout: Duration = 90.seconds
}
