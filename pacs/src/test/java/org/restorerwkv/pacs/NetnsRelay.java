package org.restorerwkv.pacs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs inside Orthanc's private network namespace (started by {@link OrthancServer} through
 * {@code unshare -n}): starts Orthanc as its child, and relays connections from a Unix-domain
 * socket (which crosses network namespaces, being a file) to Orthanc's HTTP port on the namespace's
 * own loopback. Reads commands on stdin: "kill" stops Orthanc with SIGKILL (a server that dies),
 * end of input stops it with SIGTERM; either way the relay exits after Orthanc has.
 *
 * <p>Arguments: SOCKET PORT ORTHANC_COMMAND...
 */
public final class NetnsRelay {

    private NetnsRelay() {}

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        List<String> command = new ArrayList<>(List.of(args).subList(2, args.length));
        Process orthanc = new ProcessBuilder(command).inheritIO().redirectInput(ProcessBuilder.Redirect.PIPE).start();
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    SocketChannel client = server.accept();
                    SocketChannel upstream;
                    try {
                        upstream = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
                    } catch (IOException e) {
                        client.close(); // Orthanc not listening yet: the caller polls again
                        continue;
                    }
                    pump(client, upstream);
                    pump(upstream, client);
                }
            } catch (IOException e) {
                // the socket closed: the relay is stopping
            }
        }, "relay-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        boolean kill = false;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.trim().equals("kill")) {
                    kill = true;
                    break;
                }
            }
        }
        if (kill) {
            orthanc.destroyForcibly();
        } else {
            orthanc.destroy();
            if (!orthanc.waitFor(20, TimeUnit.SECONDS)) {
                orthanc.destroyForcibly();
            }
        }
        orthanc.waitFor();
        server.close();
        Files.deleteIfExists(socket);
        System.exit(0);
    }

    static void pump(SocketChannel from, SocketChannel to) {
        Thread t = new Thread(() -> {
            ByteBuffer b = ByteBuffer.allocate(1 << 16);
            try {
                while (from.read(b) >= 0) {
                    b.flip();
                    while (b.hasRemaining()) {
                        to.write(b);
                    }
                    b.clear();
                }
            } catch (IOException e) {
                // the other side closed
            }
            // one side is done: HTTP needs no half-closed connections, so end both
            closeQuietly(to);
            closeQuietly(from);
        }, "relay-pump");
        t.setDaemon(true);
        t.start();
    }

    static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing after a failure
        }
    }
}
