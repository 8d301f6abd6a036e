package io.redsync.spring.boot;

import io.redsync.Redsync;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Adds the {@code redsync} health indicator ({@link RedsyncHealthIndicator}) when Spring Boot's health support
 * (spring-boot-health, brought by the actuator) is on the class path, unless
 * {@code management.health.redsync.enabled=false} or the application defines a bean named
 * {@code redsyncHealthIndicator}.
 *
 * @since 0.1.0
 */
@AutoConfiguration(after = RedsyncAutoConfiguration.class)
@ConditionalOnClass({HealthIndicator.class, ConditionalOnEnabledHealthIndicator.class})
@ConditionalOnBean(Redsync.class)
@ConditionalOnEnabledHealthIndicator("redsync")
public class RedsyncHealthAutoConfiguration {

    /** Created by Spring. @since 0.1.0 */
    public RedsyncHealthAutoConfiguration() {
    }

    /**
     * The indicator.
     *
     * @param redsync    the instance
     * @param properties the settings, for the nodes' addresses when they come from {@code redsync.nodes}
     * @return the indicator
     * @since 0.1.0
     */
    @Bean
    @ConditionalOnMissingBean(name = "redsyncHealthIndicator")
    public RedsyncHealthIndicator redsyncHealthIndicator(Redsync redsync, ObjectProvider<RedsyncProperties> properties) {
        RedsyncProperties p = properties.getIfAvailable();
        return new RedsyncHealthIndicator(redsync, p == null ? java.util.List.of() : p.getNodes());
    }
}
