@file:JvmName("CoroutinesService")

package io.redsync.samples

import io.redsync.LeaseLostException
import io.redsync.coroutines.CoroutineRedsync
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import java.util.concurrent.ConcurrentHashMap
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** What a request to pay an invoice came to. */
sealed interface Payment {
    /** This request charged the invoice, under the lease with this fencing token. */
    data class Charged(val invoice: Int, val fencingToken: Long) : Payment

    /** Another request had charged it already. */
    data class AlreadyPaid(val invoice: Int) : Payment

    /** The lease was lost while charging: the block was cancelled before the lease ran out. */
    data class Interrupted(val invoice: Int, val reason: LeaseLostException.Reason) : Payment
}

/** Stands for your database: which invoices are paid, and the fencing token of the write that paid them. */
class Ledger {
    private val paid = ConcurrentHashMap<Int, Long>()

    fun isPaid(invoice: Int): Boolean = paid.containsKey(invoice)

    /** A real store would reject a token lower than the last one it saw (see FencedWrites). */
    fun markPaid(invoice: Int, fencingToken: Long) {
        paid[invoice] = fencingToken
    }
}

/**
 * Charges each invoice once, however many requests for it arrive at once on however many instances.
 * [CoroutineRedsync.withLock] suspends while waiting (no thread is blocked), keeps the lease alive while the
 * block runs, and, if the lease is lost anyway, cancels the block and throws [LeaseLostException].
 */
class InvoiceService(
    private val redsync: CoroutineRedsync,
    private val ledger: Ledger,
    private val charge: suspend (invoice: Int) -> Unit,
) {
    suspend fun pay(invoice: Int): Payment = try {
        redsync.withLock("invoice:$invoice") { lease ->
            if (ledger.isPaid(invoice)) {
                Payment.AlreadyPaid(invoice)
            } else {
                charge(invoice) // cancelled here if the lease is lost
                val token = checkNotNull(lease.fencingToken) { "the instance's defaults enable fencing" }
                ledger.markPaid(invoice, token)
                Payment.Charged(invoice, token)
            }
        }
    } catch (e: LeaseLostException) {
        // Nothing after the cancellation point ran, and it was cancelled before the lease ended. Whether
        // the charge itself went through is for a retry to find out (idempotency key, ledger).
        Payment.Interrupted(invoice, e.reason())
    }
}

/** Runs the three scenes against [uris], reporting each outcome through [log]. */
suspend fun serveInvoices(uris: List<String>, log: (String) -> Unit) {
    CoroutineRedsync(uris) {
        keyPrefix = "billing:"
        defaults {
            expiry = 2.seconds // kept alive every 667 ms while a block runs
            fencing = true
            // A request waits up to 5 s for its turn, however many attempts that takes: a budget in time
            // says what a caller can afford better than a count of attempts (the default: 32).
            tries = Int.MAX_VALUE
            acquireTimeout = 5.seconds
        }
    }.use { redsync ->
        val ledger = Ledger()
        val charging = CompletableDeferred<Unit>()
        val service = InvoiceService(redsync, ledger) { invoice ->
            when (invoice) {
                7 -> { charging.complete(Unit); delay(10.seconds) } // a payment provider that hangs
                99 -> delay(1.seconds)
                else -> delay(20.milliseconds)
            }
        }

        // 1. Twenty requests for the same invoice at once: exactly one charges it.
        val outcomes = coroutineScope { (1..20).map { async { service.pay(42) } }.awaitAll() }
        log("20 concurrent requests for invoice 42: ${outcomes.count { it is Payment.Charged }} charged it, " +
            "${outcomes.count { it is Payment.AlreadyPaid }} found it paid")

        // 2. The lease is lost while charging (here another process deletes the keys): the block is
        //    cancelled at the next failed extension, long before the 2 s validity would have ended.
        coroutineScope {
            launch {
                charging.await()
                delay(300.milliseconds)
                withContext(Dispatchers.IO) { LocalNodes.deleteEverywhere(uris, "billing:invoice:7") }
            }
            val started = System.nanoTime()
            val outcome = service.pay(7)
            log("invoice 7: $outcome after ${(System.nanoTime() - started) / 1_000_000} ms of a 10 s charge")
        }

        // 3. A caller with a deadline: cancelling the wait gives up cleanly, nothing stays held.
        coroutineScope {
            launch { service.pay(99) } // holds invoice:99 for a second
            delay(100.milliseconds)
            val impatient = withTimeoutOrNull(300.milliseconds) { service.pay(99) }
            log("invoice 99 with a 300 ms deadline: ${impatient ?: "gave up waiting, nothing held"}")
        }
    }
}

suspend fun main() {
    LocalNodes.fromEnvironmentOrStart(3).use { nodes -> serveInvoices(nodes.uris(), ::println) }
}
