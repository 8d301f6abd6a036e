package io.redsync.spring.boot;

import io.redsync.Redsync;

/**
 * Adjusts the {@link Redsync.Builder} of the starter's {@link Redsync} bean after the {@code redsync.*} properties
 * are applied and before it is built: every bean of this type is applied, in {@link org.springframework.core.Ordered}
 * order. Use it for what properties cannot say (nodes as your own Lettuce clients, a custom value generator,
 * listeners such as metrics).
 *
 * <pre>{@code
 * @Bean
 * RedsyncBuilderCustomizer fencedByDefault() {
 *     return builder -> builder.defaults(LockOptions.builder().fencing(true).build());
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface RedsyncBuilderCustomizer {
    /**
     * Customizes the builder.
     *
     * @param builder the builder, with the properties applied
     * @since 0.1.0
     */
    void customize(Redsync.Builder builder);
}
