package consumer

import io.redsync.coroutines.CoroutineLease
import io.redsync.coroutines.CoroutineRedsync
import io.redsync.coroutines.lockOptions
import io.redsync.coroutines.withLock
import kotlin.time.Duration.Companion.seconds

/** The README's Kotlin quick start, as a user compiles it. */
suspend fun coroutinesUse(uris: List<String>): Long {
    CoroutineRedsync(uris) {
        keyPrefix = "consumer:"
        defaults { expiry = 10.seconds; fencing = true }
    }.use { redsync ->
        val token = redsync.withLock("invoice:42", lockOptions { tries = 3 }) { lease -> lease.fencingToken ?: -1L }
        val lease: CoroutineLease? = redsync.mutex("job") { tries = 1 }.tryLock()
        lease?.release()
        return token
    }
}
