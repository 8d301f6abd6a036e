package io.redsync.samples.readme;

// region README testkit
import io.redsync.Lease;
import io.redsync.Redsync;
import io.redsync.testkit.RedisNodes;
// endregion

/** The README's testkit example, compiled and run by {@code ReadmeExamplesSpec}. */
public final class TestkitSnippet {
    private TestkitSnippet() {
    }

    /** Returns the nodes still holding the lock key after one was killed. */
    public static long nodesHoldingAfterKill() throws InterruptedException {
        long holding;
        // region README testkit
        try (RedisNodes nodes = RedisNodes.start(3);                // 3 redis-server processes on free loopback ports
             Redsync redsync = Redsync.create(nodes.uris())) {
            try (Lease lease = redsync.lock("invoice:42")) {
                nodes.node(2).kill();                               // kill -9: 2 of 3 nodes still hold the lease
                lease.extend();                                     // a quorum answers, so this succeeds
                holding = nodes.nodes().stream().filter(n -> n.isRunning() && n.keys().contains("invoice:42")).count();
            }
        }                                                           // stops the processes, deletes their files
        // endregion
        return holding;
    }
}
