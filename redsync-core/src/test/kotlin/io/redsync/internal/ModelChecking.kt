package io.redsync.internal

import io.kotest.core.Tag

/**
 * Specs that model-check in-memory state machines (Lincheck): no Redis server and no Lettuce take part, and they
 * keep both cores busy (about 40 s on a quiet 2-core machine, minutes on a loaded one). `mvn test` runs them;
 * `.ci/run`'s further passes (another Redis version, Spring Boot's Lettuce/Netty pairs), which could not change
 * their outcome, leave them out with `-Dkotest.tags='!ModelChecking'`.
 */
object ModelChecking : Tag()
