package io.redsync.safety

import io.redsync.Lease
import java.lang.reflect.InvocationTargetException
import java.lang.reflect.Proxy

/**
 * A [SectionRecorder] for a lease that someone else releases, such as a term of leadership (the leadership
 * releases it after the leader's work ended): its [SectionRecorder.release] records the end of the section
 * (the work's end, which comes before the real release) and leaves the lease alone.
 */
fun termRecorder(client: String, lease: Lease): SectionRecorder {
    val notClosing = Proxy.newProxyInstance(Lease::class.java.classLoader, arrayOf(Lease::class.java)) { _, method, args ->
        if (method.name == "close" && method.parameterCount == 0) {
            null
        } else {
            try {
                method.invoke(lease, *(args ?: emptyArray()))
            } catch (e: InvocationTargetException) {
                throw e.targetException
            }
        }
    } as Lease
    return SectionRecorder(client, notClosing)
}
