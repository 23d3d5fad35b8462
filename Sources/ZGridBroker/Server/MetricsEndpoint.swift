import ZeroMQ

/// A minimal HTTP endpoint on a ZeroMQ STREAM socket, polled by the broker loop: any GET is
/// answered with the Prometheus text of the broker's metrics, then the connection is closed.
final class MetricsEndpoint {
    let socket: Socket
    private let buffer = Multipart(capacity: 4)

    /// Binds `endpoint`, such as `tcp://127.0.0.1:9464`.
    init(context: Context, endpoint: String) throws(ZMQError) {
        socket = try Socket(context, type: .stream)
        try socket.bind(endpoint)
    }

    /// The poll entry of the socket.
    var pollItem: PollItem { socket.pollItem() }

    /// Answers every waiting request with `body()`.
    func serve(_ body: () -> [UInt8]) throws(ZMQError) {
        while try socket.receive(into: buffer) {
            guard buffer.count >= 2, buffer.size(1) > 0 else { continue }  // connect/disconnect notices
            let connection = buffer.bytes(0)
            let request = buffer.bytes(1)
            let isGet = request.starts(with: Array("GET ".utf8))
            let content = isGet ? body() : Array("only GET is served here\n".utf8)
            let status = isGet ? "200 OK" : "405 Method Not Allowed"
            let head =
                "HTTP/1.1 \(status)\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(content.count)\r\nConnection: close\r\n\r\n"
            // A connection the scraper closed meanwhile (a scrape timeout) takes no answer. The
            // routing id frame must then not be followed by the rest: the STREAM socket would read
            // the next frame as a routing id, and every later answer would go astray.
            guard try socket.send(connection, more: true) else { continue }
            try socket.send(Array(head.utf8) + content)
            // An empty frame closes the connection.
            if try socket.send(connection, more: true) { try socket.send([UInt8]()) }
        }
    }
}
