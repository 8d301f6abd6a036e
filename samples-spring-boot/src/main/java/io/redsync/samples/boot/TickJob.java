package io.redsync.samples.boot;

import net.javacrumbs.shedlock.spring.annotation.SchedulerLock;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * A job scheduled on every instance every {@code sample.tick-seconds} (cron, so the instances' ticks line up), which
 * ShedLock runs on one of them: it appends {@code <tick> <pid> <ms late>} to {@code sample.ticks-file}, where the spec
 * counts the runs per tick (how late the run started after the tick's second tells a tick that lockAtLeastFor of a
 * late previous run swallowed from one that went missing).
 */
@Component
public class TickJob {
    private final long tickSeconds;
    private final Path ticksFile;

    TickJob(@Value("${sample.tick-seconds}") long tickSeconds, @Value("${sample.ticks-file}") Path ticksFile) {
        this.tickSeconds = tickSeconds;
        this.ticksFile = ticksFile;
    }

    // region README scheduler-lock
    // Every instance schedules it; one runs it per tick. lockAtLeastFor keeps the lock after a quick run, so an
    // instance whose scheduler fires a little later skips this tick instead of running it again.
    @Scheduled(cron = "*/${sample.tick-seconds} * * * * *")
    @SchedulerLock(name = "tick", lockAtLeastFor = "${sample.lock-at-least-for}", lockAtMostFor = "10s")
    public void tick() {
        record(Instant.now());
    }
    // endregion

    private void record(Instant now) {
        long tick = now.getEpochSecond() / tickSeconds;
        long late = now.toEpochMilli() - tick * tickSeconds * 1000;
        try {
            // One short write with O_APPEND: the three JVMs' lines never interleave.
            Files.writeString(ticksFile, tick + " " + ProcessHandle.current().pid() + " " + late + "\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
