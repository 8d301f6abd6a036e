package io.redsync.testkit;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Every live node of this JVM, so that a JVM shutdown kills them even when a test never called
 * {@link RedisNodes#close()}.
 *
 * <p>Without this an aborted test run leaves {@code redis-server} processes holding ports and temp dirs
 * until someone notices. The hook cannot help on {@code kill -9} of the JVM itself; nothing can.
 */
final class Reaper {
    /** Bounds the whole shutdown hook so a wedged process cannot hold the JVM open. */
    private static final long HOOK_WAIT_MILLIS = 5_000;

    private static final Set<ProcessNode> LIVE = ConcurrentHashMap.newKeySet();
    /** Ports of live nodes, so a new node never picks the port of a stopped node that will restart on it. */
    private static final Set<Integer> RESERVED_PORTS = ConcurrentHashMap.newKeySet();
    private static final Object HOOK_LOCK = new Object();
    private static boolean hookInstalled;

    private Reaper() {}

    static void register(ProcessNode node) {
        installHook();
        LIVE.add(node);
    }

    static void unregister(ProcessNode node) {
        LIVE.remove(node);
    }

    /** Reserves {@code port} for this JVM's nodes; false when another node of this JVM already holds it. */
    static boolean reservePort(int port) {
        return RESERVED_PORTS.add(port);
    }

    static void releasePort(int port) {
        RESERVED_PORTS.remove(port);
    }

    private static void installHook() {
        synchronized (HOOK_LOCK) {
            if (!hookInstalled) {
                Runtime.getRuntime().addShutdownHook(new Thread(Reaper::reapAll, "redsync-testkit-reaper"));
                hookInstalled = true;
            }
        }
    }

    /** Kills all live processes first and only then waits, so N nodes take one wait, not N. */
    private static void reapAll() {
        List<ProcessNode> nodes = new ArrayList<>(LIVE);
        List<Process> processes = new ArrayList<>();
        for (ProcessNode node : nodes) {
            Process p = node.currentProcess();
            if (p != null) {
                p.destroyForcibly();
                processes.add(p);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HOOK_WAIT_MILLIS);
        for (Process p : processes) {
            long left = deadline - System.nanoTime();
            try {
                // Waiting also lets the JVM reap the child, so no zombie is left behind.
                p.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (ProcessNode node : nodes) {
            deleteRecursively(node.dir());
        }
    }

    /** Deletes a node's temp dir; best effort, since a leftover dir in java.io.tmpdir harms nothing. */
    static void deleteRecursively(Path dir) {
        if (dir == null) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    // Vanished between listing and visiting (e.g. an AOF rewrite's temp file): nothing to delete.
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException ignored) {
            // Already gone.
        } catch (IOException ignored) {
            // Best effort, see above.
        }
    }
}
