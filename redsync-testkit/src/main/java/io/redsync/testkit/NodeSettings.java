package io.redsync.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What every node of one {@link RedisNodes} shares, fixed at {@link RedisNodes.Builder#start()}.
 *
 * @param binary the redis-server executable; null for Docker nodes
 * @param persistence RDB is always off, this picks the append-only mode
 * @param extraArgs extra {@code --name value} arguments, already flattened, in the order given
 * @param password the password the testkit's own client authenticates with; null for none
 * @param startupTimeout how long a node may take to answer PING after (re)start
 */
record NodeSettings(Path binary, Persistence persistence, List<String> extraArgs, String password, Duration startupTimeout) {
    NodeSettings {
        extraArgs = List.copyOf(extraArgs);
    }

    /** The redis-server arguments after the port, bind address and dir, which the node adds itself. */
    List<String> commonArgs() {
        List<String> args = new ArrayList<>();
        args.add("--daemonize");
        args.add("no");
        // Tests connect over loopback without a password by default; protected mode would refuse nothing
        // here (we bind 127.0.0.1) but is off so that bind changes by users via config() keep working.
        args.add("--protected-mode");
        args.add("no");
        // RDB snapshots off in every mode: what survives a kill must not depend on snapshot timing.
        args.add("--save");
        args.add("");
        args.addAll(List.of(persistence.arguments()));
        args.addAll(extraArgs);
        return args;
    }
}
