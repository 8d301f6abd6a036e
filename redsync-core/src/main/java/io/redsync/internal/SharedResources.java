package io.redsync.internal;

import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;

import java.util.concurrent.TimeUnit;

/**
 * One Lettuce {@link ClientResources} (event loops, timers, DNS resolver) shared by every {@link RedsyncImpl}
 * built from URIs, as Lettuce recommends: a Redsync per lock user would otherwise start its own threads and
 * pay their cold start on its first connect. Reference-counted: shut down when the last user closes, so an
 * application that closes all its instances keeps no Lettuce threads.
 */
final class SharedResources {
    private static ClientResources resources;
    private static int users;

    private SharedResources() {
    }

    static synchronized ClientResources acquire() {
        if (users++ == 0) {
            resources = DefaultClientResources.create();
        }
        return resources;
    }

    static void release(ClientResources released) {
        ClientResources toShutDown = null;
        synchronized (SharedResources.class) {
            if (released == resources && --users == 0) {
                toShutDown = resources;
                resources = null;
            }
        }
        if (toShutDown != null) {
            toShutDown.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }
}
