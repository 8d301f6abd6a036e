package io.redsync.internal

import io.redsync.Mutex

/** The order in which this mutex asks the nodes (tests live in this package to reach it). */
fun Mutex.nodeOrder(): List<Int> = (this as MutexImpl).order().toList()
