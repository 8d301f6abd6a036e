package io.redsync.micrometer;

import java.util.Objects;
import java.util.function.Function;

/**
 * How a lock's name becomes the {@code lock} tag of the meters and Observations. Lock names are often per entity
 * ({@code invoice:42}), and one tag value per entity would give a registry one time series per entity, so the
 * default is {@link #none()}: no {@code lock} tag at all. {@link #prefix(String)} keeps the part before a separator
 * ({@code invoice:42} becomes {@code invoice}); {@link #of(Function)} takes any mapping.
 *
 * <p>Whatever the mapping, {@link RedsyncMetrics} keeps at most {@link RedsyncMetrics.Builder#maxLockTags(int)}
 * distinct values (100 by default); names mapped to any further value are tagged {@value #OTHER}. A registry's
 * meter count stays bounded however many lock names there are.
 *
 * <pre>{@code
 * RedsyncMetrics.builder(registry).lockNameTag(LockNameTag.prefix(":")).build();
 * }</pre>
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface LockNameTag {

    /**
     * The tag value for names beyond the limit, or for which a mapping returned {@code null} or a blank value.
     *
     * @since 0.1.0
     */
    String OTHER = "other";

    /**
     * The tag value of one lock name.
     *
     * @param lockName the lock's name, without the key prefix
     * @return the value; {@code null} or blank for {@value #OTHER}
     * @since 0.1.0
     */
    String tagValue(String lockName);

    /**
     * No {@code lock} tag (the default): meters count all locks together.
     *
     * @return the mapping
     * @since 0.1.0
     */
    static LockNameTag none() {
        return NoLockTag.INSTANCE;
    }

    /**
     * The part of the name before the first {@code separator} (the whole name if it has none): with {@code ":"},
     * {@code invoice:42} and {@code invoice:43} are both tagged {@code invoice}.
     *
     * @param separator what ends the part kept, non-empty
     * @return the mapping
     * @throws IllegalArgumentException if {@code separator} is empty
     * @since 0.1.0
     */
    static LockNameTag prefix(String separator) {
        Objects.requireNonNull(separator, "separator must not be null");
        if (separator.isEmpty()) {
            throw new IllegalArgumentException("separator must not be empty; e.g. LockNameTag.prefix(\":\") tags invoice:42 as invoice");
        }
        return name -> {
            int at = name.indexOf(separator);
            return at < 0 ? name : name.substring(0, at);
        };
    }

    /**
     * Any mapping, e.g. {@code name -> name.startsWith("report:") ? "report" : null}. Values beyond the limit of
     * distinct values are tagged {@value #OTHER}.
     *
     * @param mapping from lock name to tag value ({@code null} for {@value #OTHER})
     * @return the mapping
     * @since 0.1.0
     */
    static LockNameTag of(Function<String, String> mapping) {
        Objects.requireNonNull(mapping, "mapping must not be null");
        return mapping::apply;
    }
}

/** The default mapping, {@link LockNameTag#none()}: an object of its own, so {@link RedsyncMetrics} leaves the tag key out. */
final class NoLockTag implements LockNameTag {
    static final NoLockTag INSTANCE = new NoLockTag();

    private NoLockTag() {
    }

    @Override
    public String tagValue(String lockName) {
        return null;
    }

    @Override
    public String toString() {
        return "LockNameTag.none()";
    }
}
