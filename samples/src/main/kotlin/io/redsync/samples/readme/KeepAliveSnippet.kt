package io.redsync.samples.readme

// region README keep-alive-kotlin
import io.redsync.coroutines.lockOptions
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds
// endregion
import io.redsync.LockOptions

/** The README's Kotlin keep-alive example, compiled; `ConfigurationSnippetsSpec` builds it. */
fun keepAliveOptions(): LockOptions =
    // region README keep-alive-kotlin
    lockOptions { expiry = 5.seconds; keepAlive { interval = 1.seconds; maxDuration = 10.minutes } }
    // endregion
