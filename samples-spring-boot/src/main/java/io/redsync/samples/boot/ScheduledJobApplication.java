package io.redsync.samples.boot;

import net.javacrumbs.shedlock.spring.annotation.EnableSchedulerLock;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * A Spring Boot application whose {@link TickJob} runs on one instance per tick, however many instances run:
 * the redsync starter makes the {@code Redsync} bean from {@code redsync.nodes} and the ShedLock provider over it.
 * ScheduledJobSampleSpec starts three of them as separate JVMs over three Redis nodes and kills one node meanwhile.
 *
 * <pre>
 * java -cp ... io.redsync.samples.boot.ScheduledJobApplication \
 *     --redsync.nodes=redis://10.0.0.1:6379,redis://10.0.0.2:6379,redis://10.0.0.3:6379 --sample.ticks-file=/tmp/ticks
 * </pre>
 */
@SpringBootApplication
@EnableScheduling
@EnableSchedulerLock(defaultLockAtMostFor = "10s")
public class ScheduledJobApplication {

    /**
     * Starts the application.
     *
     * @param args Spring Boot's arguments, e.g. {@code --redsync.nodes=...}
     */
    public static void main(String[] args) {
        SpringApplication.run(ScheduledJobApplication.class, args);
    }
}
