package io.redsync.testkit;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds a runnable {@code redis-server}: {@code REDIS_SERVER}, else the {@code PATH}, else the binary inside
 * the embedded-redis jar.
 *
 * <p>The environment, OS name and architecture are parameters so tests can force each branch without
 * touching the real environment.
 */
final class BinaryResolver {
    static final String ENV_VAR = "REDIS_SERVER";

    private static final Pattern VERSION = Pattern.compile("\\bv=(\\S+)");

    /** How long {@code redis-server --version} may take; it prints and exits, so this only guards a broken binary. */
    private static final long VERSION_TIMEOUT_SECONDS = 10;

    private BinaryResolver() {}

    /** Resolves with this JVM's {@code os.name} and {@code os.arch}. */
    static RedisBinary resolve(Map<String, String> env) {
        return resolve(env, System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    }

    /**
     * Resolves in order {@code REDIS_SERVER}, {@code PATH} (taken from {@code env}), embedded-redis.
     *
     * @throws IllegalStateException when {@code REDIS_SERVER} is set but unusable (no fallback then: the
     *     user asked for that binary), or when no source yields a binary that runs
     */
    static RedisBinary resolve(Map<String, String> env, String osName, String osArch) {
        String explicit = env.get(ENV_VAR);
        if (explicit != null && !explicit.isBlank()) {
            Path path = Paths.get(explicit.trim()).toAbsolutePath();
            if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
                throw new IllegalStateException(ENV_VAR + " is set to " + path + ", which "
                        + (Files.exists(path) ? "is not an executable file" : "does not exist")
                        + ": point " + ENV_VAR + " at a redis-server executable, or unset it to use redis-server from the PATH");
            }
            try {
                return new RedisBinary(path, RedisBinary.SOURCE_ENV, version(path));
            } catch (IllegalStateException e) {
                throw new IllegalStateException(ENV_VAR + " is set to " + path + ", which does not run: " + e.getMessage()
                        + "; point " + ENV_VAR + " at a working redis-server, or unset it", e);
            }
        }

        // Reasons each candidate was rejected, for the final message when none works.
        List<String> rejected = new ArrayList<>();

        Path onPath = findOnPath(env.get("PATH"));
        if (onPath != null) {
            try {
                return new RedisBinary(onPath, RedisBinary.SOURCE_PATH, version(onPath));
            } catch (IllegalStateException e) {
                rejected.add(onPath + " (from PATH) does not run: " + e.getMessage());
            }
        } else {
            rejected.add("no redis-server on the PATH");
        }

        String resource = embeddedResourceName(osName, osArch);
        if (resource == null) {
            rejected.add("embedded-redis ships no redis-server for " + osName + "/" + osArch);
        } else {
            URL url = BinaryResolver.class.getClassLoader().getResource(resource);
            if (url == null) {
                rejected.add("com.github.codemonstur:embedded-redis is not on the classpath (looked for " + resource + ")");
            } else {
                try {
                    Path extracted = extract(url, resource);
                    return new RedisBinary(extracted, RedisBinary.SOURCE_EMBEDDED, version(extracted));
                } catch (UncheckedIOException | IllegalStateException e) {
                    rejected.add("the embedded " + resource + " could not be used: " + e.getMessage());
                }
            }
        }

        throw new IllegalStateException("No usable redis-server found (" + String.join("; ", rejected) + "). "
                + "Install one (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), "
                + "or set " + ENV_VAR + " to the path of a redis-server executable, "
                + "or use RedisNodes.docker() where Docker is available.");
    }

    /** The resource name of the embedded-redis binary for this platform, or null when it ships none. */
    static String embeddedResourceName(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        boolean x64 = arch.equals("amd64") || arch.equals("x86_64");
        boolean arm64 = arch.equals("aarch64") || arch.equals("arm64");
        if (os.contains("linux")) {
            if (x64) {
                return "redis-server-6.2.6-v5-linux-amd64";
            }
            if (arm64) {
                return "redis-server-6.2.7-linux-arm64";
            }
        } else if (os.contains("mac") || os.contains("darwin")) {
            if (x64) {
                return "redis-server-6.2.6-v5-darwin-amd64";
            }
            if (arm64) {
                return "redis-server-6.2.6-v5-darwin-arm64";
            }
        }
        return null;
    }

    private static Path findOnPath(String pathVariable) {
        if (pathVariable == null || pathVariable.isEmpty()) {
            return null;
        }
        for (String dir : pathVariable.split(Pattern.quote(File.pathSeparator))) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Paths.get(dir, "redis-server");
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toAbsolutePath();
            }
        }
        return null;
    }

    /**
     * Copies the binary out of the jar once per machine and reuses it afterwards.
     *
     * <p>The copy goes to a temporary name and is then renamed, so a second JVM extracting at the same time
     * never executes a half-written file. An existing copy is reused only when its size matches the
     * resource, which catches a copy truncated by a crash before the rename-based scheme existed or by a
     * full disk.
     */
    private static Path extract(URL url, String resource) {
        try {
            URLConnection connection = url.openConnection();
            // Jar URL connections cache the jar file; keeping that open would leak a file handle per call.
            connection.setUseCaches(false);
            long size = connection.getContentLengthLong();
            Path dir = Paths.get(System.getProperty("java.io.tmpdir"), "redsync-testkit-bin-" + sanitize(System.getProperty("user.name", "user")));
            Files.createDirectories(dir);
            Path target = dir.resolve(resource);
            if (size >= 0 && Files.isRegularFile(target) && Files.size(target) == size && Files.isExecutable(target)) {
                return target;
            }
            Path temp = Files.createTempFile(dir, resource + "-", ".tmp");
            try {
                try (InputStream in = connection.getInputStream()) {
                    Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
                }
                makeExecutable(temp);
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temp);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("extracting " + resource + " to java.io.tmpdir failed: " + e.getMessage(), e);
        }
    }

    private static void makeExecutable(Path file) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException e) {
            if (!file.toFile().setExecutable(true)) {
                throw new IOException("cannot make " + file + " executable", e);
            }
        }
    }

    private static String sanitize(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    /** Runs {@code <binary> --version} and extracts {@code x.y.z} from its {@code v=x.y.z} field. */
    static String version(Path binary) {
        Process process;
        try {
            process = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot execute " + binary + ": " + e.getMessage(), e);
        }
        try {
            byte[] output;
            try (InputStream in = process.getInputStream()) {
                // --version prints one short line; reading to EOF also waits for the process to close stdout.
                output = in.readNBytes(4096);
            }
            if (!process.waitFor(VERSION_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("'" + binary + " --version' did not exit within " + VERSION_TIMEOUT_SECONDS + " s");
            }
            String text = new String(output, StandardCharsets.UTF_8).trim();
            Matcher m = VERSION.matcher(text);
            if (process.exitValue() != 0 || !m.find()) {
                throw new IllegalStateException("'" + binary + " --version' exited with " + process.exitValue()
                        + " and printed '" + text + "', not 'Redis server v=x.y.z ...'");
            }
            return m.group(1);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the output of '" + binary + " --version': " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running '" + binary + " --version'", e);
        } finally {
            process.destroyForcibly();
        }
    }
}
