package io.redsync;

import java.util.Locale;

/**
 * One node's failure: it answered with an error, did not answer within the node timeout, or could not
 * be reached. Quorum failures attach one of these per failed node as suppressed exceptions, and list
 * them in {@link Votes#errors()}.
 *
 * <p>{@link #reason()} classifies the failure (wrong password, missing ACL permission, a replica where a
 * master belongs, ...), so callers can branch without parsing text. The message names the node by index and
 * address (never with credentials), the cause, and for a recognised reason what to do about it:
 * <pre>
 * node 1 (10.0.0.2:6379): NOPERM this user has no permissions to run the 'evalsha' command — the node's ACL
 * user lacks a command, key or channel the library uses; grant the rule in the README section 'Redis permissions'
 * </pre>
 *
 * @since 0.1.0
 */
public final class NodeException extends RedsyncException {
    private static final long serialVersionUID = 1L;

    /** The failed node's index. */
    private final int nodeIndex;
    /** The failed node's address, without credentials. */
    private final String address;
    /** What kind of failure it was. */
    private final Reason reason;

    /**
     * Why a node failed, classified from the Redis error reply (its first word, such as {@code NOPERM}) or
     * from the exception a connection attempt ended with. A small, stable set: anything not recognised is
     * {@link #OTHER}.
     *
     * @since 0.1.0
     */
    public enum Reason {
        /**
         * The node refused the credentials: {@code WRONGPASS} (wrong user or password) or {@code NOAUTH} (the
         * node requires a password the URI does not give).
         */
        AUTHENTICATION(true, "check the user and password in the node's URI (redis://user:password@host:port; "
                + "redis://:password@host:port for the default user)"),
        /**
         * The ACL user may not run a command, or touch a key or channel, that the library needs
         * ({@code NOPERM}, or a script refused a command).
         */
        PERMISSION(true, "the node's ACL user lacks a command, key or channel the library uses; grant the rule in "
                + "the README section 'Redis permissions'"),
        /** The node is a replica and refused a write ({@code READONLY}). */
        READ_ONLY_REPLICA(true, "the node is a read-only replica; Redlock needs independent masters: point the URI at "
                + "a master, or make this node one (REPLICAOF NO ONE)"),
        /**
         * The node reached {@code maxmemory} under the {@code noeviction} policy ({@code OOM}). Keep that policy on
         * lock nodes: every lock key has a TTL, so a {@code volatile-*} policy evicts live lock keys first (a lease
         * silently loses nodes), and an {@code allkeys-*} policy can also evict fencing counters (tokens repeat).
         */
        OUT_OF_MEMORY(false, "the node is full (used memory > maxmemory with maxmemory-policy noeviction): free memory or "
                + "raise maxmemory, and keep noeviction (an eviction policy would evict live lock keys, which all have a TTL, "
                + "or fencing counters); keep other data off the lock nodes"),
        /**
         * The lock key holds another type of value, such as a list ({@code WRONGTYPE}): something else uses the
         * key.
         */
        WRONG_TYPE(true, "another kind of value is stored under the lock key: give the locks their own namespace "
                + "with Redsync.Builder.keyPrefix (e.g. \"locks:\") so they cannot collide with application data"),
        /**
         * Nothing answered at the address, or it hung up: connection refused, reset or closed, no route to the
         * host. A TLS-only port hangs up on a plain {@code redis://} client this way.
         */
        UNREACHABLE(false, "check the host and port in the node's URI and that the node is running and reachable; "
                + "a TLS-only port needs rediss://"),
        /** The host name in the node's URI does not resolve. */
        UNKNOWN_HOST(true, "the host name does not resolve: check the host in the node's URI and the DNS"),
        /**
         * The TLS handshake failed: the server's certificate is not trusted or does not match the host, or the
         * port does not speak TLS.
         */
        TLS(true, "check that the port serves TLS (rediss:// only for TLS ports) and that the server's certificate "
                + "is trusted (pass your CA with Redsync.Builder.sslOptions) and names the host you connect to"),
        /**
         * Two of the instance's node entries reach the same Redis server (another host name, address, port mapping
         * or database number for one process, found by its {@code INFO server} run_id when connecting): that one
         * process would cast two votes, so the entry found second fails every call.
         */
        SAME_SERVER(true, "two node URIs reach one Redis server, which would then cast two votes; give each node a "
                + "distinct, independent master (a database number does not make another node)"),
        /** No reply within the node timeout. */
        TIMEOUT(false, "the node did not answer within the node timeout: it is overloaded, paused or far away, or the "
                + "network drops packets; raise LockOptions.nodeTimeout if the node is just slow (on a rediss:// node's "
                + "first use, a port that does not speak TLS also stalls the handshake like this)"),
        /** Anything else. */
        OTHER(false, null);

        private final boolean configuration;
        private final String fix;

        Reason(boolean configuration, String fix) {
            this.configuration = configuration;
            this.fix = fix;
        }

        /**
         * Whether this is a configuration problem that retrying cannot fix until someone changes the node, its
         * ACL, the URI, the certificates or the data under the key; otherwise it may pass (a restart, memory
         * freed, the network recovering).
         *
         * @return true for {@link #AUTHENTICATION}, {@link #PERMISSION}, {@link #READ_ONLY_REPLICA},
         *         {@link #WRONG_TYPE}, {@link #UNKNOWN_HOST}, {@link #TLS} and {@link #SAME_SERVER}
         * @since 0.1.0
         */
        public boolean isConfiguration() {
            return configuration;
        }

        /**
         * Classifies any failure of a node command as the library does for {@link NodeException#reason()}: by the
         * exception types along its cause chain and the Redis error reply's first word.
         *
         * @param failure what a node command failed with
         * @return its class, {@link #OTHER} when not recognised
         * @since 0.1.0
         */
        public static Reason of(Throwable failure) {
            return failure instanceof NodeException n ? n.reason() : classify(failure);
        }

        /**
         * What to do about it, as the message appends it.
         *
         * @return a short instruction, or {@code null} for {@link #OTHER}
         * @since 0.1.0
         */
        public String fix() {
            return fix;
        }
    }

    /**
     * Creates a node failure; its {@link #reason()} is classified from {@code cause}.
     *
     * @param lockName  the lock concerned, or {@code null}
     * @param nodeIndex the node's index in the order the nodes were given to the builder (0-based)
     * @param address   the node's address, {@code host:port}, without credentials
     * @param cause     what went wrong on that node
     * @since 0.1.0
     */
    public NodeException(String lockName, int nodeIndex, String address, Throwable cause) {
        this(lockName, nodeIndex, address, cause, classify(cause));
    }

    private NodeException(String lockName, int nodeIndex, String address, Throwable cause, Reason reason) {
        super(lockName, "node " + nodeIndex + " (" + address + "): " + describe(cause)
                + (reason.fix == null ? "" : " — " + reason.fix), cause);
        this.nodeIndex = nodeIndex;
        this.address = address;
        this.reason = reason;
    }

    /** The messages along the cause chain ("Unable to connect to ...: Connection refused"), without repeats. */
    private static String describe(Throwable cause) {
        if (cause == null) {
            return "failed";
        }
        StringBuilder text = new StringBuilder();
        int depth = 0;
        for (Throwable t = cause; t != null && depth < 6; t = t.getCause(), depth++) {
            String message = t.getMessage();
            if (message == null || message.isBlank()) {
                message = t.getClass().getSimpleName();
            }
            if (text.indexOf(message) < 0) {
                text.append(text.length() == 0 ? "" : ": ").append(message);
            }
        }
        return text.toString();
    }

    /**
     * Classifies a failure by the exception types along its cause chain (looked up by name, so no client
     * library is needed at run time) and by the Redis error reply's first word.
     */
    static Reason classify(Throwable cause) {
        int depth = 0;
        for (Throwable t = cause; t != null && depth < 10; t = t.getCause(), depth++) {
            Reason byType = byType(t);
            if (byType != null) {
                return byType;
            }
            Reason byReply = byReply(t.getMessage());
            if (byReply != null) {
                return byReply;
            }
        }
        return Reason.OTHER;
    }

    private static Reason byType(Throwable t) {
        if (t instanceof javax.net.ssl.SSLException || t instanceof java.security.cert.CertificateException) {
            return Reason.TLS;
        }
        if (t instanceof java.net.UnknownHostException) {
            return Reason.UNKNOWN_HOST;
        }
        if (t instanceof java.net.ConnectException || t instanceof java.net.NoRouteToHostException
                || t instanceof java.nio.channels.ClosedChannelException) {
            return Reason.UNREACHABLE;
        }
        if (t instanceof java.io.IOException && hangUp(t.getMessage())) {
            return Reason.UNREACHABLE;
        }
        if (t instanceof java.util.concurrent.TimeoutException) {
            return Reason.TIMEOUT;
        }
        for (Class<?> c = t.getClass(); c != null && c != Throwable.class; c = c.getSuperclass()) {
            switch (c.getName()) {
                case "io.lettuce.core.RedisCommandTimeoutException":
                    return Reason.TIMEOUT;
                case "io.redsync.internal.SameServerException":
                    return Reason.SAME_SERVER;
                case "io.netty.channel.ConnectTimeoutException":
                    return Reason.UNREACHABLE;
                case "io.lettuce.core.RedisException":
                    if (hangUp(t.getMessage())) {
                        return Reason.UNREACHABLE;
                    }
                    break;
                default:
                    break;
            }
        }
        return null;
    }

    /**
     * The peer closed the connection: reset, broken pipe, or Lettuce's "Connection closed prematurely"; or the
     * connection is down and reconnecting, so Lettuce rejects the command ("Currently not connected. Commands are
     * rejected.", under the client's REJECT_COMMANDS).
     */
    private static boolean hangUp(String message) {
        if (message == null) {
            return false;
        }
        String m = message.toLowerCase(Locale.ROOT);
        return m.contains("connection reset") || m.contains("broken pipe") || m.contains("connection closed")
                || m.contains("currently not connected");
    }

    /** "@user_script:3: " or "@user_script: 3: -", as Redis 6 puts before a script's own error. */
    private static final java.util.regex.Pattern SCRIPT_POSITION = java.util.regex.Pattern.compile("@user_script: ?\\d+: -?");

    /** Redis error replies start with an upper-case code; ACL refusals inside scripts (Redis 7.0) with a sentence. */
    private static Reason byReply(String message) {
        if (message == null) {
            return null;
        }
        String m = message.stripLeading();
        // Redis 6 wraps a script's error: "ERR Error running script (call to f_...): @user_script:3: @user_script: 3:
        // -READONLY You can't write ..."; the code is after the last position marker.
        if (m.startsWith("ERR Error running script")) {
            java.util.regex.Matcher inner = SCRIPT_POSITION.matcher(m);
            int end = -1;
            while (inner.find()) {
                end = inner.end();
            }
            if (end >= 0 && end < m.length()) {
                m = m.substring(end);
            }
        }
        if (m.startsWith("WRONGPASS") || m.startsWith("NOAUTH") || m.startsWith("ERR invalid password")
                || m.startsWith("ERR AUTH <password> called without any password")) {
            return Reason.AUTHENTICATION;
        }
        if (m.startsWith("NOPERM") || m.contains("The user executing the script can't run")
                || m.toLowerCase(Locale.ROOT).startsWith("err acl failure in script")) {
            return Reason.PERMISSION;
        }
        if (m.startsWith("READONLY")) {
            return Reason.READ_ONLY_REPLICA;
        }
        if (m.startsWith("OOM")) {
            return Reason.OUT_OF_MEMORY;
        }
        if (m.startsWith("WRONGTYPE")) {
            return Reason.WRONG_TYPE;
        }
        return null;
    }

    /**
     * The failed node's index, in the order the nodes were given to {@link Redsync.Builder} (not the
     * shuffled order {@link LockOptions#shufflePools()} may use).
     *
     * @return the 0-based node index
     * @since 0.1.0
     */
    public int nodeIndex() {
        return nodeIndex;
    }

    /**
     * The failed node's address.
     *
     * @return {@code host:port} (or the socket path), never containing a password
     * @since 0.1.0
     */
    public String address() {
        return address;
    }

    /**
     * What kind of failure this is, e.g. {@link Reason#AUTHENTICATION} for a wrong password; the message adds
     * what to do about it.
     *
     * @return the reason, {@link Reason#OTHER} when not recognised
     * @since 0.1.0
     */
    public Reason reason() {
        return reason;
    }
}
