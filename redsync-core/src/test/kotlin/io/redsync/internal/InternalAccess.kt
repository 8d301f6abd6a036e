package io.redsync.internal

import io.redsync.Mutex

/** The order in which this mutex asks the nodes (tests live in this package to reach it). */
fun Mutex.nodeOrder(): List<Int> = (this as MutexImpl).order().toList()

/**
 * Runs one lock call of this mutex with [token] as its own owner token, as if the library had generated it
 * (lock calls otherwise always get a fresh token), so a spec can prepare keys holding it.
 */
fun Mutex.lockWithToken(token: String, tries: Int): io.redsync.Lease =
    AcquireCall(this as MutexImpl, token, tries).start().get()

/** The fencing counter's key beside a lock key, for specs outside this package (the engine's class is package-private). */
object Fences {
    fun counterKey(key: String): String = FenceKeys.counterKey(key)
}

/**
 * How long at most another lock call or lease of this mutex's instance has the turn on its key from now (0:
 * nobody has), as a call of the instance about to send would see it.
 */
fun Mutex.othersTurnNanos(): Long {
    val mutex = this as MutexImpl
    return mutex.waiters().othersTurn(mutex.target().key(), Waiters.Turn { 0L }, System.nanoTime())
}
