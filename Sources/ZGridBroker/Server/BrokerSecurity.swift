import ZGridProtocol
import ZeroMQ

/// CURVE on the broker's endpoints: its own key pair and the public keys let in, by role.
public struct BrokerSecurity: Sendable, Equatable {
    /// The broker's key pair; clients and workers need its public key.
    public var serverKeys: CurveKeyPair
    /// Public keys (Z85) allowed to act as clients.
    public var clientKeys: Set<String>
    /// Public keys (Z85) allowed to act as workers.
    public var workerKeys: Set<String>

    /// Creates security settings.
    public init(serverKeys: CurveKeyPair, clientKeys: Set<String>, workerKeys: Set<String>) {
        self.serverKeys = serverKeys
        self.clientKeys = clientKeys
        self.workerKeys = workerKeys
    }

    /// The role a ZAP request's key gets, as the ZAP user id: "client", "worker" or "client+worker";
    /// nil for an unknown key.
    func role(ofKey key: String) -> String? {
        switch (clientKeys.contains(key), workerKeys.contains(key)) {
        case (true, true): "client+worker"
        case (true, false): "client"
        case (false, true): "worker"
        case (false, false): nil
        }
    }
}

/// The broker's ZAP handler and handshake monitor, polled by the loop: admits listed keys with
/// their role, and logs each refused key or failed handshake once.
final class SecurityGate {
    let security: BrokerSecurity
    let zap: Socket
    let monitor: Socket
    private let buffer = Multipart(capacity: 16)
    private var logged: Set<String> = []
    /// Refusals so far: unknown keys, failed handshakes, commands outside a peer's role.
    private(set) var refusals = 0
    /// The ZAP metadata property that gives each admitted connection's CURVE public key (Z85), read
    /// from a worker's READY only.
    static let keyProperty = "X-Curve-Key"

    /// Binds the ZAP endpoint in `context` and starts monitoring `router`'s handshakes.
    init(security: BrokerSecurity, context: Context, router: borrowing Socket, monitorEndpoint: String) throws(ZMQError) {
        self.security = security
        zap = try Socket(context, type: .rep)
        try zap.bind("inproc://zeromq.zap.01")
        try router.monitorHandshakeFailures(on: monitorEndpoint)
        monitor = try Socket(context, type: .pair)
        try monitor.connect(monitorEndpoint)
    }

    /// Answers waiting ZAP requests; returns log lines for refusals not logged before.
    func answerZAP() throws(ZMQError) -> [String] {
        var lines: [String] = []
        while try zap.receive(into: buffer) {
            guard buffer.count >= 6 else { continue }
            let version = buffer.bytes(0)
            let requestID = buffer.bytes(1)
            let address = String(decoding: buffer.bytes(3), as: UTF8.self)
            let mechanism = String(decoding: buffer.bytes(5), as: UTF8.self)
            var role: String?
            var key = ""
            if mechanism == "CURVE", buffer.count >= 7, let text = Curve.z85(buffer.bytes(6)) {
                key = text
                role = security.role(ofKey: text)
            }
            if role == nil {
                refusals += 1
                if note("key \(key) \(mechanism)") {
                    lines.append("refused \(mechanism) peer \(address)" + (key.isEmpty ? "" : " with unknown key \(key)"))
                }
            }
            try zap.send(frames: [
                version, requestID, Array((role == nil ? "400" : "200").utf8), Array((role == nil ? "unknown key" : "OK").utf8),
                Array((role ?? "").utf8), role == nil ? [] : Self.metadata(Self.keyProperty, key),
            ])
        }
        return lines
    }

    /// Reads handshake failures; returns log lines for ones not logged before. A failure for a key
    /// the ZAP handler refused is skipped: ``answerZAP()`` counted and logged it already. libzmq
    /// names the broker's endpoint, not the peer, so the lines say on which endpoint it failed.
    func readMonitor() throws(ZMQError) -> [String] {
        var lines: [String] = []
        while try monitor.receive(into: buffer) {
            guard buffer.count >= 2 else { continue }
            let event = buffer.withBytes(0) { $0.count >= 2 ? UInt16($0[0]) | UInt16($0[1]) << 8 : 0 }
            guard MonitorEvent(buffer) != .handshakeFailed(refusedKey: true) else { continue }
            let endpoint = String(decoding: buffer.bytes(1), as: UTF8.self)
            refusals += 1
            if note("handshake \(endpoint) \(event)") {
                lines.append(
                    "a handshake on \(endpoint) failed (event \(event)): a peer with the wrong server key, without CURVE, "
                        + "or not speaking ZMTP (libzmq does not name the peer)")
            }
        }
        return lines
    }

    /// ZAP metadata holding one property (ZMTP's encoding: name length, name, 32-bit value length,
    /// value).
    static func metadata(_ name: String, _ value: String) -> [UInt8] {
        var bytes = [UInt8(name.utf8.count)] + Array(name.utf8)
        bytes.appendBigEndian(UInt32(value.utf8.count))
        return bytes + Array(value.utf8)
    }

    /// Counts a READY from `peer` that named the session `previous` of another CURVE key (it
    /// registered without resuming); returns a log line the first time for `peer`.
    func refuseResume(_ peer: String, previous: String) -> String? {
        refusals += 1
        return note("resume \(peer)")
            ? "refused \(peer)'s resume of the session of \(previous): that session has another CURVE key "
                + "(registered \(peer) without resuming; \(previous) keeps its calls)" : nil
    }

    /// Counts a refusal of a command outside the peer's role; returns a log line the first time.
    func refuseRole(_ peer: String, role: String, command: String) -> String? {
        refusals += 1
        return note("role \(peer) \(command)") ? "refused \(command) from \(role) peer \(peer): outside its role" : nil
    }

    /// Whether `what` is new (and records it); the record is bounded.
    private func note(_ what: String) -> Bool {
        if logged.count > 10_000 { logged.removeAll() }
        return logged.insert(what).inserted
    }
}
