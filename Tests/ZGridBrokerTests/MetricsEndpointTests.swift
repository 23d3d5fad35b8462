import Foundation
import Testing
import ZeroMQ

@testable import ZGridBroker

#if canImport(Glibc)
    import Glibc
#endif

@Suite("The metrics endpoint answers every scrape", .timeLimit(.minutes(1)))
struct MetricsEndpointTests {
    /// A scraper: one plain TCP connection to the endpoint.
    private final class Scraper {
        let fd: Int32

        init(port: UInt16) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            try #require(fd >= 0 && connected == 0, "cannot connect to port \(port)")
            var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        func send(_ text: String) { _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) } }

        /// Closes the connection at once with a reset, as a scraper that gave up (a scrape timeout) may.
        func abort() {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            shutdown(fd, Int32(SHUT_RDWR))
        }

        /// Serves `endpoint` until the answer has come whole (the server closed the connection) or
        /// `seconds` have passed; returns what came.
        func answer(from endpoint: MetricsEndpoint, body: [UInt8], within seconds: Double) throws -> String {
            var received: [UInt8] = []
            var poller = Poller([endpoint.pollItem])
            var chunk = [UInt8](repeating: 0, count: 4096)
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                try poller.poll(timeoutMilliseconds: 10)
                if poller.isReadable(0) { try endpoint.serve { body } }
                let count = read(fd, &chunk, chunk.count)
                if count == 0 { break }  // the server closed the connection: the answer is whole
                if count > 0 { received += chunk[0..<count] }
            }
            return String(decoding: received, as: UTF8.self)
        }
    }

    @Test("a scraper that hangs up before its answer leaves later scrapes answered")
    func hangUpBeforeAnswer() throws {
        let context = try Context()
        let endpoint = try MetricsEndpoint(context: context, endpoint: "tcp://127.0.0.1:0")
        let port = try #require(UInt16(try endpoint.socket.lastEndpoint().split(separator: ":").last ?? ""))
        let body = Array("zgrid_workers 1\n".utf8)
        let request = "GET /metrics HTTP/1.1\r\nHost: broker\r\n\r\n"

        // Scrapers that gave up before the broker's loop got to their requests.
        for _ in 0..<3 {
            let quitter = try Scraper(port: port)
            quitter.send(request)
            Thread.sleep(forTimeInterval: 0.05)
            quitter.abort()
        }
        Thread.sleep(forTimeInterval: 0.2)
        var poller = Poller([endpoint.pollItem])
        try poller.poll(timeoutMilliseconds: 100)
        try endpoint.serve { body }

        let scraper = try Scraper(port: port)
        scraper.send(request)
        let answer = try scraper.answer(from: endpoint, body: body, within: 5)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"), "\(answer)")
        #expect(answer.hasSuffix("\r\n\r\nzgrid_workers 1\n"), "\(answer)")
    }
}
