package io.redsync;

/**
 * One node's failure: it answered with an error, did not answer within the node timeout, or could not
 * be reached. Quorum failures attach one of these per failed node as suppressed exceptions, and list
 * them in {@link Votes#errors()}.
 *
 * <p>The message names the node by index and address (never with credentials) and the cause.
 *
 * @since 0.1.0
 */
public final class NodeException extends RedsyncException {
    private static final long serialVersionUID = 1L;

    /** The failed node's index. */
    private final int nodeIndex;
    /** The failed node's address, without credentials. */
    private final String address;

    /**
     * Creates a node failure.
     *
     * @param lockName  the lock concerned, or {@code null}
     * @param nodeIndex the node's index in the order the nodes were given to the builder (0-based)
     * @param address   the node's address, {@code host:port}, without credentials
     * @param cause     what went wrong on that node
     * @since 0.1.0
     */
    public NodeException(String lockName, int nodeIndex, String address, Throwable cause) {
        super(lockName, "node " + nodeIndex + " (" + address + "): " + describe(cause), cause);
        this.nodeIndex = nodeIndex;
        this.address = address;
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
}
