package org.restorerwkv.pacs;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Orthanc (Debian's {@code orthanc} + {@code orthanc-dicomweb}) for tests, in a private
 * network namespace ({@code unshare -n}, loopback only) because Orthanc has no bind-address option:
 * it is reachable only through a Unix-domain socket, which this fixture exposes on 127.0.0.1 at a
 * free port. Own temporary storage, remote access off, authentication on, DICOM port off. Stops only
 * the processes it started.
 */
public final class OrthancServer implements AutoCloseable {

    public static final String ORTHANC = "/usr/sbin/Orthanc";
    /** Where Debian's orthanc-dicomweb puts the plugin ({@code dpkg -L orthanc-dicomweb}). */
    public static final String DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";
    public static final String USER = "restorer";
    public static final String PASSWORD = "s3cret-for-tests";
    private static final int INNER_PORT = 8042;

    private final Path dir;
    private final Path socket;
    private final ServerSocket front;
    private Process process;

    /** Why Orthanc cannot run here, or null when it can. */
    public static String unavailable() {
        if (!Files.isExecutable(Path.of(ORTHANC)) || !Files.isRegularFile(Path.of(DICOMWEB_PLUGIN))) {
            return "Orthanc with its DICOMweb plugin is not installed (.ci/run installs it: apt-get install orthanc orthanc-dicomweb)";
        }
        if (!Files.isExecutable(Path.of("/usr/bin/unshare")) && !Files.isExecutable(Path.of("/bin/unshare"))) {
            return "unshare (util-linux) is missing";
        }
        return null;
    }

    /** Starts Orthanc with its storage under {@code dir} (reused by {@link #restart()}). */
    public OrthancServer(Path dir) throws IOException {
        this.dir = dir;
        this.socket = dir.resolve("orthanc.sock");
        this.front = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "orthanc-front");
        t.setDaemon(true);
        t.start();
        start();
    }

    /** The DICOMweb root. */
    public URI dicomWeb() {
        return URI.create("http://127.0.0.1:" + front.getLocalPort() + "/dicom-web");
    }

    /** Orthanc's own root (REST API, web interface). */
    public URI root() {
        return URI.create("http://127.0.0.1:" + front.getLocalPort());
    }

    public Credentials credentials() {
        return Credentials.basic(USER, PASSWORD);
    }

    private void start() throws IOException {
        Path storage = dir.resolve("storage");
        Files.createDirectories(storage);
        Path config = dir.resolve("orthanc.json");
        Files.writeString(config, """
                {
                  "Name": "restore-rwkv-test",
                  "StorageDirectory": "%s",
                  "IndexDirectory": "%s",
                  "HttpPort": %d,
                  "DicomServerEnabled": false,
                  "RemoteAccessAllowed": false,
                  "AuthenticationEnabled": true,
                  "RegisteredUsers": { "%s": "%s" },
                  "Plugins": [ "%s" ],
                  "DicomWeb": { "Enable": true, "Root": "/dicom-web/" }
                }
                """.formatted(storage, storage, INNER_PORT, USER, PASSWORD, DICOMWEB_PLUGIN), StandardCharsets.UTF_8);
        String classpath = Path.of(URI.create(NetnsRelay.class.getProtectionDomain().getCodeSource().getLocation().toString()))
                .toString();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String inner = "ip link set lo up && exec \"$0\" -Xmx64m -cp \"$1\" org.restorerwkv.pacs.NetnsRelay \"$2\" \"$3\" "
                + ORTHANC + " \"$4\"";
        List<String> cmd = new ArrayList<>(List.of("unshare", "-n", "--fork", "sh", "-c", inner, java, classpath,
                socket.toString(), Integer.toString(INNER_PORT), config.toString()));
        Path log = dir.resolve("orthanc.log");
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        awaitReady(log);
    }

    /** Polls GET /system (a readiness endpoint) a bounded number of times. */
    private void awaitReady(Path log) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        String auth = "Basic " + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 600; i++) {
            if (!process.isAlive()) {
                throw new IOException("Orthanc exited with " + process.exitValue() + ": " + tail(log));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(root().resolve("/system"))
                        .header("Authorization", auth).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            try {
                Thread.sleep(50); // the pause between readiness polls
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
        throw new IOException("Orthanc did not answer GET /system within 600 polls: " + tail(log));
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }

    /** Kills Orthanc with SIGKILL (a server that dies), and waits until it is gone. */
    public void kill() throws IOException {
        command("kill\n");
        awaitExit();
    }

    /** Starts Orthanc again on the same storage and address. */
    public void restart() throws IOException {
        if (process != null && process.isAlive()) {
            stop();
        }
        start();
    }

    private void command(String s) throws IOException {
        OutputStream in = process.getOutputStream();
        in.write(s.getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    private void stop() throws IOException {
        try {
            process.getOutputStream().close(); // end of input: the relay stops Orthanc with SIGTERM
        } catch (IOException ignored) {
            // already gone
        }
        awaitExit();
    }

    private void awaitExit() throws IOException {
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        if (process != null && process.isAlive()) {
            stop();
        }
        front.close();
    }

    private void accept() {
        try {
            while (true) {
                Socket c = front.accept();
                SocketChannel up;
                try {
                    up = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                } catch (IOException e) {
                    c.close(); // Orthanc down: the client sees the connection closed
                    continue;
                }
                // the channel itself, not Channels' streams: those lock the channel for a blocked read,
                // which would stall the other direction's write
                java.io.InputStream fromClient = c.getInputStream();
                OutputStream toClient = c.getOutputStream();
                pump(() -> {
                    byte[] b = new byte[1 << 16];
                    int n;
                    while ((n = fromClient.read(b)) >= 0) {
                        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b, 0, n);
                        while (bb.hasRemaining()) {
                            up.write(bb);
                        }
                    }
                }, c, up);
                pump(() -> {
                    java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(1 << 16);
                    while (up.read(bb) >= 0) {
                        toClient.write(bb.array(), 0, bb.position());
                        toClient.flush();
                        bb.clear();
                    }
                }, c, up);
            }
        } catch (IOException e) {
            // front closed
        }
    }

    private interface Copy {
        void run() throws IOException;
    }

    private static void pump(Copy copy, Socket c, SocketChannel up) {
        Thread t = new Thread(() -> {
            try {
                copy.run();
            } catch (IOException ignored) {
                // one side closed
            }
            try {
                c.close();
                up.close();
            } catch (IOException ignored) {
                // closing
            }
        }, "orthanc-front-pump");
        t.setDaemon(true);
        t.start();
    }
}
