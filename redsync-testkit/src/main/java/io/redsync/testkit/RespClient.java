package io.redsync.testkit;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal blocking RESP2 client: one socket, one command at a time.
 *
 * <p>The testkit owns this client instead of using Lettuce or Jedis so that the libraries under test
 * (redsync-core uses Lettuce) can depend on the testkit without a cycle or a version clash. Every read has
 * a timeout because a {@link RedisNode#pause() paused} server accepts connections (the kernel completes
 * the handshake) but never answers.
 *
 * <p>Replies map to Java as: simple and bulk strings to {@link String} (UTF-8), integers to {@link Long},
 * arrays to {@code List<Object>}, null bulk strings and null arrays to {@code null}; an error reply throws
 * {@link RedisReplyException}. Not thread-safe: use one client per thread.
 */
final class RespClient implements Closeable {
    /** Connect and read timeout used by {@link RedisNode#call}: long enough for a slow CI machine, short enough to notice a hang. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RespClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = new BufferedOutputStream(socket.getOutputStream());
    }

    /**
     * Connects, and authenticates when {@code password} is not null.
     *
     * @param timeout bounds the TCP connect and then every single read
     * @throws IOException when the connection fails or a read times out
     * @throws RedisReplyException when {@code AUTH} is refused
     */
    static RespClient connect(String host, int port, String password, Duration timeout) throws IOException {
        int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), millis);
            socket.setSoTimeout(millis);
            RespClient client = new RespClient(socket);
            if (password != null) {
                client.call("AUTH", password);
            }
            return client;
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket);
            throw e;
        }
    }

    /**
     * Sends one command and reads its reply.
     *
     * @throws IOException when the connection breaks or the reply does not arrive within the timeout
     * @throws RedisReplyException when Redis answers with an error
     */
    Object call(String... command) throws IOException {
        if (command.length == 0) {
            throw new IllegalArgumentException("command must not be empty: pass the command name and its arguments, e.g. call(\"PING\")");
        }
        writeCommand(command);
        out.flush();
        Object reply = readReply();
        if (reply instanceof ErrorReply) {
            throw new RedisReplyException(((ErrorReply) reply).message);
        }
        return reply;
    }

    @Override
    public void close() {
        closeQuietly(socket);
    }

    private void writeCommand(String[] command) throws IOException {
        out.write(('*' + Integer.toString(command.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (String part : command) {
            if (part == null) {
                throw new IllegalArgumentException("command arguments must not be null");
            }
            byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
            out.write(('$' + Integer.toString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.write('\r');
            out.write('\n');
        }
    }

    /** Reads one reply; an error nested in an array (e.g. from EXEC) is kept as an {@link ErrorReply} element. */
    private Object readReply() throws IOException {
        int type = in.read();
        if (type == -1) {
            throw new EOFException("connection closed by the server before a reply");
        }
        String line = readLine();
        switch (type) {
            case '+':
                return line;
            case '-':
                return new ErrorReply(line);
            case ':':
                return parseLong(line);
            case '$': {
                long length = parseLong(line);
                if (length < 0) {
                    return null;
                }
                byte[] data = in.readNBytes((int) length);
                if (data.length != length) {
                    throw new EOFException("connection closed in the middle of a bulk string");
                }
                readLine(); // the CRLF after the payload
                return new String(data, StandardCharsets.UTF_8);
            }
            case '*': {
                long count = parseLong(line);
                if (count < 0) {
                    return null;
                }
                List<Object> items = new ArrayList<>((int) Math.min(count, 1024));
                for (long i = 0; i < count; i++) {
                    Object item = readReply();
                    items.add(item instanceof ErrorReply ? new RedisReplyException(((ErrorReply) item).message) : item);
                }
                return items;
            }
            default:
                throw new ProtocolException("unexpected RESP type byte '" + (char) type + "' (only RESP2 is supported; do not send HELLO 3)");
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(64);
        while (true) {
            int b = in.read();
            if (b == -1) {
                throw new EOFException("connection closed in the middle of a reply");
            }
            if (b == '\r') {
                int next = in.read();
                if (next == '\n') {
                    return line.toString(StandardCharsets.UTF_8);
                }
                throw new ProtocolException("expected LF after CR in a RESP line");
            }
            line.write(b);
        }
    }

    private static long parseLong(String line) throws ProtocolException {
        try {
            return Long.parseLong(line);
        } catch (NumberFormatException e) {
            throw new ProtocolException("expected an integer in a RESP reply, got '" + line + "'");
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Nothing to do: the socket is unusable either way.
        }
    }

    /** An error reply, kept apart from strings so a nested error is not mistaken for a value. */
    private static final class ErrorReply {
        final String message;

        ErrorReply(String message) {
            this.message = message;
        }
    }
}
