import Foundation
import Testing
import ZGridProtocol
import ZeroMQ

/// docs/PROTOCOL.md against the encoders and decoders: the command tables, the frame counts of
/// every command, the error codes, the reasons of malformed messages and the size limits.
@Suite("docs/PROTOCOL.md matches the protocol code")
struct ProtocolDocTests {
    /// One sub-protocol's section of the document, and who receives what in it.
    struct SubProtocol: CustomStringConvertible, Sendable {
        /// The section's heading line.
        var heading: String
        /// The command name the document uses (`JOB-REPLY`) and the byte of each command the code defines.
        var commands: [(name: String, byte: UInt8)]
        /// Who takes a command its other side sends.
        var peer: Receiver

        var description: String { heading }

        /// The receivers of a command sent by `sender` (as the table's "Sent by" says).
        func receivers(ofSentBy sender: String) -> [Receiver] {
            switch sender {
            case "broker": [peer]
            case "both": [.broker, peer]
            default: [.broker]
            }
        }

        /// The smallest well-formed message of the command with `byte`.
        func smallest(_ byte: UInt8) -> [[UInt8]] {
            peer == .client
                ? ExampleMessages.smallest(ClientCommand(rawValue: byte)!) : ExampleMessages.smallest(WorkerCommand(rawValue: byte)!)
        }

        static let client = SubProtocol(
            heading: "## ZGC01: the Client Protocol", commands: ClientCommand.allCases.map { (documentName($0), $0.rawValue) },
            peer: .client)
        static let worker = SubProtocol(
            heading: "## ZGW01: the Worker Protocol", commands: WorkerCommand.allCases.map { (documentName($0), $0.rawValue) },
            peer: .worker)
    }

    /// `jobReply` → `JOB-REPLY`: the document's name of a command case.
    static func documentName(_ command: some RawRepresentable) -> String {
        String(describing: command).replacing(/([a-z])([A-Z])/) { "\($0.1)-\($0.2)" }.uppercased()
    }

    private let document: ProtocolDocument

    init() throws { document = try ProtocolDocument.load() }

    @Test(
        "each sub-protocol's command table lists every command of the code, with its byte and sender",
        arguments: [SubProtocol.client, .worker])
    func commandTables(_ protocolUnderTest: SubProtocol) throws {
        let section = document.section(protocolUnderTest.heading)
        let rows = ProtocolDocument.table(in: section, firstColumn: "Command")
        let documented = Dictionary(rows.map { ($0[0], $0[1]) }, uniquingKeysWith: { first, _ in first })
        let defined = Dictionary(uniqueKeysWithValues: protocolUnderTest.commands.map { ($0.name, String(format: "`0x%02X`", $0.byte)) })
        #expect(documented == defined)
        for row in rows {
            guard let byte = protocolUnderTest.commands.first(where: { $0.name == row[0] })?.byte else { continue }
            let message = protocolUnderTest.smallest(byte)
            let receivers = protocolUnderTest.receivers(ofSentBy: row[2])
            for receiver in [Receiver.broker, protocolUnderTest.peer] {
                let refusal = receiver.refusal(of: message)
                if receivers.contains(receiver) {
                    #expect(refusal != .unknownCommand, "\(row[0]) is sent by \(row[2]), but \(receiver) does not take it")
                } else {
                    #expect(refusal == .unknownCommand, "\(row[0]) is sent by \(row[2]) only, but \(receiver) takes it")
                }
            }
        }
    }

    @Test("every command's frame count is what its receivers take", arguments: [SubProtocol.client, .worker])
    func frameCounts(_ protocolUnderTest: SubProtocol) throws {
        let section = document.section(protocolUnderTest.heading)
        for row in ProtocolDocument.table(in: section, firstColumn: "Command") {
            guard let byte = protocolUnderTest.commands.first(where: { $0.name == row[0] })?.byte else { continue }
            guard let count = ProtocolDocument.frameCount(of: row[0], in: section) else {
                Issue.record("\(protocolUnderTest.heading.prefix(8)): no frame count for \(row[0])")
                continue
            }
            let smallest = protocolUnderTest.smallest(byte)
            #expect(smallest.count == count.low, "\(row[0]): the document says \(count), the smallest message has \(smallest.count)")
            for receiver in protocolUnderTest.receivers(ofSentBy: row[2]) {
                #expect(receiver.refusal(of: smallest) == nil, "\(receiver) refuses \(row[0]) of \(count.low) frames")
                #expect(
                    receiver.refusal(of: Array(smallest.dropLast())) != nil, "\(receiver) takes \(row[0]) of \(count.low - 1) frames")
                guard let high = count.high, !Self.takesMore.contains(row[0]) || receiver == .broker else { continue }
                let longest = smallest + Array(repeating: ExampleMessages.further, count: high - count.low)
                #expect(receiver.refusal(of: longest) == nil, "\(receiver) refuses \(row[0]) of \(high) frames")
                #expect(
                    receiver.refusal(of: longest + [ExampleMessages.further]) != nil, "\(receiver) takes \(row[0]) of \(high + 1) frames")
            }
        }
    }

    /// Answers the broker sends with exactly 4 frames, which a client takes with more (Handling
    /// of Bad Input says so).
    private static let takesMore: Set = ["JOB-REPLY", "ADMIN-REPLY"]

    @Test("the unknownCommand reason names every command the broker only sends")
    func brokerOnlyCommands() throws {
        let rows = ProtocolDocument.table(in: document.section("## Handling of Bad Input"), firstColumn: "Reason")
        let condition = try #require(rows.first { $0[0] == "`unknownCommand`" }?[1])
        for protocolUnderTest in [SubProtocol.client, .worker] {
            let tag = protocolUnderTest == .client ? "ZGC01" : "ZGW01"
            let clause = try #require(condition.firstMatch(of: try Regex("(?:\\(|; )([^;()]*) under \(tag)"))?.output[1].substring)
            let named = Set(clause.replacing(" or ", with: ", ").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let rows = ProtocolDocument.table(in: document.section(protocolUnderTest.heading), firstColumn: "Command")
            #expect(named == Set(rows.filter { $0[2] == "broker" }.map { $0[0] }), "\(tag)")
        }
    }

    @Test("the error code table has every code of the code, by number and name")
    func errorCodes() throws {
        let rows = ProtocolDocument.table(in: document.section("## Error Codes"), firstColumn: "Code")
        let documented = Dictionary(uniqueKeysWithValues: rows.map { (UInt16($0[0]) ?? 0, $0[1]) })
        #expect(documented == Dictionary(uniqueKeysWithValues: ErrorCode.allCases.map { ($0.rawValue, Self.documentName($0)) }))
    }

    /// `unknownFunction` → `UNKNOWN_FUNCTION`: the document's name of an error code.
    static func documentName(_ code: ErrorCode) -> String {
        let name: String =
            switch code {
            case .unknownFunction: "unknownFunction"
            case .timeout: "timeout"
            case .workerLost: "workerLost"
            case .handlerError: "handlerError"
            case .busy: "busy"
            case .malformed: "malformed"
            case .cancelled: "cancelled"
            case .shuttingDown: "shuttingDown"
            case .internal: "internal"
            case .clientExpired: "clientExpired"
            case .unknownSubscription: "unknownSubscription"
            }
        return name.replacing(/([a-z])([A-Z])/) { "\($0.1)_\($0.2)" }.uppercased()
    }

    @Test("the table of malformed reasons has every reason of the code")
    func malformedReasons() throws {
        let rows = ProtocolDocument.table(in: document.section("## Handling of Bad Input"), firstColumn: "Reason")
        #expect(Set(rows.map(\.[0])) == Set(MalformedReason.allCases.map { "`\(Self.caseName($0))`" }))
    }

    /// The Swift name of a reason, as the document writes it.
    static func caseName(_ reason: MalformedReason) -> String {
        switch reason {
        case .tooManyFrames: "tooManyFrames"
        case .missingFrames: "missingFrames"
        case .unknownProtocol: "unknownProtocol"
        case .unknownCommand: "unknownCommand"
        case .badID: "badID"
        case .badFunctionName: "badFunctionName"
        case .badHeader: "badHeader"
        case .badConcurrency: "badConcurrency"
        case .badErrorCode: "badErrorCode"
        case .badScatterSpec: "badScatterSpec"
        case .badPart: "badPart"
        case .badJobSpec: "badJobSpec"
        case .badVerb: "badVerb"
        case .badEnvelope: "badEnvelope"
        case .frameTooLarge: "frameTooLarge"
        case .badProgress: "badProgress"
        case .badBatch: "badBatch"
        }
    }

    @Test("the verbs of JOB, JOBS and ADMIN are those of the code")
    func verbs() throws {
        let section = document.section(SubProtocol.client.heading)
        func documented(_ command: String) throws -> [String: UInt8] {
            let definition = try #require(section.range(of: "\n**\(command)**: "), "no definition of \(command)")
            let line = try #require(
                section[definition.upperBound...].firstMatch(of: /Frame 3: verb \(1 byte\): ([^\n]*)/)?.output.1, "no verbs of \(command)")
            return Dictionary(
                uniqueKeysWithValues: line.matches(of: /(\d+) ([A-Z]+)/).map { (String($0.output.2), UInt8($0.output.1)!) })
        }
        func defined<Verb: CaseIterable & RawRepresentable<UInt8>>(_: Verb.Type) -> [String: UInt8] {
            Dictionary(uniqueKeysWithValues: Verb.allCases.map { (String(describing: $0).uppercased(), $0.rawValue) })
        }
        #expect(try documented("JOB") == defined(JobVerb.self))
        #expect(try documented("JOBS") == defined(JobsVerb.self))
        #expect(try documented("ADMIN") == defined(AdminVerb.self))
    }

    @Test("the Majordomo tables give the tags and command bytes of the code, and the frame counts it takes")
    func majordomo() throws {
        let rows = ProtocolDocument.table(in: document.section("### MDP/Worker"), firstColumn: "MDP")
        let clientRows = ProtocolDocument.table(in: document.section("### MDP/Client"), firstColumn: "MDP")
        let worker = rows.compactMap { $0[0].firstMatch(of: /^([A-Z]+): `""`, `MDPW01`, `0x([0-9A-F]{2})`/) }
        #expect(
            Dictionary(uniqueKeysWithValues: worker.map { (String($0.output.1), UInt8($0.output.2, radix: 16)!) })
                == Dictionary(uniqueKeysWithValues: MajordomoCommand.allCases.map { (String(describing: $0).uppercased(), $0.rawValue) }))
        #expect(clientRows.contains { $0[0].hasPrefix("REQUEST: `\"\"`, `\(String(decoding: Majordomo.clientTag, as: UTF8.self))`") })
        // Bad MDP Input: READY needs 4 frames, REPLY 5 (the empty frame 0 counted), a client REQUEST 3.
        let bad = document.section("### Bad MDP Input")
        for (phrase, frames) in [
            ("`missingFrames` (fewer than 3 frames)", [[], Majordomo.clientTag, Array("echo".utf8)]),
            (
                "for READY `missingFrames` (fewer than 4 frames)",
                [[], Majordomo.workerTag, [MajordomoCommand.ready.rawValue], Array("echo".utf8)]
            ),
            (
                "for REPLY `missingFrames` (fewer than 5 frames)",
                [[], Majordomo.workerTag, [MajordomoCommand.reply.rawValue], [0, 0, 0, 0, 0, 0, 0, 1], []]
            ),
        ] as [(String, [[UInt8]])] {
            #expect(bad.contains(phrase), "the document should say \(phrase)")
            #expect(Self.majordomoRefusal(frames) == nil, "\(phrase): \(frames.count) frames are refused")
            #expect(Self.majordomoRefusal(Array(frames.dropLast())) != nil, "\(phrase): \(frames.count - 1) frames are taken")
        }
    }

    /// Why the broker refuses an MDP message of `frames` (after the identity), or nil.
    private static func majordomoRefusal(_ frames: [[UInt8]]) -> MalformedReason? {
        let message = Multipart(capacity: 16)
        message.append([0, 0x80, 0, 0, 0x2A])
        for frame in frames { message.append(frame) }
        if case .failure(let reason) = MajordomoInbound.decode(message) { return reason }
        return nil
    }

    @Test(
        "states the limits the code enforces",
        arguments: [
            ("A function name is 1 to # bytes", FunctionName.maxLength),
            ("; 1 to #", ShardSpec.maxTotal),
            ("A header frame shorter than 8 bytes or longer than # bytes is malformed", CallHeader.maxSize),
            ("Frame 4: call header (# or more bytes)", CallHeader.size),
            ("Frame 5: scatter spec (# or more bytes", ScatterSpec.size),
            ("Frame 4: job spec (# or more bytes", JobSpec.size),
            ("unique key (UTF-8, at most # bytes", JobKeys.maxLength),
            ("`fairness` and `batch` (each 1 to # bytes", JobKeys.maxLength),
            ("at most # tags", JobTags.maxCount),
            ("each 1 to # bytes without a comma", JobTags.maxLength),
            ("concurrency (u32, 1 to #)", BrokerInbound.maxConcurrency),
            ("the routing identity the worker had in the session it resumes (1 to # bytes)", SessionResume.maxIdentityBytes),
            ("**at most #** requests or results", BatchedRequest.maxPerMessage),
            ("# bytes per item, 1 to", BatchItems.itemSize),
            ("bytes per item, 1 to # items", BatchItems.maxItems),
            ("message (UTF-8, at most # bytes, MAY be empty)", ProgressReport.maxMessageBytes),
            ("A name longer than # bytes or empty is answered ERROR MALFORMED", SubscribeRequest.maxNameBytes),
        ])
    func limits(_ phrase: String, _ value: Int) {
        let spellings = [String(value), value.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))]
        #expect(
            spellings.contains { document.text.contains(phrase.replacingOccurrences(of: "#", with: $0)) },
            "the document should say \"\(phrase.replacingOccurrences(of: "#", with: spellings[0]))\"")
    }
}

extension ProtocolDocTests.SubProtocol: Equatable {
    static func == (left: Self, right: Self) -> Bool { left.heading == right.heading }
}
