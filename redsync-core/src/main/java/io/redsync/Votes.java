package io.redsync;

import java.util.List;

/**
 * How each node answered one quorum operation (an acquisition attempt, a release, an extension or a
 * validity check). Failure exceptions carry the votes of the operation that failed, so a caller can
 * tell "another owner holds it" from "the lease expired" from "nodes are down" without parsing text.
 *
 * <p>Node indices follow the order the nodes were given to {@link Redsync.Builder}. Each index appears
 * in exactly one list.
 *
 * @since 0.1.0
 */
public final class Votes {
    private final int nodeCount;
    private final int quorum;
    private final List<Integer> succeeded;
    private final List<Integer> heldByOthers;
    private final List<Integer> absent;
    private final List<Integer> failed;
    private final List<Integer> unanswered;
    private final List<NodeException> errors;

    /**
     * Creates a tally. Library code builds these; the constructor is public for tests of user code.
     *
     * @param nodeCount    number of nodes
     * @param quorum       votes needed to succeed
     * @param succeeded    nodes where the operation took effect
     * @param heldByOthers nodes where the key holds another owner's value
     * @param absent       nodes where the key did not exist
     * @param failed       nodes that failed or timed out
     * @param unanswered   nodes with no answer yet when the outcome was decided early (fail-fast)
     * @param errors       one exception per failed node
     * @since 0.1.0
     */
    public Votes(int nodeCount, int quorum, List<Integer> succeeded, List<Integer> heldByOthers,
                 List<Integer> absent, List<Integer> failed, List<Integer> unanswered, List<NodeException> errors) {
        this.nodeCount = nodeCount;
        this.quorum = quorum;
        this.succeeded = List.copyOf(succeeded);
        this.heldByOthers = List.copyOf(heldByOthers);
        this.absent = List.copyOf(absent);
        this.failed = List.copyOf(failed);
        this.unanswered = List.copyOf(unanswered);
        this.errors = List.copyOf(errors);
    }

    /** @return the number of nodes asked @since 0.1.0 */
    public int nodeCount() {
        return nodeCount;
    }

    /** @return the number of successful nodes needed: {@code nodeCount / 2 + 1} @since 0.1.0 */
    public int quorum() {
        return quorum;
    }

    /** @return indices of nodes where the operation took effect (acquired, released, extended, or held by us) @since 0.1.0 */
    public List<Integer> succeeded() {
        return succeeded;
    }

    /** @return indices of nodes whose key holds another owner's value @since 0.1.0 */
    public List<Integer> heldByOthers() {
        return heldByOthers;
    }

    /** @return indices of nodes where the key did not exist (expired or deleted) @since 0.1.0 */
    public List<Integer> absent() {
        return absent;
    }

    /** @return indices of nodes that answered with an error, timed out or were unreachable @since 0.1.0 */
    public List<Integer> failed() {
        return failed;
    }

    /** @return indices of nodes still unanswered when a fail-fast decision was taken @since 0.1.0 */
    public List<Integer> unanswered() {
        return unanswered;
    }

    /** @return one exception per failed node, in node order @since 0.1.0 */
    public List<NodeException> errors() {
        return errors;
    }

    /**
     * A one-line summary, e.g. {@code 1/3 succeeded (quorum 2), held by others [2], failed [0]}.
     *
     * @return the summary
     * @since 0.1.0
     */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder()
                .append(succeeded.size()).append('/').append(nodeCount)
                .append(" succeeded (quorum ").append(quorum).append(')');
        append(s, "held by others", heldByOthers);
        append(s, "absent", absent);
        append(s, "failed", failed);
        append(s, "unanswered", unanswered);
        return s.toString();
    }

    private static void append(StringBuilder s, String label, List<Integer> nodes) {
        if (!nodes.isEmpty()) {
            s.append(", ").append(label).append(' ').append(nodes);
        }
    }
}
