package io.redsync.spring.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import io.redsync.micrometer.RedsyncMetrics;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;

/**
 * Registers redsync-micrometer's {@link RedsyncMetrics} as a listener of the auto-configured {@code Redsync} bean
 * when redsync-micrometer is on the class path, unless {@code redsync.metrics.enabled=false}.
 *
 * <p>The listener is the application's own {@code RedsyncMetrics} bean if it defines one (to choose a lock-name
 * tag mapper or conventions); otherwise one is made over the application's {@code MeterRegistry} (Boot's, with
 * the actuator) and, when there is one, its {@code ObservationRegistry}, so lock calls and holds are also
 * Observations (spans through Micrometer Tracing; their timers then come from the registry's meter handler).
 * Without a {@code MeterRegistry} bean nothing is registered. The beans are looked up when the {@code Redsync}
 * bean is made, so the order of auto-configurations does not matter. A {@code Redsync} bean the application
 * makes itself gets nothing: add {@code builder.listener(metrics)} there.
 *
 * @since 0.1.0
 */
@AutoConfiguration(before = RedsyncAutoConfiguration.class)
@ConditionalOnClass({RedsyncMetrics.class, MeterRegistry.class})
@ConditionalOnBooleanProperty(name = "redsync.metrics.enabled", matchIfMissing = true)
public class RedsyncMetricsAutoConfiguration {

    /** Created by Spring. @since 0.1.0 */
    public RedsyncMetricsAutoConfiguration() {
    }

    /**
     * The customizer that adds the metrics listener to the builder of the {@code Redsync} bean.
     *
     * @param metrics      the application's own {@code RedsyncMetrics}, if it defines one
     * @param meters       the application's meter registry, if it has exactly one (or a primary one)
     * @param observations the application's observation registry, if any
     * @return the customizer
     * @since 0.1.0
     */
    @Bean
    public RedsyncBuilderCustomizer redsyncMetricsCustomizer(ObjectProvider<RedsyncMetrics> metrics,
                                                             ObjectProvider<MeterRegistry> meters,
                                                             ObjectProvider<ObservationRegistry> observations) {
        return builder -> {
            RedsyncMetrics listener = metrics.getIfUnique(() -> {
                MeterRegistry registry = meters.getIfUnique();
                if (registry == null) {
                    return null;
                }
                ObservationRegistry observationRegistry = observations.getIfUnique();
                return observationRegistry == null ? new RedsyncMetrics(registry)
                        : RedsyncMetrics.builder(registry).observationRegistry(observationRegistry).build();
            });
            if (listener != null) {
                builder.listener(listener);
            }
        };
    }
}
