package consumer

import io.redsync.Lease
import io.redsync.coroutines.Redsync
import io.redsync.coroutines.awaitRelease
import io.redsync.coroutines.awaitTryLock
import io.redsync.coroutines.lockOptions
import io.redsync.coroutines.withLock
import kotlin.time.Duration.Companion.seconds

/** The README's Kotlin quick start, as a user compiles it. */
suspend fun coroutinesUse(uris: List<String>): Long {
    Redsync(uris) {
        keyPrefix = "consumer:"
        defaults { expiry = 10.seconds; fencing = true }
    }.use { redsync ->
        val token = redsync.withLock("invoice:42", lockOptions { tries = 3 }) { lease -> lease.fencingToken().asLong }
        val lease: Lease? = redsync.mutex("job").awaitTryLock()
        lease?.awaitRelease()
        return token
    }
}
